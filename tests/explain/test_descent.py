"""The descent picture: the tangent's slope is the engine's gradient, and the steps go
downhill (or overshoot, or crawl) as the learning rate says."""
import itertools

import numpy as np
import pytest

from chainrule import cli
from chainrule.explain import descent as descent_module
from chainrule.explain import draw_descent


@pytest.fixture(scope="module")
def problem():
    return descent_module.build_problem("logreg", train_steps=5, limit=300)


@pytest.fixture(scope="module")
def result(problem, tmp_path_factory):
    out = tmp_path_factory.mktemp("descent") / "descent.png"
    return draw_descent(problem=problem, out=str(out), steps=4)


def test_the_tangent_slope_is_the_engines_gradient(result):
    assert result["match"]
    np.testing.assert_allclose(result["gradient"], result["numeric_slope"], rtol=1e-6)
    t, y = result["curves"]["tangent"]
    drawn_slope = (y[1] - y[0]) / (t[1] - t[0])
    np.testing.assert_allclose(drawn_slope, result["numeric_slope"], rtol=1e-6)
    assert abs(result["gradient"]) > 1e-4  # the steepest weight, not a flat one


def test_the_picture_is_written(result):
    with open(result["path"], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_loss_curve_is_the_loss(result):
    grid, losses = result["curves"]["grid"], result["curves"]["losses"]
    k = int(np.argmin(np.abs(grid - result["weight"])))
    slope = np.gradient(losses, grid)[k]
    assert np.sign(slope) == np.sign(result["gradient"])
    assert losses.min() <= result["loss"] + 1e-12


def test_steps_walk_down_overshoot_and_crawl(result):
    good = [v for _, v in result["steps"]]
    assert all(b < a for a, b in itertools.pairwise(good))
    bottom = result["bottom"]
    big = [w for w, _ in result["big_steps"]]
    assert np.sign(big[1] - bottom) != np.sign(big[0] - bottom)  # jumped past the bottom
    assert np.sign(big[2] - bottom) == np.sign(big[0] - bottom)  # and back again
    assert abs(big[-1] - bottom) > abs(result["steps"][-1][0] - bottom)
    small = [v for _, v in result["small_steps"]]
    assert all(b < a for a, b in itertools.pairwise(small))
    assert small[-1] > good[-1]  # crawling: still above where the good rate got


def test_the_model_is_left_as_it_was(problem, result):
    model, _, _ = problem
    weight = dict(model.named_parameters())[result["param"]]
    assert float(weight.array[result["index"]]) == result["weight"]


def test_explicit_weight_and_learning_rate(problem):
    r = draw_descent(problem=problem, param="bias", index=(3,), lr=1.0, steps=2, out=None)
    assert r["param"] == "bias" and r["index"] == (3,) and r["lr"] == 1.0
    assert r["match"] and len(r["steps"]) == 3


def test_command_line(tmp_path, capsys):
    out = tmp_path / "d.svg"
    assert cli.main(["explain", "descent", "--train-steps", "2", "--steps", "3",
                     "--examples", "200", "--index", "2,20", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "gradient from the engine" in text and "they match" in text
    assert out.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("args, message", [
    (["--param", "nope"], "no parameter 'nope'"),
    (["--index", "1,x"], "--index wants integers"),
    (["--index", "99,0"], "does not fit weight of shape (10, 64)"),
])
def test_command_line_errors_are_one_line(tmp_path, capsys, args, message):
    code = cli.main(["explain", "descent", "--train-steps", "0", "--examples", "50", *args,
                     "--out", str(tmp_path / "d.png")])
    assert code == 2
    assert message in capsys.readouterr().err

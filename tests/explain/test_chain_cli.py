"""`chainrule explain chain`: the 2-2-1 network worked by hand. Every parameter's gradient
appears as a chain-rule product whose numbers multiply to the printed value, is confirmed
by a finite difference, agrees with PyTorch, and one descent step lowers the loss."""
from __future__ import annotations

import re

import pytest
import torch

from chainrule.cli import main
from chainrule.explain import chain

PARAMETERS = ("c", "v1", "v2", "b1", "w11", "w12", "b2", "w21", "w22")
NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def run(capsys, *args):
    code = main(["explain", "chain", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def gradient_lines(out):
    lines = {}
    for name in PARAMETERS:
        (line,) = [ln for ln in out.splitlines() if ln.strip().startswith(f"dL/d{name} ")]
        lines[name] = line
    return lines


def test_prints_forward_pass_loss_gradients_checks_and_one_step(capsys) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    for name in ("z1", "h1", "z2", "h2", "ŷ", "L "):
        assert re.search(rf"^\s+{name}\s*= ", out, flags=re.MULTILINE), name
    lines = gradient_lines(out)
    assert "dL/dw11 = dL/dŷ · dŷ/dh1 · dh1/dz1 · dz1/dw11" in lines["w11"]
    assert "dL/dc   = dL/dŷ · dŷ/dc " in lines["c"]
    assert "dL/dw22 = dL/dŷ · dŷ/dh2 · dh2/dz2 · dz2/dw22" in lines["w22"]
    assert out.count("✓ matches finite difference") == 9
    assert "✗" not in out
    for name, line in lines.items():
        assert f"{name:<3} ← " in out  # the update of every parameter
        assert "✓ matches finite difference" in line


def test_each_printed_product_multiplies_out_to_its_value(capsys) -> None:
    _, out, _ = run(capsys, "--seed", "3")
    for name, line in gradient_lines(out).items():
        numbers = re.search(rf"= ((?:\({NUMBER}\))+) += +({NUMBER})", line)
        factors = [float(v) for v in re.findall(NUMBER, numbers.group(1))]
        product = 1.0
        for v in factors:
            product *= v
        assert product == pytest.approx(float(numbers.group(2)), rel=1e-3), name  # 4 digits


def test_gradients_agree_with_pytorch() -> None:
    params = chain._initial_parameters(5)
    values = chain._forward(params)
    text_traces = {n: chain.trace(values["L"], params[n]) for n in PARAMETERS}
    t = {n: torch.tensor(p.item(), dtype=torch.float64, requires_grad=True)
         for n, p in params.items()}
    x1, x2, y = chain.EXAMPLE["x1"], chain.EXAMPLE["x2"], chain.EXAMPLE["y"]
    h1 = torch.sigmoid(t["w11"] * x1 + t["w12"] * x2 + t["b1"])
    h2 = torch.sigmoid(t["w21"] * x1 + t["w22"] * x2 + t["b2"])
    loss = (t["v1"] * h1 + t["v2"] * h2 + t["c"] - y) ** 2
    loss.backward()
    assert values["L"].item() == pytest.approx(loss.item(), rel=1e-12)
    for n in PARAMETERS:
        assert float(text_traces[n].product) == pytest.approx(t[n].grad.item(), rel=1e-10)


def test_descent_step_lowers_the_loss(capsys) -> None:
    _, out, _ = run(capsys, "--seed", "1", "--lr", "0.1")
    before = float(re.search(rf"loss before the step: ({NUMBER})", out).group(1))
    after = float(re.search(rf"loss after the step: +({NUMBER})", out).group(1))
    assert after < before
    assert "(down" in out and "lr = 0.1" in out


def test_too_large_a_step_is_called_out(capsys) -> None:
    _, out, _ = run(capsys, "--seed", "3", "--lr", "5")
    assert "UP" in out and "smaller --lr" in out


def test_seed_changes_the_weights(capsys) -> None:
    _, first, _ = run(capsys, "--seed", "0")
    _, second, _ = run(capsys, "--seed", "1")
    assert first != second


def test_bad_learning_rate_is_a_one_line_error(capsys) -> None:
    code, _out, err = run(capsys, "--lr", "0")
    assert code == 2 and "argument --lr: expected a finite number above 0, got '0'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1

"""Graph drawings: DOT text with the right nodes and edges, gradient labels from the engine,
modules collapsed to one node each, and files rendered by Graphviz when it is installed."""
import re
import shutil
import subprocess

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.explain import draw, graph, watch
from chainrule.nn import functional as F

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz missing: bash scripts/install_system.sh")


def nodes(dot):
    return re.findall(r"^\s+(\w+) \[label=", dot, flags=re.MULTILINE)


def edges(dot):
    return re.findall(r"^\s+(\w+) -> (\w+)", dot, flags=re.MULTILINE)


def mlp_loss(watched=False):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 3))
    x, y = cr.randn(2, 4), cr.tensor([0, 2])
    if watched:
        with watch(model):
            return model, F.cross_entropy(model(x), y)
    return model, F.cross_entropy(model(x), y)


def test_mlp_graph_has_every_op_and_leaf_and_edge():
    model, loss = mlp_loss()
    dot = draw(loss, modules=model, collapse=False)
    # 6 ops (3 Linear, 2 Relu, CrossEntropy) + the input + 6 parameters
    assert len(nodes(dot)) == 13
    # each Linear reads 3 tensors, each Relu 1, the loss 1
    assert len(edges(dot)) == 12
    for name in ("0.weight", "2.bias", "4.weight", "CrossEntropy", "Relu", "input\\n(2, 4)"):
        assert name in dot
    assert dot.count("Linear\\n") == 3


@needs_dot
def test_dot_output_is_valid_graphviz():
    model, loss = mlp_loss()
    dot = draw(loss, modules=model, grads=True, collapse=False)
    done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    svg = done.stdout.decode()
    assert svg.count('class="node"') == 13
    assert svg.count('class="edge"') == 12


def test_collapsed_view_has_one_node_per_module():
    model, loss = mlp_loss(watched=True)
    dot = draw(loss, modules=model)
    modules = [n for n in nodes(dot) if n.startswith("mod_")]
    assert modules == ["mod_0", "mod_1", "mod_2", "mod_3", "mod_4"]
    # plus the input and the loss; parameters are folded into their module
    assert len(nodes(dot)) == 7
    assert edges(dot) == [("leaf0", "mod_0"), ("mod_0", "mod_1"), ("mod_1", "mod_2"),
                          ("mod_2", "mod_3"), ("mod_3", "mod_4"), ("mod_4", "op5")]
    assert "#1 Linear [0]" in dot and "#2 ReLU [1]" in dot and "weight (5, 4)" in dot


def test_watch_leaves_the_modules_as_they_were():
    model, _ = mlp_loss(watched=True)
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_without_watch_ops_that_read_parameters_still_group():
    model, loss = mlp_loss()
    dot = draw(loss, modules=model)
    assert [n for n in nodes(dot) if n.startswith("mod_")] == ["mod_0", "mod_2", "mod_4"]
    assert dot.count("Relu\\n") == 2  # parameter-free ops stay as ops


def test_cnn_collapses_to_its_modules():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16, 3))
    with watch(model):
        loss = F.cross_entropy(model(cr.randn(2, 1, 4, 4)), cr.tensor([0, 1]))
    dot = draw(loss, modules=model, grads=True)
    assert [n for n in nodes(dot) if n.startswith("mod_")] == [f"mod_{i}" for i in range(5)]
    assert "#1 Conv2d [0]\\n(2, 4, 4, 4)" in dot and "#3 MaxPool2d [2]\\n(2, 4, 2, 2)" in dot


def test_nested_modules_group_at_the_depth_asked():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.Tanh()), nn.Linear(4, 2))
    with watch(model):
        out = model(cr.randn(5, 3)).sum()
    inner = [n for n in nodes(draw(out, modules=model)) if n.startswith("mod_")]
    outer = [n for n in nodes(draw(out, modules=model, depth=1)) if n.startswith("mod_")]
    assert inner == ["mod_0_0", "mod_0_1", "mod_1"]
    assert outer == ["mod_0", "mod_1"]


def test_edge_labels_are_the_engines_gradient_norms():
    x = cr.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = cr.tensor([1.5, 0.3, -0.7], requires_grad=True)
    a = x * w
    b = a.tanh()
    loss = (b * b).sum()
    dot = draw(loss, grads=True, names={x: "x", w: "w"})
    av = x.array * w.array
    db = 2 * np.tanh(av)
    da = db * (1 - np.tanh(av) ** 2)
    labels = {(s, t): float(lbl) for s, t, lbl in
              re.findall(r"^\s+(\w+) -> (\w+) \[label=\"([^\"]+)\"", dot, flags=re.MULTILINE)}
    values = sorted(labels.values())
    # edges carry x, w, a, b (one edge: both inputs of b * b are b), and b * b (∂/∂ = 1)
    expected = sorted([np.linalg.norm(da * w.array), np.linalg.norm(da * x.array),
                       np.linalg.norm(da), np.linalg.norm(db), np.sqrt(3)])
    np.testing.assert_allclose(values, expected, rtol=5e-3)
    assert '"x\\n(3,)"' in dot and '"w\\n(3,)"' in dot


def test_drawing_gradients_leaves_grad_and_graph_untouched():
    model, loss = mlp_loss()
    draw(loss, grads=True, modules=model)
    assert all(p.grad is None for p in model.parameters())
    loss.backward()  # the graph is still whole
    assert all(p.grad is not None for p in model.parameters())


def test_a_freed_graph_is_explained():
    _, loss = mlp_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        draw(loss)


def test_after_backward_with_retain_graph_gradients_can_be_drawn():
    model, loss = mlp_loss()
    loss.backward(retain_graph=True)
    dot = draw(loss, grads=True, modules=model)
    assert "‖grad‖" in dot


def test_a_leaf_alone_is_one_node():
    dot = draw(cr.ones(3, requires_grad=True), names=None)
    assert len(nodes(dot)) == 1 and not edges(dot)


@needs_dot
@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_files_are_rendered(tmp_path, fmt, magic):
    model, loss = mlp_loss(watched=True)
    path = tmp_path / f"graph.{fmt}"
    draw(loss, modules=model, path=str(path), format=fmt)
    assert path.read_bytes().startswith(magic)


def test_dot_format_and_missing_graphviz(tmp_path, monkeypatch):
    _, loss = mlp_loss()
    text = draw(loss, path=str(tmp_path / "g.dot"), format="dot")
    assert (tmp_path / "g.dot").read_text() == text
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="apt-get install graphviz"):
        draw(loss, path=str(tmp_path / "g.svg"))
    assert (tmp_path / "g.dot").read_text() == text
    assert not (tmp_path / "g.svg").exists()
    with pytest.raises(ValueError, match="format"):
        draw(loss, format="pdf")


def test_constants_made_inside_a_module_fold_into_it():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5), nn.Linear(6, 2))  # training mode
    x = cr.randn(3, 4)
    with watch(model):
        out = model(x).sum()
    flat = draw(out, modules=model, collapse=False)
    assert "constant\\n(3, 6)" in flat and "input\\n(3, 4)" in flat  # the dropout mask
    collapsed = draw(out, modules=model)
    assert "constant" not in collapsed
    assert [n for n in nodes(collapsed) if not n.startswith("mod_")] == ["leaf0", "op3"]


@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                           (".dot", b"digraph")])
def test_the_format_follows_the_suffix(tmp_path, suffix, magic):
    _, loss = mlp_loss()
    path = tmp_path / f"g{suffix}"
    draw(loss, path=str(path))
    assert path.read_bytes().startswith(magic)


def test_constants_are_drawn_with_their_values():
    w = cr.tensor(0.4, requires_grad=True)
    loss = ((w * 2.0).tanh() - 1.0) ** 2
    dot = draw(loss, names={w: "w"})
    assert "constant\\nscalar\\n= 2" in dot and "constant\\nscalar\\n= 1" in dot
    assert 'label="w\\nscalar"' in dot  # a parameter keeps its name, without a value
    small = draw((w * cr.tensor([1.0, 2.5])).sum())
    assert "input\\n(2,)\\n= [1, 2.5]" in small


def test_collapsed_boxes_are_numbered_without_gaps():
    """Flatten of an input and Dropout at evaluation record no op: the boxes that are drawn
    are numbered 1, 2, 3, ... with the module's path beside the number."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 5), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(5, 3)).eval()
    with watch(model):
        loss = F.cross_entropy(model(cr.randn(2, 2, 2)), cr.tensor([0, 2]))
    dot = draw(loss, modules=model)
    titles = re.findall(r'label="(#\d+ \w+ \[\d+\])', dot)
    assert titles == ["#1 Linear [1]", "#2 ReLU [2]", "#3 Linear [4]"]

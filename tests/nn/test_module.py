"""Module (nn/module.py) and the containers against PyTorch: parameter and module order,
train/eval, zero_grad, state_dict keys and loading (with every problem reported at once)."""
from __future__ import annotations

from collections import OrderedDict

import numpy
import pytest
import torch

import chainrule as cr
from chainrule import nn


def mlp(m):
    """Sequential(Linear, BatchNorm1d, ReLU, Dropout, Linear) in either library."""
    return m.nn.Sequential(m.nn.Linear(4, 8), m.nn.BatchNorm1d(8), m.nn.ReLU(),
                           m.nn.Dropout(0.2), m.nn.Linear(8, 3))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(3)
        self.scale = nn.Parameter(cr.ones(3))
        self.layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3, bias=False)])
        self.register_buffer("steps", cr.tensor(0))
        self.register_buffer("cache", cr.zeros(2), persistent=False)

    def forward(self, x):
        for layer in self.layers:
            x = layer(self.norm(x)) * self.scale
        return x


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = torch.nn.LayerNorm(3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3),
                                           torch.nn.Linear(3, 3, bias=False)])
        self.register_buffer("steps", torch.tensor(0))
        self.register_buffer("cache", torch.zeros(2), persistent=False)

    def forward(self, x):
        for layer in self.layers:
            x = layer(self.norm(x)) * self.scale
        return x


def names_and_shapes(pairs):
    return [(name, tuple(t.shape)) for name, t in pairs]


def test_parameters_buffers_and_state_dict_keys_match_torch() -> None:
    for ours, theirs in [(mlp(cr), mlp(torch)), (Block(), TorchBlock())]:
        assert names_and_shapes(ours.named_parameters()) == \
            names_and_shapes(theirs.named_parameters())
        assert [tuple(p.shape) for p in ours.parameters()] == \
            [tuple(p.shape) for p in theirs.parameters()]
        assert names_and_shapes(ours.named_buffers()) == \
            names_and_shapes(theirs.named_buffers())
        assert names_and_shapes(ours.state_dict().items()) == \
            names_and_shapes(theirs.state_dict().items())


def test_children_and_modules_in_torchs_order() -> None:
    ours, theirs = Block(), TorchBlock()
    assert [type(c).__name__ for c in ours.children()] == \
        [type(c).__name__ for c in theirs.children()]
    assert [(n, type(m).__name__) for n, m in ours.named_modules()][1:] == \
        [(n, type(m).__name__) for n, m in theirs.named_modules()][1:]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert len(list(mlp(cr).modules())) == len(list(mlp(torch).modules())) == 6


def test_shared_parameters_are_listed_once() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    tshared = torch.nn.Linear(2, 2)
    tmodel = torch.nn.Sequential(tshared, torch.nn.ReLU(), tshared)
    assert len(list(model.parameters())) == len(list(tmodel.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in tmodel.named_parameters()]


def test_train_and_eval_reach_every_submodule() -> None:
    model = Block()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    model.train(False)
    assert not model.layers[1].training


def test_zero_grad_sets_to_none_or_zeros() -> None:
    model = mlp(cr)
    model(cr.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() and p.grad.shape == p.shape
               for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_loaded_from_torch_reproduces_its_outputs() -> None:
    torch.manual_seed(0)
    theirs = mlp(torch)
    x = numpy.random.default_rng(0).standard_normal((16, 4)).astype(numpy.float32)
    theirs(torch.tensor(x))  # a training step moves the BatchNorm running statistics
    theirs.eval()
    ours = mlp(cr)
    state = {k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    ours.eval()
    numpy.testing.assert_allclose(ours(cr.tensor(x)).numpy(),
                                  theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                                  atol=1e-6)
    assert ours[1].num_batches_tracked.item() == 1
    assert ours[1].num_batches_tracked.dtype == cr.int64


def test_state_dict_is_detached_and_round_trips() -> None:
    model = Block()
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert not any(t.requires_grad for t in state.values())
    other = Block()
    for p in other.parameters():
        p.array = p.array + 1
    other.load_state_dict(state)
    for (name, a), b in zip(model.named_parameters(), other.parameters()):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert other.scale.requires_grad


def test_strict_loading_reports_every_problem_in_one_message() -> None:
    model = mlp(cr)
    state = model.state_dict()
    del state["0.bias"]
    state["4.weight"] = cr.zeros(5, 8)
    state["extra.weight"] = cr.zeros(1)
    with pytest.raises(RuntimeError) as err:
        model.load_state_dict(state)
    message = str(err.value)
    assert "0.bias" in message and "missing" in message
    assert "extra.weight" in message and "unexpected" in message
    assert "4.weight" in message and "(5, 8)" in message and "(3, 8)" in message
    assert isinstance(err.value, nn.StateDictError)


def test_non_strict_loading_returns_the_key_lists() -> None:
    model = mlp(cr)
    state = model.state_dict()
    del state["1.running_var"]
    state["head.bias"] = cr.zeros(3)
    state["0.weight"] = cr.ones(8, 4)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_var"]
    assert result.unexpected_keys == ["head.bias"]
    assert (model[0].weight.numpy() == 1).all()
    bad = model.state_dict()
    bad["0.weight"] = cr.ones(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes must match even so
        model.load_state_dict(bad, strict=False)


def test_non_persistent_buffers_stay_out_of_the_state_dict() -> None:
    model = Block()
    assert "cache" in dict(model.named_buffers())
    assert "cache" not in model.state_dict() and "steps" in model.state_dict()


def test_to_changes_floating_parameters_and_buffers_only() -> None:
    model = mlp(cr).to(cr.float64)
    assert all(p.dtype == cr.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == cr.float64
    assert model[1].num_batches_tracked.dtype == cr.int64
    out = model(cr.randn(3, 4, dtype=cr.float64))
    assert out.dtype == cr.float64


def test_requires_grad_and_apply() -> None:
    model = mlp(cr)
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen.count("Linear") == 2


def test_sequential_repr_matches_torch() -> None:
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.LayerNorm(3),
                         nn.BatchNorm1d(3), nn.Embedding(5, 3), nn.CrossEntropyLoss())
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                                 torch.nn.LayerNorm(3), torch.nn.BatchNorm1d(3),
                                 torch.nn.Embedding(5, 3), torch.nn.CrossEntropyLoss())
    assert repr(ours) == repr(theirs)


def test_assigning_before_init_is_explained() -> None:
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_deleting_and_replacing_registered_attributes() -> None:
    model = Block()
    del model.scale
    assert "scale" not in dict(model.named_parameters())
    model.norm = nn.Identity()
    assert "norm.weight" not in model.state_dict()
    model.layers[0] = nn.Linear(3, 3, bias=False)
    assert "layers.0.bias" not in model.state_dict()


def _stem(m):
    """A model whose first child is replaced after construction, as pytorch/examples'
    siamese network replaces resnet18's conv1 before taking `children()[:-1]`."""
    model = m.nn.Module()
    model.conv1 = m.nn.Conv2d(3, 4, 3)
    model.relu = m.nn.ReLU()
    model.fc = m.nn.Linear(4, 2)
    model.scale = m.nn.Parameter(m.ones(1))
    model.shift = m.nn.Parameter(m.zeros(1))
    model.conv1 = m.nn.Conv2d(1, 4, 3)
    model.scale = m.nn.Parameter(m.ones(2))
    return model


def test_reassigning_a_child_or_parameter_keeps_its_place():
    ours, theirs = _stem(cr), _stem(torch)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.conv1.in_channels == 1 and list(ours.children())[0] is ours.conv1


def test_none_empties_a_registered_child_or_parameter_and_keeps_the_name():
    keys = []
    for m in (cr, torch):
        model = _stem(m)
        model.relu, model.scale = None, None
        assert "relu" in model._modules and model.relu is None
        assert "scale" in model._parameters and model.scale is None
        assert [n for n, _ in model.named_children()] == ["conv1", "fc"]
        keys.append(list(model.state_dict()))
    assert keys[0] == keys[1] and "scale" not in keys[0] and "shift" in keys[0]


@pytest.mark.parametrize("name,value", [("scale", "tensor"), ("fc", "tensor"), ("fc", 3)])
def test_a_registered_name_refuses_other_values_as_pytorch(name, value):
    errors = []
    for m in (cr, torch):
        model = _stem(m)
        with pytest.raises(TypeError) as caught:
            setattr(model, name, m.ones(2) if value == "tensor" else value)
        errors.append(str(caught.value).split(" as ")[1])
    assert errors[0] == errors[1]  # "parameter 'scale' (torch.nn.Parameter or None expected)"


def test_load_state_dict_reports_as_pytorch_and_forgives_num_batches_tracked():
    def run(lib):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        full = net.load_state_dict(net.state_dict())
        old_checkpoint = {k: v for k, v in net.state_dict().items()
                          if not k.endswith("num_batches_tracked")}
        partial = net.load_state_dict(old_checkpoint)
        loose = net.load_state_dict({"0.weight": net[0].weight}, strict=False)
        return repr(full), str(partial), loose.missing_keys, repr(loose)
    assert run(cr) == run(torch)
    assert run(cr)[0] == "<All keys matched successfully>"

"""ParameterList, ParameterDict, Unflatten and Bilinear against PyTorch."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

CASES = [
    case("bilinear", lambda m, a, b, w, c: m.nn.functional.bilinear(a, b, w, c),
         (4, 3), (4, 2), (5, 3, 2), (5,)),
    case("bilinear-batched-no-bias", lambda m, a, b, w: m.nn.functional.bilinear(a, b, w),
         (2, 3, 3), (2, 3, 4), (2, 3, 4)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


def test_bilinear_module_matches_torch():
    theirs, ours = torch.nn.Bilinear(3, 2, 4).double(), cr.nn.Bilinear(3, 2, 4).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    a, b = numpy.ones((5, 3)), numpy.arange(10.0).reshape(5, 2)
    numpy.testing.assert_allclose(ours(cr.tensor(a), cr.tensor(b)).detach().numpy(),
                                  theirs(torch.tensor(a), torch.tensor(b)).detach().numpy())
    assert repr(ours) == repr(theirs)
    assert numpy.abs(cr.nn.Bilinear(4, 9, 2).weight.numpy()).max() <= 0.5


def test_unflatten_matches_torch():
    x = numpy.arange(24.0).reshape(2, 12)
    for dim, size in ((1, (3, 4)), (-1, (2, 2, 3))):
        ours = cr.nn.Unflatten(dim, size)(cr.tensor(x)).numpy()
        theirs = torch.nn.Unflatten(dim, size)(torch.tensor(x)).numpy()
        numpy.testing.assert_array_equal(ours, theirs)
    assert repr(cr.nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))


def test_parameter_list_registers_its_parameters():
    model = cr.nn.Module()
    model.weights = cr.nn.ParameterList([cr.nn.Parameter(cr.ones(2)) for _ in range(2)])
    model.weights.append(cr.zeros(3))                       # a tensor becomes a Parameter
    assert [n for n, _ in model.named_parameters()] == ["weights.0", "weights.1", "weights.2"]
    assert isinstance(model.weights[-1], cr.nn.Parameter) and len(model.weights) == 3
    assert list(model.state_dict()) == ["weights.0", "weights.1", "weights.2"]
    opt = cr.optim.SGD(model.parameters(), lr=1.0)
    sum(p.sum() for p in model.weights).backward()
    opt.step()
    assert model.weights[0].numpy().tolist() == [0.0, 0.0]


def test_parameter_dict_registers_its_parameters():
    params = cr.nn.ParameterDict({"a": cr.nn.Parameter(cr.ones(2))})
    params["b"] = cr.zeros(1)
    assert list(params) == ["a", "b"] and "b" in params and len(params) == 2
    assert [n for n, _ in params.named_parameters()] == ["a", "b"]
    assert params.pop("a").shape == (2,)
    assert list(params.keys()) == ["b"]
    with pytest.raises(KeyError):
        params["zz"]


def _layers(m, n):
    return [m.nn.Linear(i + 1, i + 2) for i in range(n)]


def _shape(container):
    """Each child's name and in_features (or the repeated module's), in order."""
    return [(name, getattr(child, "in_features", None))
            for name, child in container.named_children()]


@pytest.mark.parametrize("kind", ["Sequential", "ModuleList"])
def test_list_editing_renumbers_children_as_pytorch(kind):
    """nflib's NSF_AR: `self.layers += [net(...)]` on a ModuleList."""
    results = []
    for m in (cr, torch):
        make = getattr(m.nn, kind)
        layers = _layers(m, 5)
        box = make(*layers[:2]) if kind == "Sequential" else make(layers[:2])
        box += make(layers[2]) if kind == "Sequential" else [layers[2]]
        box.insert(1, layers[3])
        popped = box.pop(0)
        del box[1]
        box.append(layers[4])
        joined = box + box
        box[0] = layers[0]
        results.append((_shape(box), _shape(joined), list(joined._modules), popped.in_features,
                        len(joined), len(list(joined.parameters()))))
        if kind == "Sequential":
            with pytest.raises(ValueError, match="only objects of Sequential"):
                box += [layers[4]]
    assert results[0] == results[1]


def test_sequential_times_repeats_the_same_modules():
    for m in (cr, torch):
        block = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.ReLU())
        repeated = 2 * (block * 2)
        assert len(repeated) == 8 and repeated[0] is repeated[2] is block[0]
        assert list(repeated._modules) == [str(i) for i in range(8)]
        assert [n for n, _ in repeated.named_children()] == ["0", "1"]  # each module once

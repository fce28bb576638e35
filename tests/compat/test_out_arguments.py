"""`out=` on the functions that PyTorch documents with it (pytorch/tutorials' tensorqs
tutorial: `torch.matmul(tensor, tensor.T, out=y3)` failed), checked against PyTorch."""
import inspect

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.composites.out_forms import OUT_NAMES


def _documents_out(name: str, within: int = 600) -> bool:
    """PyTorch's docstring has `out=` in its signatures (the first lines)."""
    function = getattr(torch, name, None)
    return callable(function) and "out=" in (function.__doc__ or "")[:within]


def test_every_function_pytorch_documents_with_out_takes_it():
    lacking = []
    for name in dir(torch):
        ours = getattr(cr, name, None)
        if name.startswith("_") or ours is None or isinstance(ours, type) \
                or not _documents_out(name):
            continue
        try:
            parameters = inspect.signature(ours).parameters
        except (TypeError, ValueError):
            continue
        if "out" not in parameters and not any(p.kind == p.VAR_KEYWORD
                                               for p in parameters.values()):
            lacking.append(name)
    assert lacking == []


def test_the_list_names_only_functions_pytorch_gives_out():
    assert [name for name in OUT_NAMES if not _documents_out(name, within=5000)] == []


@pytest.mark.parametrize("name, args", [
    ("matmul", lambda t: (t, t.T)), ("mm", lambda t: (t, t)), ("cat", lambda t: ([t, t], 1)),
    ("stack", lambda t: ([t, t],)), ("cumsum", lambda t: (t, 0)), ("tril", lambda t: (t,)),
    ("where", lambda t: (t > 0.5, t, -t)), ("logsumexp", lambda t: (t, 1)),
])
def test_out_holds_pytorchs_result_and_is_returned(name, args):
    data = numpy.random.default_rng(0).random((4, 4)).astype(numpy.float32)
    expected = getattr(torch, name)(*args(torch.tensor(data)))
    out = cr.zeros(3)  # the wrong shape: resized, as PyTorch does
    returned = getattr(cr, name)(*args(cr.tensor(data)), out=out)
    assert returned is out
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_tuple_results_fill_a_tuple_of_outs():
    data = numpy.arange(12.0, dtype=numpy.float32).reshape(3, 4)
    values, indices = cr.empty(3), cr.empty(3, dtype=cr.long)
    returned = cr.max(cr.tensor(data), 1, out=(values, indices))
    expected = torch.max(torch.tensor(data), 1)
    assert returned[0] is values and returned[1] is indices
    numpy.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    numpy.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    with pytest.raises(TypeError, match="sort\\(\\): out= expects a tuple of 2"):
        cr.sort(cr.tensor(data), out=(values,))


def test_out_refuses_a_result_that_needs_grad():
    weight = cr.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        cr.matmul(weight, weight, out=cr.empty(2, 2))


@pytest.mark.parametrize("name, args", [
    ("zeros", (2, 3)), ("ones", (2, 3)), ("full", ((2, 3), 7.0)), ("eye", (2, 3)),
    ("arange", (5.0,)), ("linspace", (0.0, 1.0, 5)), ("logspace", (0.0, 1.0, 5)),
    ("range", (0.0, 4.0)),
])
@pytest.mark.filterwarnings("ignore")  # PyTorch's deprecation of torch.range, resizing
def test_factories_write_into_out(name, args):
    """`torch.zeros(2, 3, out=c)`: the factory fills `c` (resized where its shape differs),
    which is what it returns, as PyTorch's."""
    ours, theirs = cr.empty(2, 3), torch.empty(2, 3)
    got = getattr(cr, name)(*args, out=ours)
    getattr(torch, name)(*args, out=theirs)
    assert got is ours
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_random_factories_fill_out_in_place(name):
    out = cr.zeros(2, 2)
    array = out.array
    assert getattr(cr, name)(2, 2, out=out) is out and out.array is array
    assert (out.numpy() != 0).all()

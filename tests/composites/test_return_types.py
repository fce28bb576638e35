"""Functions returning several tensors return PyTorch's `torch.return_types.<name>`
(composites/return_types.py): the same fields, and printed as PyTorch prints them."""
import numpy
import pytest
import torch

import chainrule as cr

X = numpy.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]], numpy.float32)

CALLS = {
    "max(dim)": lambda m, x: m.max(x, 1),
    "min(dim, keepdim)": lambda m, x: m.min(x, dim=0, keepdim=True),
    "x.max(dim)": lambda m, x: x.max(1),
    "sort": lambda m, x: m.sort(x),
    "sort descending": lambda m, x: x.sort(1, descending=True),
    "topk": lambda m, x: m.topk(x, 2),
    "kthvalue": lambda m, x: m.kthvalue(x, 2),
    "median(dim)": lambda m, x: m.median(x, 1),
    "mode": lambda m, x: m.mode(x, 1),
    "cummax": lambda m, x: m.cummax(x, 1),
    "cummin": lambda m, x: m.cummin(x, 0),
    "aminmax": lambda m, x: m.aminmax(x),
    "slogdet": lambda m, x: m.slogdet(x[:, :2]),
    "frexp": lambda m, x: m.frexp(x),
    "max of all": lambda m, x: m.max(x),
}


@pytest.mark.parametrize("name", CALLS)
def test_prints_as_pytorchs(name):
    ours, theirs = CALLS[name](cr, cr.tensor(X)), CALLS[name](torch, torch.tensor(X))
    assert repr(ours) == repr(theirs)
    assert type(ours).__name__ == type(theirs).__name__ or not isinstance(theirs, tuple)


def test_a_return_type_unpacks_and_names_its_fields():
    values, indices = cr.max(cr.tensor(X), 1)
    result = cr.max(cr.tensor(X), 1)
    assert result.values is result[0] and result.indices is result[1]
    numpy.testing.assert_array_equal(values.numpy(), [3.0, 4.0])
    numpy.testing.assert_array_equal(indices.numpy(), [1, 2])

"""Tensors print as PyTorch prints them (chainrule/printing.py): the same digits, widths,
scientific notation, summaries, line breaks and suffixes, checked against torch's repr
(whose dtypes read `torch.int32` where chainrule's read `int32`)."""
import math

import numpy
import pytest
import torch

import chainrule as cr

VALUES = {
    "fractions": [-0.841471, -0.9092974, 0.841471, 0.9092974],
    "whole floats": [[1.0, 2.0], [3.0, 4.0]],
    "a scalar": 7.5,
    "far apart": [1e-5, 1.0],
    "large whole": [1e10, 1.0],
    "over 1e8": [123456789.0, 1.5],
    "tiny": [[1e-8]],
    "zeros": [0.0, 0.0],
    "negative zero": -0.0,
    "nonfinite whole": [math.inf, 1.0, math.nan],
    "nonfinite fractions": [math.inf, 1.5, -math.inf],
    "wide rows": (numpy.arange(25) / 12 - 1).tolist(),
    "3-d": (numpy.arange(30).reshape(2, 3, 5) / 7).tolist(),
    "4-d": numpy.arange(12.0).reshape(1, 2, 2, 3).tolist(),
}
INTEGERS = {
    "int64 scalar": (3, "int64"),
    "int64 summarised": (numpy.arange(3000).reshape(3, 1000).tolist(), "int64"),
    "int32": ([1, 1], "int32"),
    "int16 widths": ([1, -5, 300], "int16"),
    "bool": ([True, False], "bool"),
}


def same(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "")


@pytest.mark.parametrize("name", VALUES)
def test_floats_print_as_in_torch(name):
    same(cr.tensor(VALUES[name]), torch.tensor(VALUES[name]))
    same(cr.tensor(VALUES[name], dtype=cr.float64), torch.tensor(VALUES[name], dtype=torch.float64))


@pytest.mark.parametrize("name", INTEGERS)
def test_integers_and_bools_print_as_in_torch(name):
    values, dtype = INTEGERS[name]
    same(cr.tensor(values, dtype=getattr(cr, dtype)), torch.tensor(values, dtype=getattr(torch, dtype)))


def test_summaries_empty_tensors_and_the_graph_print_as_in_torch():
    same(cr.arange(2000.0), torch.arange(2000.0))
    same(cr.ones(1000, 2), torch.ones(1000, 2))
    for shape in [(0,), (2, 0)]:
        same(cr.zeros(*shape), torch.zeros(*shape))
        same(cr.zeros(*shape, dtype=cr.int64), torch.zeros(*shape, dtype=torch.int64))
    same(cr.ones(3, requires_grad=True), torch.ones(3, requires_grad=True))
    assert repr(cr.ones(3, requires_grad=True) * 2) == "tensor([2., 2., 2.], grad_fn=<Mul>)"
    wide = "tensor([" + ", ".join(["1.5000"] * 8) + "],\n       grad_fn=<Mul>)"
    assert repr(cr.full((8,), 0.75, requires_grad=True) * 2) == wide


def test_printoptions_as_in_torch():
    values = (numpy.arange(40) / 3).tolist()
    try:
        for options in [dict(precision=2), dict(sci_mode=True), dict(profile="short"),
                        dict(threshold=5, edgeitems=1, linewidth=30), dict(profile="full")]:
            cr.set_printoptions(**options)
            torch.set_printoptions(**options)
            same(cr.tensor(values), torch.tensor(values))
            same(cr.tensor([1.23456, 2.5]), torch.tensor([1.23456, 2.5]))
    finally:
        cr.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_a_tensor_shape_is_a_size_as_in_torch():
    x, y = cr.ones(2, 3), torch.ones(2, 3)
    assert repr(x.shape) == repr(y.shape) == "torch.Size([2, 3])"
    assert x.shape.numel() == y.shape.numel() == 6 and x.shape == (2, 3)
    assert repr(x.size()) == repr(y.size())

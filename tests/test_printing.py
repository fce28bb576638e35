"""Tensors print character for character as PyTorch prints them (chainrule/printing.py)."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

rng = numpy.random.default_rng(0)

ARRAYS = {
    "small floats": numpy.array([[3.1415926, 2.71828], [1.61803, 0.0072897]], numpy.float32),
    "uniform": rng.random((3, 4)).astype(numpy.float32),
    "negative": (rng.random((2, 4)) * 2 - 1).astype(numpy.float32),
    "whole": numpy.array([[1.0, 561.0], [1.0, 1.0]], numpy.float32),
    "negative zeros": numpy.array([[-0.0, -0.0, 1.0], [-0.0, 1.0, 1.0]], numpy.float32),
    "all zeros": numpy.zeros((2, 3), numpy.float32),
    "three decades apart": numpy.array([1e-3, 2.0, 5.0], numpy.float32),
    "tiny": numpy.array([0.5, 1e-5], numpy.float32),
    "huge": numpy.array([3e9, 1.0], numpy.float32),
    "huge whole": numpy.array([2e8, 1e8], numpy.float32),
    "whole spread": numpy.array([1.0, 25000.0], numpy.float32),
    "nan and inf": numpy.array([numpy.nan, 1.5, -numpy.inf, 2.0], numpy.float32),
    "nan and whole": numpy.array([numpy.nan, 1.0, numpy.inf], numpy.float32),
    "only nan": numpy.array([numpy.nan, numpy.nan], numpy.float32),
    "sine": numpy.sin(numpy.linspace(0, 2 * numpy.pi, 25)).astype(numpy.float32),
    "long row": rng.random(40).astype(numpy.float32),
    "scalar": numpy.array(2.5, numpy.float32),
    "whole scalar": numpy.array(25.0, numpy.float32),
    "float64": (rng.random((2, 3)) * 20).astype(numpy.float64),
    "float16": numpy.array([0.5, 1.25], numpy.float16),
    "int64": numpy.array([[2, 4, 6], [3, 6, 9]], numpy.int64),
    "int16": numpy.ones((2, 3), numpy.int16),
    "int32 negative": numpy.array([-100, 7, 12], numpy.int32),
    "uint8": numpy.array([0, 255, 3], numpy.uint8),
    "bool": numpy.array([[True, False], [False, True]]),
    "5-d": rng.random((1, 1, 1, 1, 1)).astype(numpy.float32),
    "3-d": rng.random((2, 2, 3)).astype(numpy.float32),
    "summarised row": numpy.arange(2000, dtype=numpy.float32),
    "summarised cube": rng.random((12, 11, 10)).astype(numpy.float32),
    "summarised ints": numpy.arange(3000, dtype=numpy.int64).reshape(30, 100),
    "empty row": numpy.zeros(0, numpy.float32),
    "empty matrix": numpy.zeros((0, 3), numpy.float32),
    "empty ints": numpy.zeros((2, 0), numpy.int64),
}


@pytest.mark.parametrize("name", ARRAYS)
def test_repr_matches_pytorch(name):
    array = ARRAYS[name]
    assert repr(cr.tensor(array)) == repr(torch.tensor(array))


@pytest.mark.parametrize("name", ["sine", "small floats", "scalar", "long row"])
def test_requires_grad_suffix_wraps_as_pytorch(name):
    array = ARRAYS[name]
    assert repr(cr.tensor(array, requires_grad=True)) == \
        repr(torch.tensor(array, requires_grad=True))


@pytest.mark.parametrize("options", [
    dict(precision=2), dict(sci_mode=True), dict(sci_mode=False), dict(linewidth=40),
    dict(threshold=5), dict(threshold=5, edgeitems=1), dict(profile="short"),
    dict(profile="full"), dict(precision=6, sci_mode=False),
])
def test_printoptions_match_pytorch(options):
    try:
        for m in (cr, torch):
            m.set_printoptions(**options)
        for name in ("uniform", "tiny", "long row", "summarised cube", "int64"):
            array = ARRAYS[name]
            assert repr(cr.tensor(array)) == repr(torch.tensor(array)), name
    finally:
        for m in (cr, torch):
            m.set_printoptions(profile="default")


def test_printoptions_context_restores():
    with cr.printing.printoptions(precision=1):
        assert repr(cr.tensor([1.25])) == "tensor([1.2])"
    assert repr(cr.tensor([1.25])) == "tensor([1.2500])"
    assert cr.printing.get_printoptions()["precision"] == 4


def test_parameter_and_size_print_as_pytorch():
    weights = numpy.array([[0.5, -1.0]], numpy.float32)
    assert repr(cr.nn.Parameter(cr.tensor(weights))) == \
        repr(torch.nn.Parameter(torch.tensor(weights)))
    assert repr(cr.zeros(2, 3).shape) == repr(torch.zeros(2, 3).shape) == \
        "torch.Size([2, 3])"
    assert repr(cr.zeros(2, 3).size()) == "torch.Size([2, 3])"

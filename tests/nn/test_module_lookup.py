"""nn.Module's lookups by dotted name and its remaining conveniences, against torch."""
import numpy
import pytest
import torch

import chainrule as cr


def model(m):
    net = m.nn.Sequential(m.nn.Linear(2, 3), m.nn.BatchNorm1d(3))
    net.register_module("head", m.nn.Linear(3, 1))
    return net


def test_get_submodule_parameter_and_buffer_as_torch():
    ours, theirs = model(cr), model(torch)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert type(ours.get_submodule("1")).__name__ == "BatchNorm1d"
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("head.weight") is ours.head.weight
    assert ours.get_buffer("1.running_mean") is ours[1].running_mean
    for net in (ours, theirs):
        with pytest.raises(AttributeError, match="has no attribute `nothing`"):
            net.get_submodule("0.nothing")
        with pytest.raises(AttributeError, match="has no attribute `bias2`"):
            net.get_parameter("0.bias2")
        with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
            net.get_parameter("1.running_mean")
        with pytest.raises(AttributeError, match="`weight` is not a buffer"):
            net.get_buffer("0.weight")


def test_set_submodule_half_type_and_the_no_ops():
    ours = model(cr)
    ours.set_submodule("head", cr.nn.Linear(3, 2))
    assert ours(cr.randn(4, 2)).shape == (4, 2)
    with pytest.raises(AttributeError):
        ours.set_submodule("missing", cr.nn.ReLU(), strict=True)
    assert ours.half().head.weight.dtype == numpy.float16
    assert ours.type(cr.float64).head.weight.dtype == numpy.float64
    assert ours.share_memory() is ours and ours.compile() is None

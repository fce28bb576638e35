"""group_norm, instance_norm, rms_norm, local_response_norm and their modules against
PyTorch: values, gradients, finite differences and second derivatives."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


CASES = [
    case("group-norm", lambda m, x, w, b: F(m).group_norm(x, 2, w, b), (3, 4, 5), (4,), (4,)),
    case("group-norm-plain-4d", lambda m, x: F(m).group_norm(x, 3, eps=1e-3), (2, 6, 2, 3)),
    case("instance-norm", lambda m, x: F(m).instance_norm(x), (2, 3, 6)),
    case("instance-norm-affine", lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b),
         (2, 3, 2, 3), (3,), (3,)),
    case("rms-norm", lambda m, x, w: F(m).rms_norm(x, (4,), w), (3, 4), (4,)),
    case("rms-norm-2d-eps", lambda m, x: F(m).rms_norm(x, [2, 3], eps=1e-3), (2, 2, 3)),
    case("local-response-norm", lambda m, x: F(m).local_response_norm(x, 3, alpha=0.1),
         (2, 5, 3)),
    case("local-response-norm-even", lambda m, x: F(m).local_response_norm(
        x, 4, alpha=0.5, beta=0.5, k=2.0), (2, 6, 2, 2)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.nn.GroupNorm(2, 4), (3, 4, 5)),
    (lambda m: m.nn.InstanceNorm1d(3, affine=True), (2, 3, 7)),
    (lambda m: m.nn.InstanceNorm2d(3), (3, 4, 4)),
    (lambda m: m.nn.InstanceNorm2d(3, track_running_stats=True), (2, 3, 4, 4)),
    (lambda m: m.nn.InstanceNorm3d(2, affine=True), (2, 2, 2, 3, 2)),
    (lambda m: m.nn.RMSNorm([3, 4]), (2, 3, 4)),
    (lambda m: m.nn.LocalResponseNorm(2), (2, 4, 3, 3)),
    (lambda m: m.nn.BatchNorm3d(2), (3, 2, 2, 3, 2)),
])
def test_modules_match_torch(make, shape):
    theirs, ours = make(torch).double(), make(cr).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    x = numpy.random.default_rng(0).standard_normal(shape)
    for mode in ("train", "eval"):
        getattr(theirs, mode)(), getattr(ours, mode)()
        t_x, c_x = torch.tensor(x, requires_grad=True), cr.tensor(x, requires_grad=True)
        t_y, c_y = theirs(t_x), ours(c_x)
        numpy.testing.assert_allclose(c_y.numpy(), t_y.detach().numpy(), rtol=1e-9, atol=1e-12)
        (t_y ** 2).sum().backward()
        (c_y ** 2).sum().backward()
        numpy.testing.assert_allclose(c_x.grad.numpy(), t_x.grad.numpy(), rtol=1e-8, atol=1e-10)
        for name, value in theirs.state_dict().items():
            numpy.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(),
                                          rtol=1e-10)


def test_group_norm_refuses_indivisible_channels():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        cr.nn.functional.group_norm(cr.zeros(2, 5, 3), 2)

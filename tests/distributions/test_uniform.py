"""`Uniform` (chainrule/distributions/uniform.py) against torch.distributions.Uniform."""
import numpy
import pytest
import torch

import chainrule as cr

LOW, HIGH = numpy.array([0.0, -1.0, 2.0]), numpy.array([1.0, 3.0, 2.5])
VALUES = numpy.array([0.5, -0.5, 2.49])


def _pair(m):
    low = m.tensor(LOW, requires_grad=True)
    high = m.tensor(HIGH, requires_grad=True)
    return low, high, m.distributions.Uniform(low, high)


@pytest.mark.parametrize("name", ["mean", "variance", "stddev", "entropy", "log_prob", "cdf",
                                  "icdf"])
def test_values_and_gradients_match_pytorch(name):
    results = []
    for m in (cr, torch):
        low, high, dist = _pair(m)
        argument = {"log_prob": VALUES, "cdf": VALUES, "icdf": numpy.array([0.1, 0.5, 0.9])}
        value = getattr(dist, name)
        value = value(m.tensor(argument[name])) if name in argument else \
            value() if callable(value) else value
        value.sum().backward()
        results.append((value.detach().numpy(), low.grad.numpy(), high.grad.numpy()))
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_samples_lie_inside_and_rsample_carries_gradients():
    low, high, dist = _pair(cr)
    draws = dist.sample((1000,))
    assert draws.shape == (1000, 3) and not draws.requires_grad
    assert bool(((draws >= low.detach()) & (draws < high.detach())).all())
    dist.rsample((5,)).sum().backward()
    assert low.grad is not None and high.grad is not None


def test_log_prob_outside_the_support_is_minus_infinity_without_validation():
    """(With its default validate_args, PyTorch raises instead, and so does chainrule.)"""
    dist = cr.distributions.Uniform(0.0, 1.0, validate_args=False)
    theirs = torch.distributions.Uniform(0.0, 1.0, validate_args=False)
    numpy.testing.assert_array_equal(dist.log_prob(cr.tensor([2.0, 0.5])).numpy(),
                                     theirs.log_prob(torch.tensor([2.0, 0.5])).numpy())


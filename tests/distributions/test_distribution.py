"""What every distribution shares (chainrule/distributions/distribution.py): its repr,
as PyTorch prints it."""
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("make", [
    lambda m: m.distributions.Normal(0.0, 1.0),
    lambda m: m.distributions.Normal(m.zeros(3), m.ones(3)),
    lambda m: m.distributions.Normal(m.tensor([1.0]), 2.0),
    lambda m: m.distributions.Uniform(0.0, 2.0),
    lambda m: m.distributions.Bernoulli(probs=m.tensor(0.3)),
    lambda m: m.distributions.Bernoulli(logits=m.tensor([0.3, 1.0])),
    lambda m: m.distributions.Categorical(probs=m.tensor([0.2, 0.8])),
    lambda m: m.distributions.Categorical(logits=m.tensor([0.2, 0.8])),
])
def test_distributions_print_as_pytorchs(make):
    assert repr(make(cr)) == repr(make(torch))

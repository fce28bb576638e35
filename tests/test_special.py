"""`torch.special` (chainrule/special.py) against PyTorch: values and gradients."""
import numpy
import pytest
import torch

import chainrule as cr

X = numpy.array([-1.5, 0.0, 0.3, 0.7, 2.0])
P = numpy.array([0.05, 0.3, 0.5, 0.9, 0.99])
NAMES = ["expit", "gammaln", "psi", "digamma", "erf", "erfc", "expm1", "log1p", "exp2",
         "sinc", "round", "i0", "ndtr", "log_ndtr", "entr"]


@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_pytorch(name):
    domain = numpy.abs(X) + 0.1 if name in ("gammaln", "psi", "digamma") else X
    ours = cr.tensor(domain, requires_grad=True)
    theirs = torch.tensor(domain, requires_grad=True)
    got, expected = getattr(cr.special, name)(ours), getattr(torch.special, name)(theirs)
    numpy.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    assert repr(got.detach()) == repr(expected.detach())
    if name not in ("round", "entr"):
        got.sum().backward()
        expected.sum().backward()
        numpy.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8)


def test_the_functions_of_two_arguments_and_of_a_dimension():
    pairs = [("ndtri", (P,)), ("logit", (P,)), ("xlogy", (X, P)), ("xlog1py", (X, P)),
             ("softmax", (X, 0)), ("log_softmax", (X, 0)), ("logsumexp", (X, 0)),
             ("multigammaln", (numpy.abs(X) + 1, 2)), ("polygamma", (1, numpy.abs(X) + 0.5))]
    for name, args in pairs:
        ours = getattr(cr.special, name)(*[cr.tensor(a) if isinstance(a, numpy.ndarray)
                                           else a for a in args])
        theirs = getattr(torch.special, name)(*[torch.tensor(a) if isinstance(a, numpy.ndarray)
                                                else a for a in args])
        # (polygamma agrees with PyTorch to ~3e-10: SciPy and PyTorch sum its series apart)
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-8, err_msg=name)

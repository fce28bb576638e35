"""Uniform, Exponential, Laplace and Independent (distributions/) against
torch.distributions: moments, log_prob, cdf, entropy, their gradients, the shapes and the
spread of samples, and kl_divergence of Independent pairs."""
import numpy
import pytest
import torch

import chainrule as cr
from chainrule import distributions as D

LOW, HIGH = [-1.0, 0.5, 2.0], [1.0, 0.75, 5.0]
CASES = {  # name: (params, values at which to score)
    "Uniform": ((LOW, HIGH), [0.3, 0.7, 4.0]),
    "Exponential": (([0.5, 1.0, 3.0],), [0.1, 2.0, 0.7]),
    "Laplace": (([0.0, 1.0, -2.0], [1.0, 0.3, 2.0]), [0.4, -1.0, 3.0]),
}


def build(m, name, params):
    tensors = [m.tensor(p, dtype=m.float64, requires_grad=True) for p in params]
    return getattr(m.distributions, name)(*tensors), tensors


@pytest.mark.parametrize("name", CASES)
def test_moments_log_prob_cdf_entropy_and_gradients_match_torch(name):
    params, values = CASES[name]
    results = []
    for m in (cr, torch):
        dist, tensors = build(m, name, params)
        value = m.tensor(values, dtype=m.float64)
        scores = [dist.mean, dist.variance, dist.stddev, dist.log_prob(value), dist.cdf(value),
                  dist.entropy()]
        if name == "Uniform":
            scores.append(dist.icdf(m.tensor([0.1, 0.5, 0.9], dtype=m.float64)))
        finite = dist.log_prob(value)[:2].sum() + dist.entropy().sum()
        finite.backward()
        results.append([s.detach().numpy() for s in scores] + [t.grad.numpy() for t in tensors])
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_samples_have_pytorchs_shape_and_spread(name):
    params, _ = CASES[name]
    cr.manual_seed(0)
    dist, tensors = build(cr, name, params)
    theirs, _ = build(torch, name, params)
    draws = dist.rsample((20000,))
    assert tuple(draws.shape) == tuple(theirs.rsample((20000,)).shape) == (20000, 3)
    numpy.testing.assert_allclose(draws.detach().numpy().mean(0), dist.mean.detach().numpy(),
                                  atol=0.06)
    numpy.testing.assert_allclose(draws.detach().numpy().var(0),
                                  dist.variance.detach().numpy(), rtol=0.08)
    draws.sum().backward()  # reparameterised: the draws carry gradients to the parameters
    assert all(t.grad is not None for t in tensors)
    assert not dist.sample((2,)).requires_grad


def test_a_value_outside_the_support_is_refused_unless_validate_args_is_false():
    scores = []
    for m in (cr, torch):
        value = m.tensor([-1.0, 1.0, 2.0])
        for name, params in (("Uniform", (0.0, 2.0)), ("Exponential", (1.5,))):
            kind, tensors = getattr(m.distributions, name), [m.tensor(p) for p in params]
            with pytest.raises(ValueError, match="support"):
                kind(*tensors).log_prob(value)
            scores.append(kind(*tensors, validate_args=False).log_prob(value).numpy())
    numpy.testing.assert_allclose(scores[0], scores[2])
    numpy.testing.assert_allclose(scores[1], scores[3])


def independent(m):
    loc = m.tensor([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]], dtype=m.float64, requires_grad=True)
    scale = m.tensor([[1.0, 2.0, 0.5], [0.3, 1.0, 1.5]], dtype=m.float64)
    base = m.distributions.Normal(loc, scale)
    return m.distributions.Independent(base, 1), loc


def test_independent_sums_over_its_event_dimensions_as_pytorch():
    (ours, our_loc), (theirs, their_loc) = independent(cr), independent(torch)
    assert (ours.batch_shape, ours.event_shape) == (tuple(theirs.batch_shape),
                                                    tuple(theirs.event_shape)) == ((2,), (3,))
    value = numpy.array([[0.5, 0.5, 0.5], [1.0, 2.0, 3.0]])
    for a, b in ((ours.log_prob(cr.tensor(value)), theirs.log_prob(torch.tensor(value))),
                 (ours.entropy(), theirs.entropy())):
        numpy.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    ours.log_prob(cr.tensor(value)).sum().backward()
    theirs.log_prob(torch.tensor(value)).sum().backward()
    numpy.testing.assert_allclose(our_loc.grad.numpy(), their_loc.grad.numpy(), rtol=1e-12)
    assert tuple(ours.rsample((4,)).shape) == tuple(theirs.rsample((4,)).shape) == (4, 2, 3)
    with pytest.raises(ValueError):
        D.Independent(ours.base_dist, 3)


def test_kl_of_independent_normals_matches_torch():
    kls = []
    for m in (cr, torch):
        p, _ = independent(m)
        q = m.distributions.Independent(m.distributions.Normal(
            m.zeros(2, 3, dtype=m.float64), m.ones(2, 3, dtype=m.float64)), 1)
        kls.append(m.distributions.kl_divergence(p, q).detach().numpy())
    numpy.testing.assert_allclose(kls[0], kls[1], rtol=1e-12)


def mvn_params(batch: bool):
    rng = numpy.random.default_rng(0)
    b = rng.standard_normal((2, 3, 3) if batch else (3, 3))
    covariance = b @ numpy.swapaxes(b, -1, -2) + 3 * numpy.eye(3)
    return rng.standard_normal((2, 3) if batch else (3,)), covariance


@pytest.mark.parametrize("form", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("batch", [False, True])
def test_multivariate_normal_matches_torch(form, batch):
    loc, covariance = mvn_params(batch)
    matrix = {"covariance_matrix": covariance, "precision_matrix": numpy.linalg.inv(covariance),
              "scale_tril": numpy.linalg.cholesky(covariance)}[form]
    value = numpy.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    results = []
    for m in (cr, torch):
        mu = m.tensor(loc, requires_grad=True)
        given = m.tensor(matrix, requires_grad=True)
        dist = m.distributions.MultivariateNormal(mu, **{form: given})
        scores = [dist.mean, dist.variance, dist.covariance_matrix, dist.scale_tril,
                  dist.precision_matrix, dist.log_prob(m.tensor(value)), dist.entropy()]
        (dist.log_prob(m.tensor(value)).sum() + dist.entropy().sum()).backward()
        results.append([s.detach().numpy() for s in scores] + [mu.grad.numpy(),
                                                               given.grad.numpy()])
        assert tuple(dist.rsample((5,)).shape) == (5, *(2,) * batch, 3)
        assert (tuple(dist.batch_shape), tuple(dist.event_shape)) == ((2,) * batch, (3,))
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_multivariate_normal_samples_have_its_covariance():
    loc, covariance = mvn_params(False)
    cr.manual_seed(0)
    draws = D.MultivariateNormal(cr.tensor(loc), covariance_matrix=cr.tensor(covariance)
                                 ).sample((40000,)).numpy()
    numpy.testing.assert_allclose(draws.mean(0), loc, atol=0.05)
    numpy.testing.assert_allclose(numpy.cov(draws.T), covariance, atol=0.15)


def test_multivariate_normal_refuses_a_matrix_that_is_not_positive_definite():
    with pytest.raises(ValueError, match="positive definite"):
        D.MultivariateNormal(cr.zeros(2), covariance_matrix=cr.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="exactly one"):
        D.MultivariateNormal(cr.zeros(2))


def test_normal_cdf_and_icdf_match_torch():
    results = []
    for m in (cr, torch):
        loc = m.tensor([0.0, 1.0, -2.0], dtype=m.float64, requires_grad=True)
        dist = m.distributions.Normal(loc, m.tensor([1.0, 0.5, 2.0], dtype=m.float64))
        cdf = dist.cdf(m.tensor([0.3, 1.0, 0.0], dtype=m.float64))
        icdf = dist.icdf(m.tensor([0.1, 0.5, 0.975], dtype=m.float64))
        (cdf.sum() + icdf.sum()).backward()
        results.append([cdf.detach().numpy(), icdf.detach().numpy(), loc.grad.numpy()])
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_kl_of_multivariate_normals_and_of_uniforms_matches_torch():
    loc, covariance = mvn_params(True)
    other = covariance[::-1].copy() + numpy.eye(3)
    kls = []
    for m in (cr, torch):
        mu = m.tensor(loc, requires_grad=True)
        p = m.distributions.MultivariateNormal(mu, covariance_matrix=m.tensor(covariance))
        q = m.distributions.MultivariateNormal(m.zeros(3, dtype=m.float64),
                                               covariance_matrix=m.tensor(other))
        kl = m.distributions.kl_divergence(p, q)
        kl.sum().backward()
        u = m.distributions.kl_divergence(
            m.distributions.Uniform(m.tensor([0.0, 0.0]), m.tensor([1.0, 3.0])),
            m.distributions.Uniform(m.tensor([-1.0, 1.0]), m.tensor([2.0, 4.0])))
        kls.append([kl.detach().numpy(), mu.grad.numpy(), u.numpy()])
    for ours, theirs in zip(*kls):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-6)


TRANSFORMS = {
    "logistic (nflib's prior)": lambda m: m.distributions.TransformedDistribution(
        m.distributions.Uniform(m.zeros(2, dtype=m.float64), m.ones(2, dtype=m.float64)),
        m.distributions.SigmoidTransform().inv),
    "log-normal": lambda m: m.distributions.TransformedDistribution(
        m.distributions.Normal(m.tensor([0.0, 0.5], dtype=m.float64),
                               m.tensor([1.0, 0.3], dtype=m.float64)),
        [m.distributions.ExpTransform(),
         m.distributions.AffineTransform(m.tensor(1.0, dtype=m.float64),
                                         m.tensor(2.0, dtype=m.float64))]),
    "tanh-squashed, one event": lambda m: m.distributions.TransformedDistribution(
        m.distributions.Normal(m.zeros(2, dtype=m.float64), m.ones(2, dtype=m.float64)),
        [m.distributions.TanhTransform(),
         m.distributions.AffineTransform(0.0, m.tensor([2.0, 3.0], dtype=m.float64),
                                         event_dim=1)]),
}


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transformed_distributions_score_as_pytorch(name):
    value = numpy.array([[1.7, 1.9], [1.2, 2.4]])
    results = []
    for m in (cr, torch):
        dist = TRANSFORMS[name](m)
        y = m.tensor(value, requires_grad=True)
        log_prob = dist.log_prob(y)
        log_prob.sum().backward()
        results.append([log_prob.detach().numpy(), y.grad.numpy(),
                        (tuple(dist.batch_shape), tuple(dist.event_shape)),
                        tuple(dist.sample((5,)).shape), dist.has_rsample])
    numpy.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9)
    numpy.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9)
    assert results[0][2:] == results[1][2:]


def test_a_transform_and_its_inverse_undo_each_other():
    x = cr.tensor([-2.0, 0.0, 1.5], dtype=cr.float64)
    for t in (D.ExpTransform(), D.SigmoidTransform(), D.TanhTransform(),
              D.AffineTransform(1.0, 3.0)):
        numpy.testing.assert_allclose(t.inv(t(x)).numpy(), x.numpy(), rtol=1e-9)
        assert t.inv.inv is t
        numpy.testing.assert_allclose(t.inv.log_abs_det_jacobian(t(x), x).numpy(),
                                      -t.log_abs_det_jacobian(x, t(x)).numpy())

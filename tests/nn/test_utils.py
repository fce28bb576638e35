"""nn.utils: gradient clipping (by norm and by value) and parameters as one vector,
against PyTorch; clipping never writes into a gradient array (they may be shared)."""
from __future__ import annotations

import math

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.nn import utils

SHAPES = [(3, 4), (4,), (2, 2, 3)]


def twins(scale=1.0, seed=0):
    """Parameters with identical gradients in both libraries."""
    generator = numpy.random.default_rng(seed)
    ours, theirs = [], []
    for shape in SHAPES:
        data = generator.standard_normal(shape).astype(numpy.float32)
        grad = (generator.standard_normal(shape) * scale).astype(numpy.float32)
        p, t = cr.nn.Parameter(cr.tensor(data)), torch.nn.Parameter(torch.tensor(data))
        p.grad, t.grad = cr.tensor(grad), torch.tensor(grad)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm) -> None:
    norm_type = float(norm_type)
    ours, theirs = twins()
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, cr.Tensor) and total.shape == () and total.dtype == cr.float32
    numpy.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, t in zip(ours, theirs):
        numpy.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert cr.nn.utils.clip_grad_norm_ is utils.clip_grad_norm_


def test_clipped_norm_equals_max_norm() -> None:
    ours, _ = twins(scale=10.0)
    utils.clip_grad_norm_(ours, 1.0)
    after = math.sqrt(sum(float((p.grad.numpy().astype(numpy.float64) ** 2).sum())
                          for p in ours))
    assert after == pytest.approx(1.0, rel=1e-5)


def test_clipping_is_out_of_place_for_shared_gradients() -> None:
    shared = numpy.full((2, 2), 3.0, dtype=numpy.float32)
    a, b = cr.nn.Parameter(cr.zeros(2, 2)), cr.nn.Parameter(cr.zeros(2, 2))
    a.grad, b.grad = cr.Tensor._wrap(shared), cr.Tensor._wrap(shared)  # one array, two grads
    total = utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(math.sqrt(8 * 9.0))
    assert (shared == 3.0).all()  # the shared array was not written into
    coef = 1.0 / (math.sqrt(72.0) + 1e-6)
    numpy.testing.assert_allclose(a.grad.numpy(), 3.0 * coef, rtol=1e-6)
    numpy.testing.assert_allclose(b.grad.numpy(), 3.0 * coef, rtol=1e-6)  # scaled once
    utils.clip_grad_value_([a, b], 0.1)
    assert (shared == 3.0).all()


def test_clip_grad_norm_skips_missing_grads_and_takes_one_tensor() -> None:
    p, q = cr.nn.Parameter(cr.ones(3)), cr.nn.Parameter(cr.ones(2))
    assert utils.clip_grad_norm_([p, q], 1.0).item() == 0.0
    p.grad = cr.tensor([3.0, 0.0, 4.0])
    total = utils.clip_grad_norm_(p, 10.0)  # a single tensor, norm below max: unchanged
    assert total.item() == pytest.approx(5.0) and p.grad.tolist() == [3.0, 0.0, 4.0]
    assert q.grad is None
    model = cr.nn.Linear(3, 2)
    model(cr.randn(4, 3)).sum().backward()
    utils.clip_grad_norm_(model.parameters(), 1e-3)  # a generator works too
    assert utils.get_total_norm([model.weight.grad, model.bias.grad]).item() == \
        pytest.approx(1e-3, rel=1e-3)


def test_non_finite_norm_raises_only_when_asked() -> None:
    ours, theirs = twins()
    ours[0].grad.array[0, 0] = numpy.nan
    theirs[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isnan(total.item()) and math.isnan(expected.item())
    for p, t in zip(ours, theirs):
        numpy.testing.assert_array_equal(numpy.isnan(p.grad.numpy()), t.grad.isnan().numpy())


def test_clip_grad_value_matches_torch() -> None:
    ours, theirs = twins(scale=2.0)
    assert utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        numpy.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_get_total_norm_matches_torch() -> None:
    ours, theirs = twins()
    for norm_type in (2.0, 1.0, math.inf):
        got = utils.get_total_norm([p.grad for p in ours], norm_type)
        expected = torch.nn.utils.get_total_norm([t.grad for t in theirs], norm_type)
        numpy.testing.assert_allclose(got.item(), expected.item(), rtol=1e-6)


def test_parameters_to_vector_and_back() -> None:
    ours, theirs = twins()
    vector = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    numpy.testing.assert_array_equal(vector.numpy(), expected.detach().numpy())
    utils.vector_to_parameters(vector * 2, ours)
    for p, t in zip(ours, theirs):
        numpy.testing.assert_array_equal(p.numpy(), t.detach().numpy() * 2)
    with pytest.raises(ValueError, match="parameters hold 28"):
        utils.vector_to_parameters(cr.zeros(5), ours)

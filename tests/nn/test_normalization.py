"""BatchNorm and LayerNorm (ops/normalization.py, the functional forms and the layers)
against PyTorch: outputs, gradients of input, weight and bias, running statistics over
several training steps, eval mode, finite differences and second derivatives."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import (
    assert_close,
    case,
    op_table_tests,  # tests/ops
)

import chainrule as cr
import chainrule.nn.functional as F

GEN = numpy.random.default_rng(11)
RUNNING_MEAN = GEN.standard_normal(3)
RUNNING_VAR = GEN.uniform(0.5, 2.0, 3)


def running(m, x):
    return m.tensor(RUNNING_MEAN).to(x.dtype), m.tensor(RUNNING_VAR).to(x.dtype)


CASES = [
    case("bn-train-2d", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, None, None, w, b, training=True), (6, 3), (3,), (3,)),
    case("bn-train-3d", lambda m, x, w, b: m.nn.functional.batch_norm(
        x * 2 + 1, None, None, w, b, training=True, eps=1e-3), (4, 3, 5), (3,), (3,)),
    case("bn-train-4d", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, None, None, w, b, training=True), (2, 3, 3, 4), (3,), (3,)),
    case("bn-train-no-affine", lambda m, x: m.nn.functional.batch_norm(
        x, None, None, training=True), (5, 3, 2)),
    case("bn-train-weight-only", lambda m, x, w: m.nn.functional.batch_norm(
        x, None, None, w, None, training=True), (5, 3), (3,)),
    case("bn-eval", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, *running(m, x), w, b, training=False), (4, 3, 2), (3,), (3,)),
    case("bn-eval-no-affine", lambda m, x: m.nn.functional.batch_norm(
        x, *running(m, x), training=False), (4, 3)),
    case("ln", lambda m, x, w, b: m.nn.functional.layer_norm(x, (5,), w, b), (3, 5), (5,),
         (5,)),
    case("ln-2-dims", lambda m, x, w, b: m.nn.functional.layer_norm(
        x * 3 - 1, (3, 4), w, b, eps=1e-3), (2, 3, 4), (3, 4), (3, 4)),
    case("ln-no-affine", lambda m, x: m.nn.functional.layer_norm(x, [4]), (2, 3, 4)),
    case("ln-no-bias", lambda m, x, w: m.nn.functional.layer_norm(x, (4,), w), (3, 4), (4,)),
    case("ln-1d", lambda m, x, w, b: m.nn.functional.layer_norm(x, (6,), w, b), (6,), (6,), (6,)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


# --- the layers, step by step against PyTorch -----------------------------------------------
def close(got, expected, what, tolerance=(1e-5, 1e-5)):
    assert_close(got, expected, numpy.float32, what, tolerance)


def twin_layers(ours, theirs):
    """Give both layers the same random affine parameters (copied from ours)."""
    generator = numpy.random.default_rng(5)
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname
            p.array[...] = generator.uniform(0.5, 1.5, p.shape).astype(p.dtype)
            tp.copy_(torch.tensor(p.numpy()))


def step(ours, theirs, x, seed):
    """One forward/backward with the same batch; compares output and every gradient."""
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, expected = ours(cx), theirs(tx)
    close(y, expected, "output")
    upstream = numpy.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    y.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    close(cx.grad, tx.grad, "d/dinput")
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        close(p.grad, tp.grad, f"d/d{name}")
        p.grad, tp.grad = None, None


BATCH_NORMS = [
    (cr.nn.BatchNorm1d, torch.nn.BatchNorm1d, (16, 4)),
    (cr.nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 4, 5)),
    (cr.nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 4, 3, 5)),
]


@pytest.mark.parametrize("ours_cls, theirs_cls, shape", BATCH_NORMS)
@pytest.mark.parametrize("options", [{}, dict(momentum=None), dict(momentum=0.3, eps=1e-3),
                                     dict(affine=False), dict(bias=False)])
def test_batch_norm_trains_and_evaluates_like_torch(ours_cls, theirs_cls, shape, options):
    ours, theirs = ours_cls(shape[1], **options), theirs_cls(shape[1], **options)
    twin_layers(ours, theirs)
    generator = numpy.random.default_rng(1)
    for i in range(4):  # batches with different statistics
        x = (generator.standard_normal(shape) * (i + 1) + i).astype(numpy.float32)
        step(ours, theirs, x, seed=i)
    close(ours.running_mean, theirs.running_mean, "running_mean", (1e-6, 1e-6))
    close(ours.running_var, theirs.running_var, "running_var", (1e-6, 1e-6))
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4
    assert ours.num_batches_tracked.dtype == cr.int64
    ours.eval()
    theirs.eval()
    x = (generator.standard_normal(shape) * 3 - 2).astype(numpy.float32)
    step(ours, theirs, x, seed=9)  # eval uses the running statistics
    assert ours.num_batches_tracked.item() == 4


def test_batch_norm_without_running_stats_uses_the_batch_in_eval() -> None:
    ours = cr.nn.BatchNorm1d(3, track_running_stats=False)
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False)
    assert ours.running_mean is None and ours.num_batches_tracked is None
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    x = numpy.random.default_rng(0).standard_normal((6, 3)).astype(numpy.float32) * 2 + 1
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        step(ours, theirs, x, seed=0)


def test_batch_norm_layers_match_torch_structure() -> None:
    ours, theirs = cr.nn.BatchNorm2d(5), torch.nn.BatchNorm2d(5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert repr(ours) == repr(theirs)
    assert repr(cr.nn.BatchNorm1d(3, momentum=None, affine=False)) == \
        repr(torch.nn.BatchNorm1d(3, momentum=None, affine=False))
    assert list(cr.nn.BatchNorm1d(3, bias=False).state_dict()) == \
        list(torch.nn.BatchNorm1d(3, bias=False).state_dict())
    assert ours.weight.tolist() == [1.0] * 5 and ours.bias.tolist() == [0.0] * 5
    assert ours.running_var.tolist() == [1.0] * 5
    assert list(cr.nn.BatchNorm1d(2, affine=False).parameters()) == []


def test_batch_norm_reset_running_stats() -> None:
    bn = cr.nn.BatchNorm1d(2)
    bn(cr.randn(8, 2) * 5 + 3)
    assert bn.num_batches_tracked.item() == 1 and bn.running_mean.numpy().max() > 0.1
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


def test_batch_norm_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input"):
        cr.nn.BatchNorm1d(3)(cr.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input"):
        cr.nn.BatchNorm2d(3)(cr.randn(2, 3))
    with pytest.raises(ValueError, match="has 4 channels"):
        cr.nn.BatchNorm1d(3)(cr.randn(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        cr.nn.BatchNorm1d(3)(cr.randn(1, 3))
    with pytest.raises(ValueError, match="running_mean should have 3 elements"):
        F.batch_norm(cr.randn(4, 3), cr.zeros(4), cr.ones(3), training=False)
    with pytest.raises(ValueError, match="must be given when not training"):
        F.batch_norm(cr.randn(4, 3), None, None, training=False)


@pytest.mark.parametrize("shape, normalized_shape, options", [
    ((4, 6), 6, {}),
    ((2, 3, 5), (5,), dict(eps=1e-3)),
    ((2, 3, 4, 5), (4, 5), {}),
    ((3, 6), [6], dict(elementwise_affine=False)),
    ((3, 6), 6, dict(bias=False)),
])
def test_layer_norm_layer_matches_torch(shape, normalized_shape, options) -> None:
    ours = cr.nn.LayerNorm(normalized_shape, **options)
    theirs = torch.nn.LayerNorm(normalized_shape, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    twin_layers(ours, theirs)
    x = numpy.random.default_rng(2).standard_normal(shape).astype(numpy.float32) * 3 + 1
    step(ours, theirs, x, seed=3)
    ours.eval()
    theirs.eval()
    step(ours, theirs, x, seed=4)  # LayerNorm is the same in both modes


def test_layer_norm_errors_name_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"normalized_shape=\[4\].*\[\*, 4\].*\(2, 3\)"):
        F.layer_norm(cr.randn(2, 3), (4,))
    with pytest.raises(ValueError, match="weight should have shape"):
        F.layer_norm(cr.randn(2, 3), (3,), weight=cr.ones(4))
    with pytest.raises(ValueError):
        cr.nn.LayerNorm(4)(cr.randn(4, 3))


def test_normalized_output_has_zero_mean_unit_variance() -> None:
    x = cr.randn(64, 3, 8, 8, dtype=cr.float64) * 4 + 7
    y = cr.nn.BatchNorm2d(3, dtype=cr.float64)(x).numpy()
    numpy.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    numpy.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)
    z = cr.nn.LayerNorm(16, dtype=cr.float64)(x.reshape(-1, 16)).numpy()
    numpy.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-10)

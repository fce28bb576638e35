"""Losses (nn/functional/loss.py, ops/loss.py) and their modules against PyTorch: values,
gradients of inputs (and of soft targets), finite differences, second derivatives, and the
error messages."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

from .harness import case, op_table_tests

GEN = numpy.random.default_rng(7)
Y4 = numpy.array([0, 2, 1, 2])  # class indices for 4 samples of 3 classes
Y_IGNORED = numpy.array([0, -100, 2, 1])
Y_ND = GEN.integers(0, 3, (2, 4))  # for (2, 3, 4) logits
Y_ND3 = GEN.integers(0, 3, (2, 2, 3))  # for (2, 3, 2, 3) logits
W3 = numpy.array([0.2, 1.0, 3.0])


def weight(m, x, w=W3):
    return m.tensor(w).to(x.dtype)


CASES = [
    # regression
    case("mse", lambda m, x, y: m.nn.functional.mse_loss(x, y), (3, 4), (3, 4)),
    case("mse-sum", lambda m, x, y: m.nn.functional.mse_loss(x, y, reduction="sum"),
         (5,), (5,)),
    case("mse-none", lambda m, x, y: m.nn.functional.mse_loss(x, y, reduction="none"),
         (2, 3), (2, 3)),
    case("mse-weight", lambda m, x, y, w: m.nn.functional.mse_loss(x, y, weight=w.sigmoid()),
         (3, 4), (3, 4), (3, 4)),
    case("l1-weight-sum", lambda m, x, y, w: m.nn.functional.l1_loss(
        x * 3, y, weight=w.sigmoid(), reduction="sum"), (3, 4), (3, 4), (3, 4)),
    case("l1", lambda m, x, y: m.nn.functional.l1_loss(x * 3, y), (3, 4), (3, 4)),
    case("l1-none", lambda m, x, y: m.nn.functional.l1_loss(x * 3, y, reduction="none"),
         (2, 3), (2, 3)),
    # cross-entropy with class indices
    case("ce", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(Y4)), (4, 3)),
    case("ce-sum", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(Y4),
                                                              reduction="sum"), (4, 3)),
    case("ce-none", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(Y4),
                                                               reduction="none"), (4, 3)),
    case("ce-weight", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y4), weight=weight(m, x)), (4, 3)),
    case("ce-weight-none", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y4), weight=weight(m, x), reduction="none"), (4, 3)),
    case("ce-ignore", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(Y_IGNORED)),
         (4, 3)),
    case("ce-ignore-index-0", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y4), ignore_index=0, reduction="sum"), (4, 3)),
    case("ce-smoothing", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y4), label_smoothing=0.2), (4, 3)),
    case("ce-smoothing-none", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y4), label_smoothing=0.3, reduction="none"), (4, 3)),
    case("ce-all-options", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y_IGNORED), weight=weight(m, x), label_smoothing=0.25), (4, 3)),
    case("ce-all-options-sum", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y_IGNORED), weight=weight(m, x), label_smoothing=0.1,
        reduction="sum"), (4, 3)),
    case("ce-nd", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(Y_ND)), (2, 3, 4)),
    case("ce-nd-none", lambda m, x: m.nn.functional.cross_entropy(
        x, m.tensor(Y_ND3), reduction="none", label_smoothing=0.1), (2, 3, 2, 3)),
    case("ce-unbatched", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(2)), (5,)),
    # cross-entropy with class probabilities (the target gets a gradient too)
    case("ce-probs", lambda m, x, t: m.nn.functional.cross_entropy(x, t.softmax(1)),
         (4, 3), (4, 3)),
    case("ce-probs-options", lambda m, x, t: m.nn.functional.cross_entropy(
        x, t.softmax(1), weight=weight(m, x), label_smoothing=0.2, reduction="sum"),
         (4, 3), (4, 3)),
    case("ce-probs-nd-none", lambda m, x, t: m.nn.functional.cross_entropy(
        x, t.softmax(1), reduction="none"), (2, 3, 4), (2, 3, 4)),
    # negative log-likelihood
    case("nll", lambda m, x: m.nn.functional.nll_loss(x.log_softmax(1), m.tensor(Y4)),
         (4, 3)),
    case("nll-weight-ignore", lambda m, x: m.nn.functional.nll_loss(
        x.log_softmax(1), m.tensor(Y_IGNORED), weight=weight(m, x)), (4, 3)),
    case("nll-none", lambda m, x: m.nn.functional.nll_loss(x, m.tensor(Y_IGNORED),
                                                           reduction="none"), (4, 3)),
    case("nll-nd-sum", lambda m, x: m.nn.functional.nll_loss(x, m.tensor(Y_ND),
                                                             reduction="sum"), (2, 3, 4)),
    # binary cross-entropy: both input and target get gradients
    case("bce", lambda m, x, t: m.nn.functional.binary_cross_entropy(x.sigmoid(), t.sigmoid()),
         (3, 4), (3, 4)),
    case("bce-weight-none", lambda m, x, t: m.nn.functional.binary_cross_entropy(
        x.sigmoid(), t.sigmoid(), weight=weight(m, x, numpy.array([1.0, 2.0, 0.5, 3.0])),
        reduction="none"), (3, 4), (3, 4)),
    case("bce-logits", lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(
        x * 3, t.sigmoid()), (3, 4), (3, 4)),
    case("bce-logits-pos-weight", lambda m, x, t:
         m.nn.functional.binary_cross_entropy_with_logits(
             x * 3, t.sigmoid(), pos_weight=weight(m, x, numpy.array([0.5, 1.0, 2.0, 4.0])),
             weight=weight(m, x, numpy.array([[1.0], [2.0], [0.1]])), reduction="sum"),
         (3, 4), (3, 4)),
]

MODULES = [
    case("MSELoss", lambda m, x, y: m.nn.MSELoss()(x, y), (3, 2), (3, 2)),
    case("L1Loss-sum", lambda m, x, y: m.nn.L1Loss(reduction="sum")(x, y), (3, 2), (3, 2)),
    case("CrossEntropyLoss", lambda m, x: m.nn.CrossEntropyLoss(
        weight=weight(m, x), ignore_index=1, label_smoothing=0.1)(x, m.tensor(Y4)), (4, 3)),
    case("NLLLoss", lambda m, x: m.nn.NLLLoss(reduction="none")(x, m.tensor(Y4)), (4, 3)),
    case("BCELoss", lambda m, x, t: m.nn.BCELoss()(x.sigmoid(), t.sigmoid()), (2, 3), (2, 3)),
    case("BCEWithLogitsLoss", lambda m, x, t: m.nn.BCEWithLogitsLoss(
        pos_weight=weight(m, x, numpy.array([1.0, 3.0, 0.5])))(x, t.sigmoid()),
         (2, 3), (2, 3)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, compared=MODULES)


# --- numerics at the edges -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
@pytest.mark.parametrize("pos_weight", [None, [2.0, 0.5, 1.0, 3.0]])
def test_bce_with_logits_is_finite_and_exact_at_huge_logits(dtype, pos_weight) -> None:
    logits = [[1000.0, -1000.0, 1000.0, -1000.0], [30.0, -30.0, 0.0, 88.0]]
    target = [[0.0, 1.0, 1.0, 0.0], [0.5, 0.5, 1.0, 0.2]]
    tdtype = getattr(torch, str(dtype))
    x, t = cr.tensor(logits, dtype=dtype, requires_grad=True), cr.tensor(target, dtype=dtype)
    tx, tt = torch.tensor(logits, dtype=tdtype, requires_grad=True), torch.tensor(
        target, dtype=tdtype)
    kwargs = {} if pos_weight is None else {"pos_weight": cr.tensor(pos_weight, dtype=dtype)}
    tkwargs = {} if pos_weight is None else {"pos_weight": torch.tensor(pos_weight,
                                                                        dtype=tdtype)}
    got = F.binary_cross_entropy_with_logits(x, t, reduction="none", **kwargs)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(tx, tt, reduction="none",
                                                                    **tkwargs)
    assert numpy.isfinite(got.numpy()).all()
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-6)
    got.sum().backward()
    expected.sum().backward()
    assert numpy.isfinite(x.grad.numpy()).all()
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_bce_clamps_the_log_at_minus_100_as_torch() -> None:
    p, y = [0.0, 1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 0.0, 1.0, 1.0]
    x, tx = cr.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    got = F.binary_cross_entropy(x, cr.tensor(y), reduction="none")
    expected = torch.nn.functional.binary_cross_entropy(tx, torch.tensor(y), reduction="none")
    numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-6)
    assert got.numpy()[0] == 100.0
    got.sum().backward()
    expected.sum().backward()
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_cross_entropy_of_extreme_logits_is_finite(dtype) -> None:
    logits = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [50.0, 1000.0, 999.0]]
    x = cr.tensor(logits, dtype=dtype, requires_grad=True)
    tx = torch.tensor(logits, dtype=getattr(torch, str(dtype)), requires_grad=True)
    got = F.cross_entropy(x, cr.tensor([1, 0, 2]), label_smoothing=0.1)
    expected = torch.nn.functional.cross_entropy(tx, torch.tensor([1, 0, 2]),
                                                 label_smoothing=0.1)
    numpy.testing.assert_allclose(got.item(), expected.item(), rtol=1e-6)
    got.backward()
    expected.backward()
    numpy.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_cross_entropy_is_one_fused_node() -> None:
    x = cr.randn(8, 5, requires_grad=True)
    loss = F.cross_entropy(x, cr.randint(0, 5, (8,)))
    assert loss.grad_fn.name == "CrossEntropy"
    assert loss.grad_fn.inputs[0] is x
    assert loss.dtype == cr.float32 and loss.shape == ()


def test_cross_entropy_with_every_target_ignored_is_nan_as_torch() -> None:
    x = numpy.random.default_rng(0).standard_normal((3, 4)).astype(numpy.float32)
    y = [-100, -100, -100]
    got = F.cross_entropy(cr.tensor(x), cr.tensor(y))
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y))
    assert numpy.isnan(got.item()) and numpy.isnan(expected.item())
    got_sum = F.cross_entropy(cr.tensor(x), cr.tensor(y), reduction="sum")
    assert got_sum.item() == 0.0


def test_cross_entropy_larger_batch_matches_torch() -> None:
    generator = numpy.random.default_rng(3)
    x = generator.standard_normal((256, 10)).astype(numpy.float32) * 4
    y = generator.integers(0, 10, 256)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(cx, cr.tensor(y))
    expected = torch.nn.functional.cross_entropy(tx, torch.tensor(y))
    loss.backward()
    expected.backward()
    numpy.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    numpy.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-8)


# --- error messages ----------------------------------------------------------------------
def test_cross_entropy_target_of_wrong_shape_names_both_shapes() -> None:
    with pytest.raises(ValueError) as err:
        F.cross_entropy(cr.randn(4, 3), cr.tensor([0, 1, 2]))
    assert "(3,)" in str(err.value) and "(4, 3)" in str(err.value) and "(4,)" in str(err.value)
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        F.cross_entropy(cr.randn(2, 3, 4), cr.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="target has shape"):
        F.nll_loss(cr.randn(4, 3), cr.tensor([0, 1]))


def test_cross_entropy_class_out_of_range_says_so() -> None:
    with pytest.raises(IndexError, match="target class 3 is out of range for 3 classes"):
        F.cross_entropy(cr.randn(4, 3), cr.tensor([0, 3, 1, 2]))
    with pytest.raises(IndexError, match="target class -1 is out of range"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([-1, 0]))
    with pytest.raises(IndexError, match="out of range"):
        F.nll_loss(cr.randn(2, 3), cr.tensor([0, 7]))
    # ignore_index itself is allowed even when outside 0..C-1
    F.cross_entropy(cr.randn(2, 3), cr.tensor([-5, 0]), ignore_index=-5)


def test_cross_entropy_target_dtype_errors_are_explained() -> None:
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(cr.randn(4, 3), cr.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(cr.randn(4, 3), cr.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(cr.randn(4, 3), cr.tensor([0, 1, 2, 1]), weight=cr.ones(4))


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.binary_cross_entropy_with_logits])
def test_invalid_reduction_is_rejected(fn) -> None:
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        fn(cr.rand(3), cr.rand(3), reduction="avg")


def test_binary_cross_entropy_checks_shapes_and_range() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"target size \(\(3,\)\)"):
        F.binary_cross_entropy(cr.rand(2), cr.rand(3))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(cr.rand(2, 1), cr.rand(2))


def test_mse_warns_when_target_broadcasts() -> None:
    with pytest.warns(UserWarning, match="different to the input size"):
        loss = F.mse_loss(cr.ones(3, 1), cr.zeros(3))
    assert loss.item() == 1.0


def test_legacy_size_average_and_reduce_map_to_reduction() -> None:
    x, y = cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])
    with pytest.warns(DeprecationWarning):
        assert F.mse_loss(x, y, size_average=False).item() == 10.0
    with pytest.warns(DeprecationWarning):
        assert F.mse_loss(x, y, reduce=False).tolist() == [1.0, 9.0]
    with pytest.warns(DeprecationWarning):
        assert cr.nn.L1Loss(size_average=True).reduction == "mean"


# --- one_hot and the modules -------------------------------------------------------------
def test_one_hot_matches_torch() -> None:
    labels = [[0, 2], [1, 4]]
    got = F.one_hot(cr.tensor(labels))
    expected = torch.nn.functional.one_hot(torch.tensor(labels))
    assert got.dtype == cr.int64 and got.tolist() == expected.tolist()
    assert F.one_hot(cr.tensor([1, 0]), num_classes=4).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(cr.tensor([3]), num_classes=3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(cr.tensor([-1, 2]))
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(cr.tensor([1.0]))


def test_loss_modules_keep_weights_as_buffers_like_torch() -> None:
    w = [0.5, 1.0, 2.0]
    ours = cr.nn.CrossEntropyLoss(weight=cr.tensor(w), label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(cr.nn.BCEWithLogitsLoss(pos_weight=cr.ones(2)).state_dict()) == \
        list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(2)).state_dict())
    assert not list(ours.parameters())
    assert list(cr.nn.MSELoss().state_dict()) == []
    assert repr(cr.nn.MSELoss()) == repr(torch.nn.MSELoss())
    assert cr.nn.NLLLoss().ignore_index == -100 and cr.nn.CrossEntropyLoss().reduction == "mean"

"""CTC, multi-label margin and NLLLoss2d against PyTorch (values, gradients, finite
differences), and the loss modules' options."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore:.*NLLLoss2d.*:FutureWarning")
RNG = numpy.random.default_rng(11)
# (N, S) padded targets; the 1-D form is the same labels concatenated
PADDED = numpy.array([[1, 2, 2, 3], [4, 1, 0, 0], [3, 3, 1, 0]])
TARGET_LENGTHS = [4, 2, 3]
INPUT_LENGTHS = [9, 7, 6]
CONCATENATED = numpy.concatenate([row[:n] for row, n in zip(PADDED, TARGET_LENGTHS)])
MULTILABEL = numpy.array([[3, 0, -1, 1, 2], [1, 1, -1, 3, 0], [0, 1, 2, 3, 4],
                          [-1, 2, 0, 0, 0]])
CLASS_MAP = RNG.integers(0, 4, size=(2, 3, 3))


def F(m):
    return m.nn.functional


def labels(m, array):
    return (torch.tensor if m is torch else cr.tensor)(numpy.asarray(array))


def ctc(m, x, targets=PADDED, reduction="mean", **options):
    """CTC on log_softmax(x): the input PyTorch documents (its backward assumes it)."""
    return F(m).ctc_loss(F(m).log_softmax(x, 2), labels(m, targets),
                         labels(m, INPUT_LENGTHS), labels(m, TARGET_LENGTHS),
                         reduction=reduction, **options)


CASES = [
    case("ctc-mean", lambda m, x: ctc(m, x), (9, 3, 5)),
    case("ctc-sum-concatenated", lambda m, x: ctc(m, x, CONCATENATED, "sum"), (9, 3, 5)),
    case("ctc-none-blank-last", lambda m, x: F(m).ctc_loss(
        F(m).log_softmax(x, 2), labels(m, numpy.where(PADDED == 4, 0, PADDED)), (9, 7, 6),
        (4, 2, 3), blank=4, reduction="none"), (9, 3, 5)),
    case("ctc-unbatched", lambda m, x: F(m).ctc_loss(
        F(m).log_softmax(x, 1), labels(m, [2, 2, 1]), labels(m, 6), labels(m, 3)), (6, 4)),
    case("ctc-empty-target", lambda m, x: F(m).ctc_loss(
        F(m).log_softmax(x, 2), labels(m, [[1, 2], [0, 0]]), [5, 4], [2, 0],
        reduction="none"), (5, 2, 3)),
    case("ctc-all-targets-empty", lambda m, x: F(m).ctc_loss(
        F(m).log_softmax(x, 2), labels(m, numpy.zeros((2, 0), dtype=numpy.int64)), [4, 3],
        [0, 0], reduction="none"), (4, 2, 3)),
    case("multilabel-margin", lambda m, x: F(m).multilabel_margin_loss(
        x, labels(m, MULTILABEL)), (4, 5), kinks=()),
    case("multilabel-margin-none-1d", lambda m, x: F(m).multilabel_margin_loss(
        x, labels(m, MULTILABEL[0]), reduction="none"), (5,)),
]

MODULES = [
    case("CTCLoss", lambda m, x: m.nn.CTCLoss(reduction="sum", zero_infinity=True)(
        F(m).log_softmax(x, 2), labels(m, PADDED), INPUT_LENGTHS, TARGET_LENGTHS),
         (9, 3, 5)),
    case("MultiLabelMarginLoss", lambda m, x: m.nn.MultiLabelMarginLoss(reduction="sum")(
        x, labels(m, MULTILABEL)), (4, 5)),
    case("NLLLoss2d", lambda m, x: m.nn.NLLLoss2d(ignore_index=2)(
        F(m).log_softmax(x, 1), labels(m, CLASS_MAP)), (2, 4, 3, 3)),
]

# PyTorch has no second derivative of ctc_loss or multilabel_margin_loss to compare with
(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 _) = op_table_tests([], first_order=CASES, compared=MODULES)


def _both(targets, input_lengths, target_lengths, **options):
    x = RNG.standard_normal((6, len(input_lengths), 4))
    ours = F(cr).ctc_loss(cr.tensor(x).log_softmax(2), cr.tensor(targets), input_lengths,
                          target_lengths, **options)
    theirs = F(torch).ctc_loss(torch.tensor(x).log_softmax(2), torch.tensor(targets),
                               input_lengths, target_lengths, **options)
    return ours, theirs


def test_an_impossible_alignment_is_inf_or_zero_as_torch():
    # [1, 1, 1] needs 5 frames (blanks between repeats); 4 are given
    for zero_infinity in (False, True):
        ours, theirs = _both([[1, 1, 1], [2, 3, 0]], [4, 6], [3, 2], reduction="none",
                             zero_infinity=zero_infinity)
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    x = cr.tensor(RNG.standard_normal((4, 1, 3)), requires_grad=True)
    F(cr).ctc_loss(x.log_softmax(2), cr.tensor([[1, 1, 1]]), [4], [3],
                   zero_infinity=True).backward()
    assert numpy.all(x.grad.numpy() == 0)          # the infinite loss is cut with its gradient


def test_ctc_module_and_bad_input_messages():
    x = cr.randn(6, 2, 4).log_softmax(2)
    assert "reduction" not in repr(cr.nn.CTCLoss()) and cr.nn.CTCLoss(blank=3).blank == 3
    with pytest.raises(ValueError, match="ctc_loss: blank 4"):
        F(cr).ctc_loss(x, cr.tensor([[1], [2]]), [6, 6], [1, 1], blank=4)
    with pytest.raises(ValueError, match="ctc_loss: input_lengths"):
        F(cr).ctc_loss(x, cr.tensor([[1], [2]]), [7, 6], [1, 1])
    with pytest.raises(ValueError, match="ctc_loss: targets must be classes"):
        F(cr).ctc_loss(x, cr.tensor([[0], [2]]), [6, 6], [1, 1])
    with pytest.raises(ValueError, match="concatenated targets have 3"):
        F(cr).ctc_loss(x, cr.tensor([1, 2, 3]), [6, 6], [1, 1])
    with pytest.raises(ValueError, match=r"log_probs must be \(T, N, C\)"):
        F(cr).ctc_loss(cr.randn(2, 2, 2, 2), cr.tensor([1]), [1], [1])


def test_multilabel_margin_counts_a_repeated_target_as_torch_and_checks_shapes():
    x = RNG.standard_normal((2, 4))
    targets = numpy.array([[2, 2, -1, 0], [3, -1, 3, 3]])
    ours = F(cr).multilabel_margin_loss(cr.tensor(x), cr.tensor(targets), reduction="none")
    theirs = F(torch).multilabel_margin_loss(torch.tensor(x), torch.tensor(targets),
                                             reduction="none")
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="multilabel_margin_loss: input and target"):
        F(cr).multilabel_margin_loss(cr.tensor(x), cr.tensor(targets[:1]))
    with pytest.raises(IndexError, match="out of range for 4 classes"):
        F(cr).multilabel_margin_loss(cr.tensor(x), cr.tensor(targets + 1))


def test_nllloss2d_warns_that_it_is_deprecated_as_torch():
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        cr.nn.NLLLoss2d()

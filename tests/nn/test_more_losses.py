"""Smooth L1, Huber, KL, Poisson/Gaussian NLL, the margin and embedding losses, cosine
similarity, pairwise distance and normalize against PyTorch: values, gradients, finite
differences and second derivatives."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

RNG = numpy.random.default_rng(7)
SIGNS = numpy.where(RNG.random(6) > 0.5, 1.0, -1.0)
PAIR_SIGNS = numpy.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
TARGETS = RNG.standard_normal((3, 4))
PROBS = RNG.dirichlet(numpy.ones(4), size=3)
PROBS[0, 1] = 0.0                                      # a zero target probability
COUNTS = numpy.array([[0, 1, 2, 5], [3, 0, 1, 1], [7, 2, 0, 4]], dtype=float)
LABELS01 = (RNG.random((3, 4)) > 0.5).astype(float)
CLASSES = numpy.array([2, 0, 3])


def F(m):
    return m.nn.functional


def const(m, x, array):
    """A target of x's dtype (no gradient)."""
    if m is torch:
        return torch.tensor(array, dtype=x.dtype)
    return cr.tensor(array, dtype=x.dtype)


def labels(m, array):
    return (torch.tensor if m is torch else cr.tensor)(array)


CASES = [
    case("smooth-l1", lambda m, x: F(m).smooth_l1_loss(x * 2, const(m, x, TARGETS)), (3, 4)),
    case("smooth-l1-beta-none", lambda m, x: F(m).smooth_l1_loss(
        x * 2, const(m, x, TARGETS), reduction="none", beta=0.5), (3, 4)),
    case("huber", lambda m, x: F(m).huber_loss(x * 2, const(m, x, TARGETS), delta=0.7), (3, 4)),
    case("huber-sum", lambda m, x: F(m).huber_loss(x * 2, const(m, x, TARGETS),
                                                   reduction="sum"), (3, 4)),
    case("kl-div-batchmean", lambda m, x: F(m).kl_div(F(m).log_softmax(x, 1),
                                                      const(m, x, PROBS), reduction="batchmean"),
         (3, 4)),
    case("kl-div-log-target", lambda m, x: F(m).kl_div(
        x, const(m, x, numpy.log(PROBS + 0.1)), reduction="sum", log_target=True), (3, 4)),
    case("kl-div-target-grad", lambda m, x, t: F(m).kl_div(x, t * t + 0.1, reduction="none"),
         (3, 4), (3, 4)),
    case("poisson-nll", lambda m, x: F(m).poisson_nll_loss(x, const(m, x, COUNTS)), (3, 4)),
    case("poisson-nll-rate-full", lambda m, x: F(m).poisson_nll_loss(
        x, const(m, x, COUNTS), log_input=False, full=True), (3, 4), domain="positive"),
    case("gaussian-nll", lambda m, x, v: F(m).gaussian_nll_loss(
        x, const(m, x, TARGETS), v), (3, 4), (3, 4), domain="positive"),
    case("gaussian-nll-shared-var-full", lambda m, x, v: F(m).gaussian_nll_loss(
        x, const(m, x, TARGETS), v, full=True, reduction="sum"), (3, 4), (3,),
         domain="positive"),
    case("soft-margin", lambda m, x: F(m).soft_margin_loss(x * 3, const(m, x, SIGNS)), (6,)),
    case("multilabel-soft-margin", lambda m, x: F(m).multilabel_soft_margin_loss(
        x * 3, const(m, x, LABELS01)), (3, 4)),
    case("multilabel-soft-margin-weight", lambda m, x: F(m).multilabel_soft_margin_loss(
        x * 3, const(m, x, LABELS01), weight=const(m, x, [1.0, 2.0, 0.5, 1.0]),
        reduction="none"), (3, 4)),
    case("cosine-embedding", lambda m, a, b: F(m).cosine_embedding_loss(
        a, b, const(m, a, PAIR_SIGNS), margin=-0.9), (6, 4), (6, 4)),
    case("margin-ranking", lambda m, a, b: F(m).margin_ranking_loss(
        a, b, const(m, a, PAIR_SIGNS), margin=0.2), (6,), (6,), kinks=()),
    case("hinge-embedding", lambda m, x: F(m).hinge_embedding_loss(
        x * 2, const(m, x, PAIR_SIGNS)), (6,), kinks=(0.5,)),
    case("triplet-margin", lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n, margin=3.0),
         (5, 4), (5, 4), (5, 4)),
    case("triplet-margin-p1-swap", lambda m, a, p, n: F(m).triplet_margin_loss(
        a, p, n, margin=4.0, p=1, swap=True), (5, 4), (5, 4), (5, 4)),
    case("cosine-similarity", lambda m, a, b: F(m).cosine_similarity(a, b), (3, 5), (3, 5)),
    case("cosine-similarity-dim0", lambda m, a, b: F(m).cosine_similarity(a, b, dim=0),
         (4, 3), (4, 3)),
    case("pairwise-distance", lambda m, a, b: F(m).pairwise_distance(a, b), (3, 5), (3, 5)),
    case("pairwise-distance-p3", lambda m, a, b: F(m).pairwise_distance(a, b, p=3,
                                                                         keepdim=True),
         (3, 5), (3, 5)),
    case("normalize", lambda m, x: F(m).normalize(x), (3, 4)),
    case("normalize-p1-dim0", lambda m, x: F(m).normalize(x, p=1, dim=0), (3, 4)),
]

# PyTorch has no second derivative of multi_margin_loss to compare with
FIRST_ORDER = [
    case("multi-margin", lambda m, x: F(m).multi_margin_loss(x, labels(m, CLASSES)), (3, 4)),
    case("multi-margin-p2-weight", lambda m, x: F(m).multi_margin_loss(
        x, labels(m, CLASSES), p=2, margin=0.5, weight=const(m, x, [1.0, 2.0, 3.0, 0.5])),
         (3, 4)),
]

MODULES = [
    case("SmoothL1Loss", lambda m, x: m.nn.SmoothL1Loss(beta=2.0)(x * 3, const(m, x, TARGETS)),
         (3, 4)),
    case("HuberLoss", lambda m, x: m.nn.HuberLoss(delta=0.5)(x * 3, const(m, x, TARGETS)),
         (3, 4)),
    case("KLDivLoss", lambda m, x: m.nn.KLDivLoss(reduction="batchmean")(
        F(m).log_softmax(x, 1), const(m, x, PROBS)), (3, 4)),
    case("PoissonNLLLoss", lambda m, x: m.nn.PoissonNLLLoss()(x, const(m, x, COUNTS)), (3, 4)),
    case("GaussianNLLLoss", lambda m, x, v: m.nn.GaussianNLLLoss()(
        x, const(m, x, TARGETS), v), (3, 4), (3, 4), domain="positive"),
    case("SoftMarginLoss", lambda m, x: m.nn.SoftMarginLoss()(x, const(m, x, SIGNS)), (6,)),
    case("MultiLabelSoftMarginLoss", lambda m, x: m.nn.MultiLabelSoftMarginLoss()(
        x, const(m, x, LABELS01)), (3, 4)),
    case("CosineEmbeddingLoss", lambda m, a, b: m.nn.CosineEmbeddingLoss(margin=-1.0)(
        a, b, const(m, a, PAIR_SIGNS)), (6, 4), (6, 4)),
    case("MarginRankingLoss", lambda m, a, b: m.nn.MarginRankingLoss(margin=5.0)(
        a, b, const(m, a, PAIR_SIGNS)), (6,), (6,)),
    case("HingeEmbeddingLoss", lambda m, x: m.nn.HingeEmbeddingLoss(margin=5.0)(
        x, const(m, x, PAIR_SIGNS)), (6,)),
    case("TripletMarginLoss", lambda m, a, p, n: m.nn.TripletMarginLoss(margin=5.0)(a, p, n),
         (5, 4), (5, 4), (5, 4)),
    case("TripletMarginWithDistanceLoss", lambda m, a, p, n: m.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: 1 - F(m).cosine_similarity(u, v), margin=3.0)(a, p, n),
         (5, 4), (5, 4), (5, 4)),
    case("MultiMarginLoss", lambda m, x: m.nn.MultiMarginLoss(margin=3.0)(
        x, labels(m, CLASSES)), (3, 4)),
    case("CosineSimilarity", lambda m, a, b: m.nn.CosineSimilarity(dim=1)(a, b), (3, 5), (3, 5)),
    case("PairwiseDistance", lambda m, a, b: m.nn.PairwiseDistance(p=1.5)(a, b), (3, 5), (3, 5)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, first_order=FIRST_ORDER,
                                                 compared=MODULES)


def test_kl_div_mean_warns_like_torch():
    x = cr.zeros(2, 3)
    with pytest.warns(UserWarning, match="batchmean"):
        cr.nn.functional.kl_div(x, cr.ones(2, 3) / 3)


def test_gaussian_nll_refuses_negative_variance():
    with pytest.raises(ValueError, match="negative"):
        cr.nn.functional.gaussian_nll_loss(cr.zeros(3), cr.zeros(3), -cr.ones(3))


def test_triplet_margin_refuses_non_positive_margin():
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        cr.nn.functional.triplet_margin_loss(cr.zeros(1, 2), cr.zeros(1, 2), cr.zeros(1, 2),
                                             margin=0)

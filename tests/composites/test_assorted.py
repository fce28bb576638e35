"""The rest of PyTorch's functions (composites/assorted.py, ops/matrix.py, the `*_copy`
variants, shape-changing in-place methods), against PyTorch and finite differences."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

SQUARE = lambda m, x: x + 3 * m.eye(x.shape[-1], dtype=x.dtype)  # noqa: E731 - invertible

CASES = [
    case("clamp_min", lambda m, x: m.clamp_min(x, 0.2), (2, 3), kinks=(0.2,)),
    case("clamp_max", lambda m, x: x.clamp_max(0.2), (2, 3), kinks=(0.2,)),
    case("rsub", lambda m, a, b: m.rsub(a, b, alpha=2), (2, 3), (2, 3)),
    case("ldexp", lambda m, x: m.ldexp(x, m.tensor([1, 2, 3])), (3,)),
    case("select", lambda m, x: m.select(x, 1, 2), (3, 4)),
    case("unfold", lambda m, x: x.unfold(1, 2, 1), (2, 5)),
    case("unfold-step", lambda m, x: x.unfold(0, 3, 2), (7, 2)),
    case("hsplit", lambda m, x: m.hsplit(x, 2)[1], (2, 4)),
    case("vsplit", lambda m, x: m.vsplit(x, [1, 3])[1], (4, 2)),
    case("diagflat", lambda m, x: m.diagflat(x, 1), (2, 2)),
    case("block_diag", lambda m, a, b: m.block_diag(a, b), (2, 3), (1, 2)),
    case("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), (3,), (2,)),
    case("combinations", lambda m, x: m.combinations(x, 2), (4,)),
    case("quantile", lambda m, x: m.quantile(x, 0.3), (7,), domain="distinct"),
    case("quantile-dim", lambda m, x: m.quantile(x, m.tensor([0.25, 0.5], dtype=x.dtype), dim=1),
         (3, 5), domain="distinct"),
    case("cov", lambda m, x: m.cov(x), (3, 5)),
    case("corrcoef", lambda m, x: m.corrcoef(x), (3, 5)),
    case("trapezoid", lambda m, y: m.trapezoid(y, dx=0.5), (3, 4)),
    case("trapezoid-x", lambda m, y, x: m.trapezoid(y, x), (3, 4), (4,)),
    case("cumulative_trapezoid", lambda m, y: m.cumulative_trapezoid(y), (3, 4)),
    case("inverse", lambda m, x: m.inverse(SQUARE(m, x)), (2, 3, 3)),
    case("det", lambda m, x: m.det(SQUARE(m, x)), (2, 3, 3)),
    case("logdet", lambda m, x: m.logdet(SQUARE(m, x)), (3, 3)),
    case("slogdet", lambda m, x: m.slogdet(SQUARE(m, x))[1], (3, 3)),
    case("matrix_power", lambda m, x: m.matrix_power(x, 3), (3, 3)),
    case("matrix_power-negative", lambda m, x: m.matrix_power(SQUARE(m, x), -2), (3, 3)),
    case("chain_matmul", lambda m, a, b, c: m.chain_matmul(a, b, c), (2, 3), (3, 4), (4, 2)),
    case("renorm", lambda m, x: m.renorm(x, 2, 0, 1.0), (3, 4)),
    case("expand_copy", lambda m, x: m.expand_copy(x, (2, 3)), (3,)),
    case("permute_copy", lambda m, x: m.permute_copy(x, (1, 0)), (2, 3)),
    case("gradient", lambda m, x: m.gradient(x, spacing=0.5)[1], (3, 5)),
    case("select_scatter", lambda m, x, s: m.select_scatter(x, s, 1, 2), (3, 4), (3,)),
    case("slice_scatter", lambda m, x, s: m.slice_scatter(x, s, 0, 1, 3), (4, 2), (2, 2)),
    case("diagonal_scatter", lambda m, x, s: m.diagonal_scatter(x, s, 1), (3, 4), (3,)),
    case("squeeze-inplace", lambda m, x: (x + 1).unsqueeze_(0).t_(), (3,)),
]

# the singular value decomposition: outputs that do not depend on the sign each singular
# pair may take (S, U², V², U S Vᵀ), tall, wide and batched
SVD = lambda m, x: m.linalg.svd(x, full_matrices=False)  # noqa: E731
SVD32 = (1e-4, 1e-5)  # float32: the derivative divides by s_i² - s_j²

# PyTorch cannot differentiate these twice (cdist) or only to ~3e-10 (polygamma); chainrule's
# Svd differentiates once (its backward is written on arrays).
FIRST_ORDER = [
    case("mvlgamma", lambda m, x: m.mvlgamma(x + 2, 3), (4,), domain="positive"),
    case("cdist", lambda m, a, b: m.cdist(a, b), (3, 2), (4, 2)),
    case("svd-S", lambda m, x: m.svd(x).S, (4, 3), float32_tolerance=SVD32),
    case("svd-U²", lambda m, x: m.svd(x).U ** 2, (4, 3), float32_tolerance=SVD32),
    case("svd-V²", lambda m, x: m.svd(x)[2] ** 2, (3, 5), float32_tolerance=SVD32),
    case("svd-USVᵀ", lambda m, x: (lambda u, s, v: (u * s.unsqueeze(-2)) @ v.transpose(-2, -1))(
        *m.svd(x)), (2, 3, 4), float32_tolerance=SVD32),
    case("linalg.svd-Vh²", lambda m, x: SVD(m, x).Vh ** 2, (2, 4, 3), float32_tolerance=SVD32),
    case("linalg.svdvals", lambda m, x: m.linalg.svdvals(x), (5, 2), float32_tolerance=SVD32),
    case("linalg.matrix_norm-nuc", lambda m, x: m.linalg.matrix_norm(x, "nuc"), (3, 4),
         float32_tolerance=SVD32),
    case("linalg.norm-2", lambda m, x: m.linalg.norm(x, 2), (3, 4), float32_tolerance=SVD32),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, first_order=FIRST_ORDER)


def test_vander_matches_torch_forward_and_finite_differences():
    # (PyTorch's own backward of vander fails on an in-place check, so only the values)
    x = numpy.array([0.5, -1.0, 2.0, 3.0])
    numpy.testing.assert_allclose(cr.vander(cr.tensor(x), 3).numpy(),
                                  torch.vander(torch.tensor(x), 3).numpy())
    assert cr.autograd.gradcheck(lambda t: cr.vander(t, 3), [cr.tensor(x, requires_grad=True)])


def test_no_gradient_functions_match_torch():
    a = numpy.array([12, 18, -4])
    for call in (lambda m: m.gcd(m.tensor(a), m.tensor([8, 27, 6])),
                 lambda m: m.lcm(m.tensor(a), m.tensor([8, 27, 6])),
                 lambda m: m.heaviside(m.tensor([-1.0, 0.0, 2.0]), m.tensor([0.5])),
                 lambda m: m.isin(m.tensor(a), m.tensor([18, 5])),
                 lambda m: m.polygamma(1, m.tensor([0.5, 2.0])).round(decimals=6),
                 lambda m: m.frexp(m.tensor([8.0, 0.3]))[1],
                 lambda m: m.unravel_index(m.tensor([5, 7]), (3, 4))[1],
                 lambda m: m.zeros(2, 3).index_put_((m.tensor([0, 1]), m.tensor([2, 0])),
                                                    m.tensor(4.0), accumulate=True),
                 lambda m: m.zeros(2, 3).masked_scatter_(m.tensor([[True, False, True],
                                                                   [False, True, False]]),
                                                         m.arange(6.0).reshape(2, 3)),
                 lambda m: m.zeros(3, 3).fill_diagonal_(2.0)):
        numpy.testing.assert_array_equal(call(cr).numpy(), call(torch).numpy())
    assert cr.broadcast_shapes((2, 1), (3,)) == tuple(torch.broadcast_shapes((2, 1), (3,)))


def test_runtime_switches_and_amp_shims_run_as_in_torch():
    assert cr.compile(len) is len and cr.compile()(len) is len
    cr.use_deterministic_algorithms(True)
    assert cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(False)
    assert cr.get_num_threads() >= 1 and cr.typename(cr.ones(1)) == "torch.FloatTensor"
    w = cr.ones(2, requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.5)
    scaler = cr.amp.GradScaler()
    with cr.autocast("cpu", dtype=cr.float16):
        loss = (w * w).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert w.tolist() == [0.0, 0.0] and scaler.get_scale() == 1.0
    assert cr.cuda.amp.GradScaler is cr.amp.GradScaler
    assert cr.Size([2, 3]).numel() == 6 and cr.Size([2, 3]) == (2, 3)
    assert isinstance(cr.ones(1).dtype, cr.dtype) and cr.pi == torch.pi and cr.inf == torch.inf


def test_square_matrices_only():
    with pytest.raises(RuntimeError, match="square"):
        cr.det(cr.ones(2, 3))


def test_resize_keeps_the_numbers_that_fit_as_torch():
    for m in (cr, torch):
        x = m.arange(6.0).reshape(2, 3)
        assert x.resize_(4).tolist() == [0.0, 1.0, 2.0, 3.0]
        assert x.resize_(m.Size([2, 4]))[0].tolist() == [0.0, 1.0, 2.0, 3.0]
        assert x.resize_as_(m.ones(1, 2)).tolist() == [[0.0, 1.0]]
        with pytest.raises(RuntimeError, match="resize"):
            m.ones(2, requires_grad=True).resize_(3)

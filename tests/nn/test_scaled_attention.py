"""scaled_dot_product_attention against PyTorch: values, gradients, finite differences
and second derivatives."""
from __future__ import annotations

import numpy
from ops.harness import case, op_table_tests  # tests/ops

MASK = numpy.random.default_rng(3).random((4, 5)) > 0.3
MASK[:, 0] = True                                  # every query may attend somewhere
BIAS = numpy.random.default_rng(4).standard_normal((4, 5))


def sdpa(m):
    return m.nn.functional.scaled_dot_product_attention


def const(m, array, like):
    return m.tensor(array) if array.dtype == bool else m.tensor(array, dtype=like.dtype)


# PyTorch's fused CPU kernel has no second derivative to compare with
FIRST_ORDER = [
    case("sdpa", lambda m, q, k, v: sdpa(m)(q, k, v), (2, 4, 3), (2, 5, 3), (2, 5, 2)),
    case("sdpa-causal-heads", lambda m, q, k, v: sdpa(m)(q, k, v, is_causal=True),
         (2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3)),
    case("sdpa-bool-mask", lambda m, q, k, v: sdpa(m)(q, k, v, attn_mask=const(m, MASK, q)),
         (4, 3), (5, 3), (5, 2)),
    case("sdpa-float-mask-scale", lambda m, q, k, v: sdpa(m)(
        q, k, v, attn_mask=const(m, BIAS, q), scale=0.3), (1, 4, 3), (1, 5, 3), (1, 5, 3)),
    case("sdpa-gqa", lambda m, q, k, v: sdpa(m)(q, k, v, enable_gqa=True),
         (1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests([], first_order=FIRST_ORDER)

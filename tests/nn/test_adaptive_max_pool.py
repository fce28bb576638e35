"""Adaptive max pooling against PyTorch: values, gradients, finite differences."""
from __future__ import annotations

from ops.harness import case, op_table_tests  # tests/ops

CASES = [
    case("adaptive-max-pool1d", lambda m, x: m.nn.functional.adaptive_max_pool1d(x, 3),
         (2, 3, 7), domain="distinct"),
    case("adaptive-max-pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (2, 3)),
         (1, 2, 5, 7), domain="distinct"),
    case("adaptive-max-pool2d-global", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, 1),
         (2, 3, 4, 4), domain="distinct"),
    case("adaptive-max-pool2d-none", lambda m, x: m.nn.functional.adaptive_max_pool2d(
        x, (None, 2)), (2, 3, 5), domain="distinct"),
    case("adaptive-max-pool2d-up", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, 4),
         (1, 1, 3, 3), domain="distinct"),
]
MODULES = [
    case("AdaptiveMaxPool2d", lambda m, x: m.nn.AdaptiveMaxPool2d((3, 3))(x), (1, 2, 6, 5),
         domain="distinct"),
    case("AdaptiveMaxPool1d", lambda m, x: m.nn.AdaptiveMaxPool1d(2)(x), (2, 5),
         domain="distinct"),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, compared=MODULES)

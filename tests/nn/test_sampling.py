"""grid_sample, affine_grid and the interpolate modes bicubic, antialiased bilinear and
bicubic, 3-D area and 3-D nearest against PyTorch: values, gradients (of the input and of
the grid or theta), finite differences and second derivatives."""
from __future__ import annotations

import numpy
import pytest
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


def _grid(m, g):
    """A grid reaching a little outside [-1, 1], from an unconstrained input."""
    return m.tanh(g) * 1.3


FLOAT32 = (1e-4, 1e-5)  # float32 sums of up to 16 weighted taps, in another order than PyTorch's
GRID_SAMPLE = [
    case(f"grid-sample-{mode}-{padding}-align{int(align)}",
         lambda m, x, g, mode=mode, padding=padding, align=align: F(m).grid_sample(
             x, _grid(m, g), mode=mode, padding_mode=padding, align_corners=align),
         (2, 2, 4, 5), (2, 3, 4, 2), float32_tolerance=FLOAT32)
    for mode in ("bilinear", "bicubic") for padding in ("zeros", "border", "reflection")
    for align in (False, True)
] + [
    case(f"grid-sample-3d-{padding}-align{int(align)}",
         lambda m, x, g, padding=padding, align=align: F(m).grid_sample(
             x, _grid(m, g), padding_mode=padding, align_corners=align),
         (1, 2, 3, 4, 3), (1, 2, 3, 2, 3), float32_tolerance=FLOAT32)
    for padding in ("zeros", "border", "reflection") for align in (False, True)
]
# nearest: the output does not move with the grid (PyTorch's grid gradient is 0), so the
# grid is a constant here
NEAREST_GRID = numpy.random.default_rng(5).uniform(-1.3, 1.3, (2, 3, 4, 3))
NEAREST = [
    case(f"grid-sample-nearest-{padding}-{nd}d",
         lambda m, x, padding=padding, nd=nd: F(m).grid_sample(
             x, m.tensor(NEAREST_GRID[..., :nd] if nd == 2 else NEAREST_GRID[:, None, :2],
                         dtype=x.dtype), mode="nearest", padding_mode=padding,
             align_corners=False),
         (2, 2, 4, 5) if nd == 2 else (2, 2, 3, 4, 5))
    for padding in ("zeros", "border", "reflection") for nd in (2, 3)
]
AFFINE = [
    case(f"affine-grid-{nd}d-align{int(align)}",
         lambda m, t, nd=nd, align=align: F(m).affine_grid(
             t, (2, 3, 4, 5) if nd == 2 else (2, 3, 2, 4, 3), align_corners=align),
         (2, nd, nd + 1))
    for nd in (2, 3) for align in (False, True)
] + [
    case("spatial-transformer", lambda m, x, t: F(m).grid_sample(
        x, F(m).affine_grid(t * 0.5, (2, 2, 3, 4), align_corners=False), align_corners=False),
         (2, 2, 5, 6), (2, 2, 3)),
]
INTERPOLATE = [
    case("bicubic-up", lambda m, x: F(m).interpolate(x, size=(7, 9), mode="bicubic"),
         (2, 2, 4, 5), float32_tolerance=FLOAT32),
    case("bicubic-down", lambda m, x: F(m).interpolate(x, size=(3, 2), mode="bicubic"),
         (1, 2, 7, 5), float32_tolerance=FLOAT32),
    case("bicubic-align", lambda m, x: F(m).interpolate(x, scale_factor=1.7, mode="bicubic",
                                                        align_corners=True), (1, 2, 4, 5),
         float32_tolerance=FLOAT32),
    case("bicubic-scale", lambda m, x: F(m).interpolate(x, scale_factor=(2.5, 0.6),
                                                        mode="bicubic"), (1, 2, 4, 5),
         float32_tolerance=FLOAT32),
    case("bicubic-recompute", lambda m, x: F(m).interpolate(
        x, scale_factor=(2.5, 0.6), mode="bicubic", recompute_scale_factor=True), (1, 2, 4, 5),
         float32_tolerance=FLOAT32),
    case("area-3d", lambda m, x: F(m).interpolate(x, size=(3, 2, 5), mode="area"),
         (1, 2, 7, 5, 4)),
    case("nearest-exact-3d", lambda m, x: F(m).interpolate(x, size=(3, 2, 5),
                                                           mode="nearest-exact"), (1, 2, 7, 5, 4)),
    case("nearest-3d", lambda m, x: F(m).interpolate(x, scale_factor=2), (1, 2, 2, 3, 2)),
    *[case(f"antialias-{mode}-{shape[2]}x{shape[3]}-align{int(align)}",
           lambda m, x, mode=mode, align=align, size=size: F(m).interpolate(
               x, size=size, mode=mode, antialias=True, align_corners=align), shape,
           float32_tolerance=FLOAT32)
      for mode in ("bilinear", "bicubic") for align in (False, True)
      for shape, size in (((1, 2, 11, 9), (3, 5)), ((1, 2, 5, 9), (13, 4)),
                          ((1, 1, 7, 5), (1, 1)))],
    case("antialias-scale-factor", lambda m, x: F(m).interpolate(
        x, scale_factor=(0.37, 2.2), mode="bilinear", antialias=True), (1, 2, 17, 4)),
    case("Upsample-bicubic", lambda m, x: m.nn.Upsample(scale_factor=2, mode="bicubic")(x),
         (1, 2, 2, 3), float32_tolerance=FLOAT32),
    case("Upsample-trilinear-align", lambda m, x: m.nn.Upsample(
        size=(4, 4, 4), mode="trilinear", align_corners=True)(x), (1, 2, 2, 3, 2)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(
    GRID_SAMPLE + NEAREST + AFFINE + INTERPOLATE)


@pytest.mark.parametrize("call, message", [
    (lambda: F(cr).grid_sample(cr.zeros(1, 1, 3, 3), cr.zeros(1, 2, 2, 3)), "grid"),
    (lambda: F(cr).grid_sample(cr.zeros(1, 1, 3, 3), cr.zeros(1, 2, 2, 2), mode="cubic"),
     "mode"),
    (lambda: F(cr).grid_sample(cr.zeros(1, 1, 3, 3), cr.zeros(1, 2, 2, 2),
                               padding_mode="wrap"), "padding_mode"),
    (lambda: F(cr).grid_sample(cr.zeros(1, 1, 2, 3, 3), cr.zeros(1, 1, 2, 2, 3),
                               mode="bicubic"), "bicubic"),
    (lambda: F(cr).affine_grid(cr.zeros(1, 2, 3), (1, 1, 2, 2, 2)), "theta"),
])
def test_bad_arguments_are_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_antialias_is_refused_where_pytorch_refuses_it():
    with pytest.raises(ValueError, match="anti-alias"):
        F(cr).interpolate(cr.zeros(1, 1, 4, 4), size=2, mode="nearest", antialias=True)

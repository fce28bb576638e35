"""interpolate, pixel_shuffle and the upsampling layers against PyTorch: values,
gradients, finite differences and second derivatives."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr


def F(m):
    return m.nn.functional


CASES = [
    case("nearest-size", lambda m, x: F(m).interpolate(x, size=7), (2, 3, 4)),
    case("nearest-scale", lambda m, x: F(m).interpolate(x, scale_factor=2), (1, 2, 3, 3)),
    case("nearest-down", lambda m, x: F(m).interpolate(x, size=(2, 3)), (1, 2, 5, 7)),
    case("nearest-fractional", lambda m, x: F(m).interpolate(x, scale_factor=1.7), (1, 2, 5)),
    case("nearest-exact", lambda m, x: F(m).interpolate(x, size=(5, 3), mode="nearest-exact"),
         (1, 1, 3, 4)),
    case("linear", lambda m, x: F(m).interpolate(x, size=9, mode="linear"), (2, 3, 4)),
    case("linear-align", lambda m, x: F(m).interpolate(x, scale_factor=2.5, mode="linear",
                                                        align_corners=True), (2, 1, 4)),
    case("bilinear", lambda m, x: F(m).interpolate(x, scale_factor=2, mode="bilinear"),
         (1, 2, 3, 4)),
    case("bilinear-down", lambda m, x: F(m).interpolate(x, size=(3, 2), mode="bilinear"),
         (2, 1, 5, 6)),
    case("bilinear-align", lambda m, x: F(m).interpolate(x, size=(5, 7), mode="bilinear",
                                                          align_corners=True), (1, 2, 3, 4)),
    case("trilinear", lambda m, x: F(m).interpolate(x, size=(3, 4, 2), mode="trilinear"),
         (1, 1, 2, 3, 3)),
    case("area", lambda m, x: F(m).interpolate(x, size=(2, 3), mode="area"), (1, 2, 4, 6)),
    case("pixel-shuffle", lambda m, x: F(m).pixel_shuffle(x, 2), (2, 8, 3, 2)),
    case("pixel-unshuffle", lambda m, x: F(m).pixel_unshuffle(x, 3), (1, 2, 6, 3)),
]

MODULES = [
    case("Upsample", lambda m, x: m.nn.Upsample(scale_factor=3)(x), (1, 2, 2, 2)),
    case("Upsample-bilinear", lambda m, x: m.nn.Upsample(size=(4, 5), mode="bilinear")(x),
         (1, 2, 3, 3)),
    case("UpsamplingNearest2d", lambda m, x: m.nn.UpsamplingNearest2d(scale_factor=2)(x),
         (1, 1, 2, 3)),
    case("UpsamplingBilinear2d", lambda m, x: m.nn.UpsamplingBilinear2d(size=5)(x),
         (1, 1, 2, 3)),
    case("PixelShuffle", lambda m, x: m.nn.PixelShuffle(3)(x), (1, 9, 2, 2)),
    case("PixelUnshuffle", lambda m, x: m.nn.PixelUnshuffle(2)(x), (1, 1, 4, 4)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, compared=MODULES)


def test_upsample_repr_matches_torch():
    for args in (dict(scale_factor=2), dict(size=(3, 4), mode="bilinear")):
        assert repr(cr.nn.Upsample(**args)) == repr(torch.nn.Upsample(**args))


def test_unsupported_mode_is_one_line():
    with pytest.raises(NotImplementedError, match="lanczos"):
        cr.nn.functional.interpolate(cr.zeros(1, 1, 2, 2), size=3, mode="lanczos")


def test_pixel_shuffle_round_trip():
    x = cr.tensor(numpy.arange(72.0).reshape(2, 4, 3, 3))
    assert (cr.nn.functional.pixel_unshuffle(cr.nn.functional.pixel_shuffle(x, 2), 2).numpy()
            == x.numpy()).all()

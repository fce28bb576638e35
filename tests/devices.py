"""The device halves of the test suite.

A test that takes `device` (the fixture in conftest.py, or `by_device` on a parametrised
test) runs once on "cpu" and once on "cuda". The cuda half runs where CuPy finds a GPU
and is skipped elsewhere, for the one reason `CUDA_MISSING` gives; the summary of a run
says so in one line.

Tolerances on the GPU: float64 keeps the CPU's; float32 is compared at
`CUDA_FLOAT32_TOLERANCE` (rtol, atol), since cuBLAS and cuDNN sum in another order and
fuse multiply-adds, and CUDA's float32 exp, log and tanh may differ by a few ulps.
"""
from __future__ import annotations

import importlib.util

import pytest

import chainrule as cr

CUDA_FLOAT32_TOLERANCE = (1e-4, 1e-5)


def _cuda_missing() -> str:
    if importlib.util.find_spec("cupy") is None:
        return "cuda half: CuPy is not installed (pip install 'chainrule[gpu]' on a GPU machine)"
    if not cr.cuda.is_available():
        return "cuda half: CuPy finds no GPU"
    return ""


CUDA_MISSING = _cuda_missing()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(bool(CUDA_MISSING),
                                                                 reason=CUDA_MISSING))]
by_device = pytest.mark.parametrize("device", DEVICES)


def float32_tolerance(device, tolerance: tuple = ()) -> tuple:
    """(rtol, atol) for float32 on `device`: the looser of `tolerance` (a case's own, or
    none) and the GPU's."""
    if device != "cuda":
        return tolerance
    if not tolerance:
        return CUDA_FLOAT32_TOLERANCE
    return tuple(max(a, b) for a, b in zip(tolerance, CUDA_FLOAT32_TOLERANCE))

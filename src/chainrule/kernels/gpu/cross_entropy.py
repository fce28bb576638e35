"""Softmax cross-entropy with class indices in two kernels: one over the rows forward,
one elementwise backward.

For logits x (M, C) and targets y (M,), with lse_i = log Σ_c e^(x_ic):

    forward   loss_i = lse_i - x_i,y_i            (0 where y_i is ignore_index)
    backward  dloss_i/dx_ic = e^(x_ic - lse_i) - [c = y_i]

The forward kernel gives each row one block of threads: a max and a sum of exponentials
reduced in shared memory (the max keeps e^x from overflowing), then one thread writes
lse_i, loss_i and whether the row counts. The backward needs only x and lse: the softmax
is recomputed in the same kernel that writes the gradient, so no (M, C) array is kept.
"""
from __future__ import annotations

import functools

import numpy

from ... import backend

THREADS = 128  # per row; a power of two for the halving reductions

_ROWS_SOURCE = r"""
extern "C" __global__ void chainrule_cross_entropy_rows_{T}(
        const {T}* x, const long long* target, long long classes, long long ignore,
        {T} nan, {T}* lse, {T}* loss, {T}* valid) {
    extern __shared__ unsigned char shared_bytes[];
    {T}* partial = ({T}*)shared_bytes;
    const {T}* row = x + blockIdx.x * classes;
    unsigned int t = threadIdx.x;
    {T} top = row[0];
    for (long long c = t; c < classes; c += blockDim.x) top = row[c] > top ? row[c] : top;
    partial[t] = top;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half && partial[t + half] > partial[t]) partial[t] = partial[t + half];
        __syncthreads();
    }
    top = partial[0];
    __syncthreads();
    {T} total = 0;
    for (long long c = t; c < classes; c += blockDim.x) total += {exp}(row[c] - top);
    partial[t] = total;
    __syncthreads();
    for (unsigned int half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) partial[t] += partial[t + half];
        __syncthreads();
    }
    if (t == 0) {
        {T} row_lse = top + {log}(partial[0]);
        long long y = target[blockIdx.x];
        bool counted = y != ignore;
        lse[blockIdx.x] = row_lse;
        valid[blockIdx.x] = counted ? 1 : 0;
        loss[blockIdx.x] = !counted ? 0 : (y >= 0 && y < classes ? row_lse - row[y] : nan);
    }
}
"""

_MATH = {"float": ("expf", "logf"), "double": ("exp", "log")}
_C_TYPES = {numpy.dtype("float32"): "float", numpy.dtype("float64"): "double"}


def supports(x) -> bool:
    """Whether the fused kernels take logits `x`: a 2-d CuPy float32/float64 array."""
    return backend.on_gpu(x) and x.ndim == 2 and x.dtype in _C_TYPES and x.shape[1] > 0


@functools.cache
def _rows_kernel(c_type: str):
    exp, log = _MATH[c_type]
    source = (_ROWS_SOURCE.replace("{T}", c_type).replace("{exp}", exp)
              .replace("{log}", log))
    return backend.cupy().RawKernel(source, f"chainrule_cross_entropy_rows_{c_type}")


def forward_rows(x, target, ignore_index: int):
    """(lse, loss, valid), each (M,): log Σ e^x per row, each row's loss (NaN for a target
    out of range: the device cannot raise), and 1 where the row counts, else 0."""
    cp = backend.cupy()
    x = cp.ascontiguousarray(x)
    target = cp.ascontiguousarray(target, dtype=cp.int64)
    rows, classes = x.shape
    lse, loss, valid = (cp.empty(rows, dtype=x.dtype) for _ in range(3))
    if rows:
        _rows_kernel(_C_TYPES[x.dtype])(
            (rows,), (THREADS,),
            (x, target, numpy.int64(classes), numpy.int64(ignore_index),
             x.dtype.type("nan"), lse, loss, valid),
            shared_mem=THREADS * x.dtype.itemsize)
    return lse, loss, valid


# dx_ic = valid_i · scale_i · (e^(x_ic - lse_i) - [c = y_i]), with i the flat index of dx
BACKWARD_BODY = "dx = valid * scale * (exp(x - lse) - (i % classes == target ? (T)1 : (T)0))"


@functools.cache
def _backward_kernel():
    return backend.cupy().ElementwiseKernel(
        "T x, T lse, int64 target, T valid, T scale, int64 classes", "T dx", BACKWARD_BODY,
        "chainrule_cross_entropy_backward")


def backward(x, lse, target, valid, scale):
    """dL/dx (M, C) from the forward's lse and valid; `scale` is dL/dloss_i, a 0-d array
    (the same for every row) or one value per row (M,)."""
    column = (slice(None), None)
    if scale.ndim:
        scale = scale[column]
    return _backward_kernel()(x, lse[column], target[column], valid[column], scale,
                              x.shape[1])

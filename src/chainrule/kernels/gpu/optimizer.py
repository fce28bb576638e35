"""The SGD and Adam updates of many parameters in one kernel launch per dtype.

An optimizer written with array expressions launches a few kernels per parameter per
step (`p -= lr * g` is two); for a network of a dozen tensors that is dozens of launches.
Here the addresses of up to `TENSORS` parameters, their gradients and their state go to
one kernel as a struct passed by value (a NumPy structured scalar, as CuPy allows), with
the offset where each tensor starts in one flat index space. Each thread finds its tensor
by walking the offsets and updates one element. Nothing is copied to the device but the
kernel's arguments, and nothing is read back.

Every array must be a C-contiguous CuPy array of its parameter's dtype (float32 or
float64): `supports` says whether they are.
"""
from __future__ import annotations

import functools

import numpy

from ... import backend

TENSORS = 32  # per launch: the struct stays far below the 4 KiB a kernel's arguments may use
THREADS = 256

_SLOTS = ("param", "grad", "first", "second")  # addresses: parameter, gradient, 2 states

_COMMON = r"""
struct Tensors {
    unsigned long long param[TENSORS], grad[TENSORS], first[TENSORS], second[TENSORS];
    long long start[TENSORS + 1];
    int fresh[TENSORS];
};

__device__ int which_tensor(const Tensors& t, int count, long long i) {
    int k = 0;
    while (k + 1 < count && i >= t.start[k + 1]) ++k;
    return k;
}
"""

_SGD = r"""
// g <- grad (+ wd p), negated to maximize; with momentum b <- g on a fresh buffer, else
// b <- momentum b + (1 - dampening) g; then g <- g + momentum b (nesterov) or g <- b;
// p <- p - lr g
extern "C" __global__ void chainrule_sgd_{T}(Tensors t, int count, {T} lr, {T} momentum,
        {T} dampening, {T} weight_decay, int nesterov, int maximize) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= t.start[count]) return;
    int k = which_tensor(t, count, i);
    long long j = i - t.start[k];
    {T}* p = ({T}*)t.param[k];
    {T} g = ((const {T}*)t.grad[k])[j];
    if (maximize) g = -g;
    if (weight_decay != 0) g += weight_decay * p[j];
    if (momentum != 0) {
        {T}* buf = ({T}*)t.first[k];
        {T} b = t.fresh[k] ? g : momentum * buf[j] + (1 - dampening) * g;
        buf[j] = b;
        g = nesterov ? g + momentum * b : b;
    }
    p[j] -= lr * g;
}
"""

_ADAM = r"""
// g <- grad (+ wd p, L2), negated to maximize; p <- p (1 - lr wd) when decoupled;
// m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g²;  p <- p - step_size m / (sqrt(v)/c2 + eps)
// with step_size = lr / (1 - b1^step) and c2 = sqrt(1 - b2^step)
extern "C" __global__ void chainrule_adam_{T}(Tensors t, int count, {T} step_size, {T} beta1,
        {T} beta2, {T} eps, {T} root_correction2, {T} weight_decay, {T} decay_factor,
        int maximize) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= t.start[count]) return;
    int k = which_tensor(t, count, i);
    long long j = i - t.start[k];
    {T}* p = ({T}*)t.param[k];
    {T}* m = ({T}*)t.first[k];
    {T}* v = ({T}*)t.second[k];
    {T} g = ((const {T}*)t.grad[k])[j];
    if (maximize) g = -g;
    if (weight_decay != 0) g += weight_decay * p[j];
    {T} value = p[j] * decay_factor;
    {T} m_new = m[j] + (1 - beta1) * (g - m[j]);
    {T} v_new = beta2 * v[j] + (1 - beta2) * g * g;
    m[j] = m_new;
    v[j] = v_new;
    p[j] = value - step_size * m_new / ({sqrt}(v_new) / root_correction2 + eps);
}
"""

_C_TYPES = {numpy.dtype("float32"): ("float", "sqrtf"), numpy.dtype("float64"): ("double", "sqrt")}

_STRUCT = numpy.dtype([(slot, numpy.uint64, (TENSORS,)) for slot in _SLOTS]
                      + [("start", numpy.int64, (TENSORS + 1,)),
                         ("fresh", numpy.int32, (TENSORS,))], align=True)


def supports(rows) -> bool:
    """Whether the fused update takes these rows of arrays (a parameter, its gradient, its
    states): CuPy, C-contiguous, float32 or float64, the parameter's dtype in each row."""
    arrays = [a for row in rows for a in row]
    return backend.on_gpu(*arrays) and all(
        a.dtype in _C_TYPES and a.dtype == row[0].dtype and a.flags.c_contiguous
        for row in rows for a in row)


@functools.cache
def _kernel(rule: str, dtype: numpy.dtype):
    c_type, sqrt = _C_TYPES[dtype]
    body = {"sgd": _SGD, "adam": _ADAM}[rule]
    source = (_COMMON.replace("TENSORS", str(TENSORS))
              + body.replace("{T}", c_type).replace("{sqrt}", sqrt))
    return backend.cupy().RawKernel(source, f"chainrule_{rule}_{c_type}")


def _launches(rows):
    """The struct of addresses for each run of up to TENSORS rows of
    (param, grad, first state or None, second state or None, fresh), and the element count."""
    for begin in range(0, len(rows), TENSORS):
        chunk = rows[begin:begin + TENSORS]
        tensors = numpy.zeros(1, dtype=_STRUCT)  # (CuPy passes a one-element array by value)
        total = 0
        for k, row in enumerate(chunk):
            for slot, array in zip(_SLOTS, row[:4]):
                tensors[slot][0, k] = 0 if array is None else array.data.ptr
            tensors["fresh"][0, k] = row[4]
            tensors["start"][0, k] = total
            total += row[0].size
        tensors["start"][0, len(chunk):] = total
        yield tensors, len(chunk), total


def _run(rule: str, rows, scalars: tuple) -> None:
    """Launch `rule` over `rows` (grouped by the parameter's dtype), with its scalar
    arguments converted to that dtype (the ints stay ints)."""
    by_dtype: dict = {}
    for row in rows:
        by_dtype.setdefault(row[0].dtype, []).append(row)
    for dtype, group in by_dtype.items():
        kernel = _kernel(rule, dtype)
        values = tuple(numpy.int32(s) if isinstance(s, bool) else dtype.type(s)
                       for s in scalars)
        for tensors, count, total in _launches(group):
            if total:
                blocks = (total + THREADS - 1) // THREADS
                kernel((blocks,), (THREADS,), (tensors, numpy.int32(count), *values))


def sgd(rows, lr: float, momentum: float, dampening: float, weight_decay: float,
        nesterov: bool, maximize: bool) -> None:
    """rows: (param, grad, momentum buffer or None, fresh: whether the buffer is new)."""
    _run("sgd", [(p, g, b, None, fresh) for p, g, b, fresh in rows],
         (lr, momentum, dampening, weight_decay, bool(nesterov), bool(maximize)))


def adam(rows, step_size: float, beta1: float, beta2: float, eps: float,
         root_correction2: float, weight_decay: float, decay_factor: float,
         maximize: bool) -> None:
    """rows: (param, grad, exp_avg, exp_avg_sq); all parameters at the same step."""
    _run("adam", [(p, g, m, v, False) for p, g, m, v in rows],
         (step_size, beta1, beta2, eps, root_correction2, weight_decay, decay_factor,
          bool(maximize)))

"""The CUDA sources of kernels/gpu, compiled for the CPU with g++ and run there with the
GPU's launch (blocks × threads) emulated by loops: the arithmetic and the struct of
addresses that optimizer.py builds are checked against chainrule's CPU rules without a GPU.

One thread runs at a time, so a kernel that waits at __syncthreads for the other threads
of its block is emulated with one thread per block (the cross-entropy rows: its halving
reductions then do nothing and thread 0 does the whole row). The GPU itself, CuPy's
launches and the ElementwiseKernels are tested in the cuda half (tests/test_devices.py).
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest

import chainrule as cr
from chainrule.kernels.gpu import activation, cross_entropy, optimizer

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")

PRELUDE = r"""
#include <math.h>
#define __global__
#define __device__
struct dim3 { unsigned int x, y, z; };
dim3 blockIdx, threadIdx, blockDim;
void __syncthreads() {}
"""

LAUNCH = r"""
#define EMULATE(kernel, threads, blocks, ...) \
    blockDim.x = threads; \
    for (long long block_ = 0; block_ < blocks; ++block_) { blockIdx.x = block_; \
        for (unsigned int thread_ = 0; thread_ < threads; ++thread_) { \
            threadIdx.x = thread_; kernel(__VA_ARGS__); } }
typedef double T;
#define ACTIVATION(name, body) \
    extern "C" void name(long long n, const T* grad_, const T* y_, T* dx_) { \
        for (long long i = 0; i < n; ++i) { T grad = grad_[i], y = y_[i], dx; body; dx_[i] = dx; } }
ACTIVATION(relu, RELU)
ACTIVATION(tanh_, TANH)
ACTIVATION(sigmoid, SIGMOID)
extern "C" {
void cross_entropy_backward(long long rows, long long classes, const T* x_, const T* lse_,
                            const long long* target_, const T* valid_, const T* scale_,
                            int per_row, T* dx_) {
    for (long long i = 0; i < rows * classes; ++i) {
        long long r = i / classes, target = target_[r];
        T x = x_[i], lse = lse_[r], valid = valid_[r], scale = scale_[per_row ? r : 0], dx;
        BACKWARD;
        dx_[i] = dx;
    }
}
void sgd(const Tensors* t, int count, double lr, double momentum, double dampening,
         double weight_decay, int nesterov, int maximize, long long blocks, int threads) {
    EMULATE(chainrule_sgd_double, threads, blocks, *t, count, lr, momentum, dampening,
            weight_decay, nesterov, maximize)
}
void adam(const Tensors* t, int count, double step_size, double beta1, double beta2,
          double eps, double root2, double weight_decay, double factor, int maximize,
          long long blocks, int threads) {
    EMULATE(chainrule_adam_double, threads, blocks, *t, count, step_size, beta1, beta2, eps,
            root2, weight_decay, factor, maximize)
}
void rows(const double* x, const long long* target, long long classes, long long ignore,
          double nan, double* lse, double* loss, double* valid, long long count) {
    EMULATE(chainrule_cross_entropy_rows_double, 1, count, x, target, classes, ignore, nan,
            lse, loss, valid)
}
}
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    source = (PRELUDE
              + optimizer._COMMON.replace("TENSORS", str(optimizer.TENSORS))
              + optimizer._SGD.replace("{T}", "double").replace("{sqrt}", "sqrt")
              + optimizer._ADAM.replace("{T}", "double").replace("{sqrt}", "sqrt")
              + cross_entropy._ROWS_SOURCE.replace("{T}", "double").replace("{exp}", "exp")
              .replace("{log}", "log").replace("extern __shared__", "static")
              .replace("shared_bytes[]", "shared_bytes[64]")
              + LAUNCH)
    bodies = {"RELU": "dx = grad * (" + activation.DERIVATIVES["relu"] + ")",
              "TANH": "dx = grad * (" + activation.DERIVATIVES["tanh"] + ")",
              "SIGMOID": "dx = grad * (" + activation.DERIVATIVES["sigmoid"] + ")",
              "BACKWARD": cross_entropy.BACKWARD_BODY}
    source = "".join(f"#define {k} {v}\n" for k, v in bodies.items()) + source
    folder = tmp_path_factory.mktemp("gpu-emulated")
    (folder / "kernels.cpp").write_text(source)
    subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(folder / "kernels.so"),
                    str(folder / "kernels.cpp")], check=True, capture_output=True)
    return ctypes.CDLL(str(folder / "kernels.so"))


def _on_host(array):
    """A NumPy array dressed as a CuPy one for optimizer._launches: its address as .data.ptr."""
    return SimpleNamespace(data=SimpleNamespace(ptr=array.ctypes.data), size=array.size)


def _launch(function, rows, *scalars):
    for tensors, count, total in optimizer._launches(rows):
        blocks = (total + optimizer.THREADS - 1) // optimizer.THREADS
        function(tensors.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(count),
                 *scalars, ctypes.c_longlong(blocks), ctypes.c_int(optimizer.THREADS))


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), ()] * 13 + [(300,)]  # 40 tensors: two launches of 32 and 8
    params = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(4)]
    return params, grads


def _chainrule(name, options, params, grads):
    ours = [cr.tensor(p.copy(), requires_grad=True) for p in params]
    opt = getattr(cr.optim, name)(ours, **options)
    for step_grads in grads:
        for p, g in zip(ours, step_grads):
            p.grad = cr.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in ours]


@pytest.mark.parametrize("options", [dict(lr=0.1), dict(lr=0.05, momentum=0.9, dampening=0.3,
                                                        weight_decay=0.01),
                                     dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)])
def test_sgd_kernel_matches_the_rule_written_out(library, options):
    params, grads = _problem()
    expected = _chainrule("SGD", options, params, grads)
    got = [p.copy() for p in params]
    buffers = [np.zeros_like(p) for p in params]
    o = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
         "maximize": False, **options}
    for step, step_grads in enumerate(grads):
        rows = [(_on_host(p), _on_host(g), _on_host(b) if o["momentum"] else None, None,
                 step == 0) for p, g, b in zip(got, step_grads, buffers)]
        _launch(library.sgd, rows, *(ctypes.c_double(o[k]) for k in
                                     ("lr", "momentum", "dampening", "weight_decay")),
                ctypes.c_int(o["nesterov"]), ctypes.c_int(o["maximize"]))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,options", [
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.4), weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1))])
def test_adam_kernel_matches_the_rule_written_out(library, name, options):
    params, grads = _problem(1)
    expected = _chainrule(name, options, params, grads)
    got = [p.copy() for p in params]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    lr, (beta1, beta2) = options["lr"], options.get("betas", (0.9, 0.999))
    decay = options.get("weight_decay", 0.01 if name == "AdamW" else 0.0)
    l2, factor = (0.0, 1 - lr * decay) if name == "AdamW" else (decay, 1.0)
    for step, step_grads in enumerate(grads, start=1):
        rows = [(_on_host(p), _on_host(g), _on_host(m), _on_host(v), False)
                for p, g, (m, v) in zip(got, step_grads, moments)]
        _launch(library.adam, rows, *(ctypes.c_double(x) for x in (
            lr / (1 - beta1 ** step), beta1, beta2, 1e-8, (1 - beta2 ** step) ** 0.5, l2,
            factor)), ctypes.c_int(options.get("maximize", False)))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-13)


def test_cross_entropy_rows_kernel_matches_the_op(library):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 9)) * 5
    target = rng.integers(0, 9, 6)
    target[2], target[4] = -100, 12  # ignored; out of range
    lse, loss, valid = (np.empty(6) for _ in range(3))
    pointer = ctypes.POINTER(ctypes.c_double)
    library.rows(x.ctypes.data_as(pointer), target.ctypes.data_as(ctypes.c_void_p),
                 ctypes.c_longlong(9), ctypes.c_longlong(-100), ctypes.c_double(np.nan),
                 *(a.ctypes.data_as(pointer) for a in (lse, loss, valid)), ctypes.c_longlong(6))
    counted = [0, 1, 3, 5]
    expected = cr.nn.functional.cross_entropy(cr.tensor(x[counted]),
                                              cr.tensor(target[counted]), reduction="none")
    np.testing.assert_allclose(loss[counted], expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lse, np.log(np.exp(x).sum(1)), rtol=1e-12)
    assert list(valid) == [1, 1, 0, 1, 1, 1] and loss[2] == 0 and np.isnan(loss[4])


def _double(array):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


@pytest.mark.parametrize("name,symbol", [("relu", "relu"), ("tanh", "tanh_"),
                                         ("sigmoid", "sigmoid")])
def test_activation_backward_bodies_match_the_ops(library, name, symbol):
    rng = np.random.default_rng(3)
    x, upstream = rng.standard_normal(50), rng.standard_normal(50)
    t = cr.tensor(x, requires_grad=True)
    y = getattr(t, name)()
    y.backward(cr.tensor(upstream))
    out = np.empty(50)
    getattr(library, symbol)(ctypes.c_longlong(50), _double(upstream), _double(y.detach().numpy()),
                             _double(out))
    np.testing.assert_allclose(out, t.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_backward_body_matches_the_op(library, reduction):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 7))
    target = rng.integers(0, 7, 5)
    target[3] = -100
    t = cr.tensor(x, requires_grad=True)
    loss = cr.nn.functional.cross_entropy(t, cr.tensor(target), reduction=reduction)
    upstream = rng.standard_normal(loss.shape)
    loss.backward(cr.tensor(upstream))
    valid = (target != -100).astype(float)
    scale = upstream / valid.sum() if reduction == "mean" else upstream
    lse = np.log(np.exp(x).sum(1))
    out = np.empty_like(x)
    library.cross_entropy_backward(
        ctypes.c_longlong(5), ctypes.c_longlong(7), _double(x), _double(lse),
        target.ctypes.data_as(ctypes.c_void_p), _double(valid),
        _double(np.ascontiguousarray(scale, dtype=float).reshape(-1)),
        ctypes.c_int(reduction == "none"), _double(out))
    np.testing.assert_allclose(out, t.grad.numpy(), rtol=1e-12, atol=1e-15)

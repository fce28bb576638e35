"""The backward of the elementwise activations, one kernel each (CuPy would launch one
per operator: two for relu, three for tanh and sigmoid).

Each takes the upstream gradient and the activation's output y, as the ops save it.
"""
from __future__ import annotations

import functools

from ... import backend


@functools.cache
def _kernel(name: str, derivative: str):
    return backend.cupy().ElementwiseKernel(
        "T grad, T y", "T dx", f"dx = grad * ({derivative})", f"chainrule_{name}_backward")


def relu_backward(grad, y):
    # d relu(x)/dx = 1 where y > 0, else 0
    return _kernel("relu", "y > (T)0 ? (T)1 : (T)0")(grad, y)


def tanh_backward(grad, y):
    # d tanh(x)/dx = 1 - y²
    return _kernel("tanh", "(T)1 - y * y")(grad, y)


def sigmoid_backward(grad, y):
    # d σ(x)/dx = y (1 - y)
    return _kernel("sigmoid", "y * ((T)1 - y)")(grad, y)

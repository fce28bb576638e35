"""The backward of the elementwise activations, one kernel each (CuPy would launch one
per operator: two for relu, three for tanh and sigmoid).

Each takes the upstream gradient and the activation's output y, as the ops save it.
"""
from __future__ import annotations

import functools

from ... import backend

# dy/dx from the output y, in CUDA C (T: the element type)
DERIVATIVES = {
    "relu": "y > (T)0 ? (T)1 : (T)0",   # d relu(x)/dx = 1 where y > 0, else 0
    "tanh": "(T)1 - y * y",             # d tanh(x)/dx = 1 - y²
    "sigmoid": "y * ((T)1 - y)",        # d σ(x)/dx = y (1 - y)
}


@functools.cache
def _kernel(name: str):
    return backend.cupy().ElementwiseKernel(
        "T grad, T y", "T dx", f"dx = grad * ({DERIVATIVES[name]})",
        f"chainrule_{name}_backward")


def relu_backward(grad, y):
    return _kernel("relu")(grad, y)


def tanh_backward(grad, y):
    return _kernel("tanh")(grad, y)


def sigmoid_backward(grad, y):
    return _kernel("sigmoid")(grad, y)

"""The differentiable operations, grouped by family; `functions` holds the public forms."""
from .functions import (  # noqa: F401
    abs, add, argmax, argmin, cast, cat, clamp, clone, concatenate, div, exp, expand, flatten,
    gather, index, log, log_softmax, matmul, max, maximum, mean, min, minimum, mul, neg,
    permute, pow, relu, reshape, sigmoid, softmax, sqrt, squeeze, stack, std, sub, sum, t,
    tanh, to_device, transpose, unsqueeze, var, view, where,
)

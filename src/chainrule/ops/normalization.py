"""Batch and layer normalization, each one fused op with its closed-form backward.

Both standardise x over some axes — x̂ = (x - μ)/√(σ² + ε), σ² the biased variance — then
scale and shift it: y = γ·x̂ + β. Differentiating through μ and σ² (which depend on every
x in the group of m values) gives the closed form

    dL/dx = (1/√(σ² + ε)) · (ĝ - mean(ĝ) - x̂ · mean(ĝ ⊙ x̂)),    ĝ = γ ⊙ dL/dy,

with the means over the same m values; dL/dγ = Σ dL/dy ⊙ x̂ and dL/dβ = Σ dL/dy over the
other axes. BatchNorm normalises each channel over (batch, spatial…); LayerNorm each
sample over its trailing `normalized_shape` dims.

When the backward is itself differentiated (`create_graph=True`), x̂ and 1/√(σ² + ε) are
recomputed from x with ops, so the second derivative sees how they depend on x.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp
from .reduction import Mean, Sum
from .shape import Reshape


def _standardise(x, axes, eps):
    """(x̂, 1/√(σ² + ε)) over `axes` as ops on the tensor x (for a backward being
    differentiated)."""
    centred = x - Mean.call(x, dim=axes, keepdim=True)
    inv_std = (Mean.call(centred * centred, dim=axes, keepdim=True) + eps) ** -0.5
    return centred * inv_std, inv_std


def _moments(x, axes, eps):
    """x̂, 1/√(σ² + ε), μ and σ² (biased) over `axes` of an array."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / xp(x).sqrt(var + eps)
    centred *= inv_std
    return centred, inv_std, mean, var


def _group_terms(grad_hat, x_hat, axes):
    """mean(ĝ) and mean(ĝ ⊙ x̂) over the normalised axes."""
    return (Mean.call(grad_hat, dim=axes, keepdim=True),
            Mean.call(grad_hat * x_hat, dim=axes, keepdim=True))


class BatchNorm(Op):
    # Per channel c (axis 1) over the m values of (batch, spatial…):
    #   y = γ_c·x̂ + β_c,  x̂ = (x - μ_c)/√(σ²_c + ε)   (batch statistics, or given ones)
    #   dL/dx = γ_c/√(σ²_c + ε) · (g - mean g - x̂·mean(g x̂))   (batch statistics)
    #   dL/dx = γ_c/√(σ²_c + ε) · g                           (given statistics: constants)
    #   dL/dγ_c = Σ g·x̂,   dL/dβ_c = Σ g
    torch_name = "NativeBatchNormBackward0"

    def forward(ctx, x, *affine, eps=1e-5, stats=None, running=None, has_weight=True):
        """`stats` = (mean, var): normalise with these (eval mode) instead of the batch's.
        `running` = (running_mean, running_var, factor): fold the batch statistics into
        these buffers in place, as PyTorch's kernel does (variance unbiased there)."""
        channels = x.shape[1]
        ctx.axes = (0,) + tuple(range(2, x.ndim))
        ctx.shape = (1, channels) + (1,) * (x.ndim - 2)
        ctx.eps = eps
        ctx.batch_stats = stats is None
        ctx.has_weight = has_weight
        if stats is None:
            x_hat, inv_std, mean, var = _moments(x, ctx.axes, eps)
            if running is not None:
                _update_running(mean, var, x.size // channels, running)
        else:
            mean, var = (s.reshape(ctx.shape).astype(x.dtype, copy=False) for s in stats)
            inv_std = 1.0 / xp(x).sqrt(var + eps)
            x_hat = (x - mean) * inv_std
            ctx.given_mean = mean
        ctx.save_for_backward(x, x_hat, inv_std, *affine)
        y = x_hat
        if has_weight:
            y = y * affine[0].reshape(ctx.shape)
        if len(affine) > has_weight:
            y = y + affine[-1].reshape(ctx.shape)
        return y

    def backward(ctx, grad):
        x, x_hat, inv_std = ctx.saved[:3]
        affine = ctx.saved[3:]
        if ctx.building_graph:  # differentiating the backward: x̂ as a function of x
            if ctx.batch_stats:
                x_hat, inv_std = _standardise(x, ctx.axes, ctx.eps)
            else:
                x_hat = (x - ctx.given_mean) * inv_std
        channels = ctx.shape[1]
        grads = [None, None, None][:1 + len(affine)]
        scale = inv_std
        if ctx.has_weight:
            scale = Reshape.call(affine[0], shape=ctx.shape) * inv_std
        if ctx.needs_grad(0):
            if ctx.batch_stats:
                mean_g, mean_gx = _group_terms(grad, x_hat, ctx.axes)
                grads[0] = (grad - mean_g - x_hat * mean_gx) * scale
            else:
                grads[0] = grad * scale
        if ctx.has_weight and ctx.needs_grad(1):
            grads[1] = Reshape.call(Sum.call(grad * x_hat, dim=ctx.axes), shape=(channels,))
        if len(affine) > ctx.has_weight and ctx.needs_grad(len(affine)):
            grads[-1] = Reshape.call(Sum.call(grad, dim=ctx.axes), shape=(channels,))
        return tuple(grads)


def _update_running(mean, var, count, running):
    """running ← (1 - f)·running + f·batch, with the unbiased batch variance."""
    running_mean, running_var, factor = running
    mean = mean.reshape(-1)
    var = var.reshape(-1) * (count / max(count - 1, 1))
    running_mean *= 1 - factor
    running_mean += (factor * mean).astype(running_mean.dtype, copy=False)
    running_var *= 1 - factor
    running_var += (factor * var).astype(running_var.dtype, copy=False)


class LayerNorm(Op):
    # Per sample over its last k dims (m values):  y = γ·x̂ + β,  x̂ = (x - μ)/√(σ² + ε);
    #   dL/dx = (1/√(σ² + ε)) · (ĝ - mean ĝ - x̂·mean(ĝ x̂)),  ĝ = γ·g
    #   dL/dγ = Σ_samples g·x̂,   dL/dβ = Σ_samples g
    torch_name = "NativeLayerNormBackward0"

    def forward(ctx, x, *affine, normalized_ndim=1, eps=1e-5, has_weight=True):
        ctx.axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        ctx.lead = tuple(range(x.ndim - normalized_ndim))
        ctx.eps = eps
        ctx.has_weight = has_weight
        x_hat, inv_std, _, _ = _moments(x, ctx.axes, eps)
        ctx.save_for_backward(x, x_hat, inv_std, *affine)
        y = x_hat
        if has_weight:
            y = y * affine[0]
        if len(affine) > has_weight:
            y = y + affine[-1]
        return y

    def backward(ctx, grad):
        x, x_hat, inv_std = ctx.saved[:3]
        affine = ctx.saved[3:]
        if ctx.building_graph:
            x_hat, inv_std = _standardise(x, ctx.axes, ctx.eps)
        grads = [None, None, None][:1 + len(affine)]
        if ctx.needs_grad(0):
            grad_hat = grad * affine[0] if ctx.has_weight else grad
            mean_g, mean_gx = _group_terms(grad_hat, x_hat, ctx.axes)
            grads[0] = (grad_hat - mean_g - x_hat * mean_gx) * inv_std
        if ctx.has_weight and ctx.needs_grad(1):
            grads[1] = _sum_over(grad * x_hat, ctx.lead)
        if len(affine) > ctx.has_weight and ctx.needs_grad(len(affine)):
            grads[-1] = _sum_over(grad, ctx.lead)
        return tuple(grads)


def _sum_over(value, axes):
    return Sum.call(value, dim=axes) if axes else value

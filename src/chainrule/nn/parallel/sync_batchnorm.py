"""`SyncBatchNorm`: batch normalization with statistics over the whole global batch.

Under DistributedDataParallel a plain BatchNorm normalises each rank's share of the batch
with that share's own mean and variance (PyTorch does the same), so 4 ranks × 32 examples
do not train like one process with 128. SyncBatchNorm sums the statistics over all ranks
first. Per channel, with m_r values on rank r (M = Σ m_r in all):

    μ  = Σ_r Σ x / M            σ² = Σ_r Σ x² / M − μ²       (one allreduce of 2C+1 sums)
    x̂ = (x − μ) / √(σ² + ε)    y = γ·x̂ + β

and backward, since every rank's x moved μ and σ² for every rank,

    dx = γ/√(σ² + ε) · (dy − (Σ_all dy)/M − x̂ · (Σ_all dy·x̂)/M)   (a second allreduce)
    dγ = Σ_local dy·x̂      dβ = Σ_local dy   (DistributedDataParallel then averages these)

Outside training, on one process, or without an initialized process group it is a plain
BatchNorm. `SyncBatchNorm.convert_sync_batchnorm(model)` swaps every BatchNorm of a model.
"""
from __future__ import annotations

import numpy

from ... import backend
from ...autograd.function import Function
from ...backend import xp
from ...distributed import collectives
from ...distributed import group as groups
from ...tensor import Tensor
from ..layers.normalization import _BatchNorm


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over (N, C, *) inputs whose batch statistics span every rank."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if not (self.training and groups.is_initialized()
                and groups.get_world_size(self.process_group) > 1):
            return super().forward(input)
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm({self.num_features}): input of shape {tuple(input.shape)} "
                             f"has {input.shape[1]} channels (dim 1)")
        momentum = self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.array += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        running = (self.running_mean, self.running_var, momentum) \
            if self.track_running_stats else None
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, self.eps,
                                            groups.resolve(self.process_group), running)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """`module` with every BatchNorm replaced by a SyncBatchNorm holding the same
        parameters and buffers (the module itself if it is a BatchNorm)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            if module.affine:
                converted.weight, converted.bias = module.weight, module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted.register_buffer(name, getattr(module, name))
            converted.train(module.training)
        for name, child in list(module._modules.items()):
            if child is not None:
                converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


class _SyncBatchNormFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps, group, running):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        data = x.array
        local_count = data.size // data.shape[1]
        sums = xp(data).concatenate([data.sum(axis=axes), (data * data).sum(axis=axes),
                                     xp(data).asarray([local_count], dtype=data.dtype)])
        sums = _all_reduce(sums, group)
        channels = data.shape[1]
        count = float(sums[-1])
        mean = sums[:channels] / count
        var = xp(data).maximum(sums[channels:2 * channels] / count - mean * mean, 0)
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training over all ranks, got {int(count)}")
        inv_std = 1.0 / xp(var).sqrt(var + eps)
        x_hat = (data - mean.reshape(shape)) * inv_std.reshape(shape)
        if running is not None:
            running_mean, running_var, momentum = running
            running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * mean
            running_var.array[...] = ((1 - momentum) * running_var.array
                                      + momentum * var * (count / (count - 1)))
        out = x_hat
        if weight is not None:
            out = out * weight.array.reshape(shape)
        if bias is not None:
            out = out + bias.array.reshape(shape)
        ctx.save_for_backward(Tensor._wrap(x_hat.astype(data.dtype, copy=False)),
                              Tensor._wrap(inv_std.astype(data.dtype, copy=False)), weight)
        ctx.group, ctx.count, ctx.axes, ctx.shape = group, count, axes, shape
        ctx.has_bias = bias is not None
        return Tensor._wrap(out.astype(data.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad):
        x_hat, inv_std, weight = ctx.saved_tensors
        dy, x_hat, inv_std = grad.array, x_hat.array, inv_std.array
        axes, shape = ctx.axes, ctx.shape
        local = xp(dy).concatenate([dy.sum(axis=axes), (dy * x_hat).sum(axis=axes)])
        channels = dy.shape[1]
        grad_bias, grad_weight = local[:channels], local[channels:]
        total = _all_reduce(local.copy(), ctx.group) / ctx.count
        mean_dy, mean_dy_xhat = total[:channels].reshape(shape), total[channels:].reshape(shape)
        scale = inv_std if weight is None else inv_std * weight.array
        dx = scale.reshape(shape) * (dy - mean_dy - x_hat * mean_dy_xhat)
        wrap = Tensor._wrap
        return (wrap(dx.astype(dy.dtype, copy=False)),
                None if weight is None else wrap(grad_weight),
                wrap(grad_bias) if ctx.has_bias else None, None, None, None)


def _all_reduce(array, group):
    """The element-wise sum over ranks of a small array of per-channel sums (in float64,
    so that sums of squares over a large global batch keep their digits)."""
    summed = Tensor._wrap(numpy.asarray(backend.to_device(array, "cpu"), dtype=numpy.float64))
    collectives.all_reduce(summed, group=group)
    return backend.to_device(summed.array, backend.device_of(array))


"""`chainrule.utils.tensorboard.SummaryWriter`, at PyTorch's `torch.utils.tensorboard` path.

The event files are written by tensorboardX (`pip install 'chainrule[tensorboard]'`); this
writer is tensorboardX's own, except that a chainrule tensor given to any `add_*` method
(`writer.add_scalar("loss", loss)`, `add_histogram("w", layer.weight)`) is handed over as
the NumPy array it holds, since tensorboardX reads only NumPy arrays and PyTorch tensors.
"""
from __future__ import annotations

import functools

from chainrule.tensor import Tensor

try:
    import tensorboardX
except ModuleNotFoundError as err:
    raise ModuleNotFoundError(
        "chainrule.utils.tensorboard needs tensorboardX, which writes the event files: "
        "pip install 'chainrule[tensorboard]'", name=err.name) from err


def _as_numpy(value):
    """A tensor's array; the values of a dict (add_scalars' {tag: value}) likewise."""
    if isinstance(value, dict):
        return {key: _as_numpy(item) for key, item in value.items()}
    return value.detach().cpu().numpy() if isinstance(value, Tensor) else value


def _tensors_as_numpy(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        return method(*map(_as_numpy, args), **{k: _as_numpy(v) for k, v in kwargs.items()})
    return call


class SummaryWriter(tensorboardX.SummaryWriter):
    """tensorboardX's SummaryWriter, taking chainrule tensors wherever it takes arrays."""

    def __getattribute__(self, name):
        attribute = super().__getattribute__(name)
        if name.startswith("add_") and callable(attribute):
            return _tensors_as_numpy(attribute)
        return attribute


__all__ = ["SummaryWriter"]

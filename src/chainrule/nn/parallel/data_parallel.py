"""`DataParallel(module)`: PyTorch's one-process wrapper that splits each batch over GPUs.
A chainrule model runs on one device, so the wrapper calls `module` on the whole batch:
code that wraps its model (`model = nn.DataParallel(model)`) runs as written, and the
wrapper's state_dict keys carry PyTorch's `module.` prefix."""
from __future__ import annotations

from ..module import Module


class DataParallel(Module):
    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected a Module, got {type(module).__name__}")
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

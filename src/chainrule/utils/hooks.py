"""`torch.utils.hooks`: the handle that every `register_*hook` returns (`handle.remove()`),
importable at PyTorch's path (`from torch.utils.hooks import RemovableHandle`)."""
from ..autograd.hooks import RemovableHandle

__all__ = ["RemovableHandle"]

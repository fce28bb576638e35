"""What `cr.load` does with files that are not chainrule's own safetensors checkpoints."""
from __future__ import annotations

import os

from .. import backend
from ..tensor import Tensor
from .hf_folder import is_hf_folder, load_hf_folder
from .torch_checkpoint import is_torch_checkpoint, load_torch_checkpoint

__all__ = ["is_foreign", "load_foreign"]


def is_foreign(path: str) -> bool:
    """A torch.save file (zip archive or legacy pickle stream) or a Hugging Face folder."""
    return is_hf_folder(path) or (os.path.isfile(path) and is_torch_checkpoint(path))


def load_foreign(path: str, device=None):
    if os.path.isdir(path):
        return load_hf_folder(path, device)[0]
    obj = load_torch_checkpoint(path)
    return obj if device is None else _to_device(obj, device)


def _to_device(obj, device: str):
    """The same nesting with every Tensor moved to `device`."""
    if isinstance(obj, Tensor):
        return Tensor._wrap(backend.to_device(obj.array, device))
    if isinstance(obj, dict):
        moved = type(obj)((k, _to_device(v, device)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            moved._metadata = obj._metadata
        return moved
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj

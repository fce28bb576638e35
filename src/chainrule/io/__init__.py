"""Models in and out of chainrule: PyTorch checkpoints (read without running their code),
Hugging Face folders, ONNX export and DLPack exchange; and whole models in chainrule's
own checkpoints (`whole`: `save(model)`, `load` rebuilds it)."""
from . import onnx, whole  # noqa: F401 - whole registers serialize's codecs
from .dlpack import from_dlpack, to_dlpack
from .hf_folder import load_hf_folder
from .torch_checkpoint import UnsafeCheckpointError, is_torch_checkpoint, load_torch_checkpoint

__all__ = ["UnsafeCheckpointError", "from_dlpack", "is_torch_checkpoint", "load_hf_folder",
           "load_torch_checkpoint", "onnx", "to_dlpack"]

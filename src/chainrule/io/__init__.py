"""Models in and out of chainrule: PyTorch checkpoints (read without running their code),
Hugging Face folders, ONNX export and DLPack exchange."""
from . import onnx
from .dlpack import from_dlpack, to_dlpack
from .hf_folder import load_hf_folder
from .torch_checkpoint import UnsafeCheckpointError, is_torch_checkpoint, load_torch_checkpoint

__all__ = ["UnsafeCheckpointError", "from_dlpack", "is_torch_checkpoint", "load_hf_folder",
           "load_torch_checkpoint", "onnx", "to_dlpack"]

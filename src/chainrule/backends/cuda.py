"""PyTorch's CUDA matmul flags, kept so that programs setting them run."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built() -> bool:
    from .. import cuda
    return cuda.is_available()

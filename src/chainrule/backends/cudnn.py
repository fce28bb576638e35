"""PyTorch's cuDNN flags, kept so that programs setting them run (CuPy does not read them)."""
from .. import cuda as _cuda

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return _cuda.is_available()


def version() -> None:
    return None

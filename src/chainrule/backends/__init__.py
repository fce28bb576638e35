"""`cr.backends`: PyTorch's switches for the libraries below it, as far as they exist here:
`mps` (never available: chainrule computes on NumPy and CuPy), `cudnn` and `cuda` (flags
that programs set, such as `cudnn.benchmark = True`; CuPy's kernels do not read them)."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]

"""`cr.version`: PyTorch's `torch.version` module, as programs read it (`torch.version.cuda`
to see which CUDA a build targets, `torch.version.__version__`).

`__version__` is chainrule's own. `cuda` is the CUDA runtime CuPy runs on when a GPU is
there ("12.4"), else None, as in PyTorch's CPU build; `hip` is None (no ROCm backend).
"""
from __future__ import annotations

__version__ = "0.1.0"
hip = None
debug = False
git_version = "unknown"


def __getattr__(name: str):
    if name == "cuda":  # asked only when read: finding it imports CuPy
        from . import backend
        if backend.gpu_count() == 0:
            return None
        import cupy  # noqa: PLC0415 - optional, present when a GPU is counted
        major, minor = divmod(cupy.cuda.runtime.runtimeGetVersion() // 10, 100)
        return f"{major}.{minor}"
    raise AttributeError(f"module 'chainrule.version' has no attribute {name!r}")

"""IPython.core.debugger.set_trace: a breakpoint in the calling frame (pdb's)."""
from pdb import set_trace  # noqa: F401

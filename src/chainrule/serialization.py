"""`chainrule.serialization`: `save` and `load` at PyTorch's module path (`torch.serialization`)."""
from .serialize import LoadError, SaveError, load, save  # noqa: F401

"""`chainrule.utils`: helpers at PyTorch's paths (`chainrule.utils.data`)."""
from . import data  # noqa: F401

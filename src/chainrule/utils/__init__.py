"""`chainrule.utils`: helpers at PyTorch's paths (`chainrule.utils.data`,
`chainrule.utils.checkpoint`)."""
from . import checkpoint, data  # noqa: F401

"""`torch.cuda.amp`: PyTorch's older path to the mixed-precision helpers (chainrule.amp)."""
from ..amp import GradScaler, autocast, is_autocast_available  # noqa: F401

"""Datasets live at PyTorch's path, `chainrule.utils.data`; kept here for older imports."""
from ..utils.data.dataset import *  # noqa: F403 (every public name, one list: its __all__)
from ..utils.data.dataset import __all__  # noqa: F401

"""PyTorch programs on chainrule: the `torch` import hook behind `chainrule run`."""
from .run import run_script
from .torch_alias import TorchNotProvided, torch_as_chainrule

__all__ = ["TorchNotProvided", "run_script", "torch_as_chainrule"]

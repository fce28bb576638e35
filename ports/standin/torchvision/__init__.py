"""A stand-in for the few torchvision names the ported programs use, backed by the
offline data sets of chainrule (so no download). It imports `torch`: the real PyTorch
for the reference run, chainrule under `chainrule run`. Used only by scripts/ports.py."""
from . import datasets, io, models, transforms, utils  # noqa: F401

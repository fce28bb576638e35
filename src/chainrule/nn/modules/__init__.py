"""`chainrule.nn.modules`: the layers at PyTorch's module paths, so that
`from chainrule.nn.modules.loss import _Loss` finds what `torch.nn.modules.loss` holds."""
import sys

from .. import containers, module
from ..layers import *  # noqa: F401,F403
from ..layers import (
    activation,
    attention,
    conv,
    dropout,
    embedding,
    linear,
    loss,
    normalization,
    pooling,
    recurrent,
    transformer,
)

# PyTorch's file name -> the chainrule module that holds those layers
_PATHS = {"module": module, "container": containers, "activation": activation,
          "conv": conv, "dropout": dropout, "sparse": embedding, "linear": linear,
          "flatten": linear, "loss": loss, "batchnorm": normalization,
          "normalization": normalization, "pooling": pooling, "rnn": recurrent,
          "transformer": transformer, "attention": attention}
for _name, _module in _PATHS.items():
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module

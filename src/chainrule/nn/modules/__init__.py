"""`chainrule.nn.modules`: the layers at PyTorch's module paths, so that
`from chainrule.nn.modules.loss import _Loss` or `chainrule.nn.modules.activation.ELU`
find what `torch.nn.modules.<file>` holds.

Each of PyTorch's file names is a module here holding every layer (chainrule groups its
layers into other files) plus the private helpers of the matching chainrule file.
"""
import sys
import types

from .. import containers, layers, module
from ..layers import *  # noqa: F401,F403
from ..layers import (
    activation,
    attention,
    conv,
    distance,
    dropout,
    embedding,
    group_normalization,
    linear,
    loss,
    normalization,
    padding,
    pooling,
    recurrent,
    resize,
    transformer,
)
from ..parameter_containers import ParameterDict, ParameterList

# PyTorch's file name -> the chainrule module whose private names it also needs
_SOURCES = {"module": module, "container": containers, "activation": activation,
            "conv": conv, "dropout": dropout, "sparse": embedding, "linear": linear,
            "flatten": linear, "loss": loss, "batchnorm": normalization,
            "normalization": group_normalization, "instancenorm": group_normalization,
            "padding": padding, "pooling": pooling, "rnn": recurrent, "transformer": transformer,
            "pixelshuffle": resize, "upsampling": resize, "distance": distance}
_EVERY_LAYER = {name: getattr(layers, name) for name in dir(layers) if name[:1].isupper()}
_EVERY_LAYER.update(Module=module.Module, Sequential=containers.Sequential,
                    ModuleList=containers.ModuleList, ModuleDict=containers.ModuleDict,
                    ParameterList=ParameterList, ParameterDict=ParameterDict,
                    MultiheadAttention=attention.MultiheadAttention)

for _name, _source in _SOURCES.items():
    _alias = types.ModuleType(f"{__name__}.{_name}", f"PyTorch's torch.nn.modules.{_name}")
    _alias.__dict__.update(_EVERY_LAYER)
    _alias.__dict__.update({k: v for k, v in vars(_source).items() if not k.startswith("__")})
    sys.modules[_alias.__name__] = _alias
    globals()[_name] = _alias

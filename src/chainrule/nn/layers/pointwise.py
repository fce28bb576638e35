"""The piecewise-linear and smooth activations (nn/functional/piecewise.py and smooth.py)
as modules. Each module keeps its options as attributes, named as PyTorch names them."""
from __future__ import annotations

from ... import backend
from .. import functional as F
from ..module import Module
from ..parameter import Parameter

__all__ = ["Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Threshold", "Softshrink",
           "Hardshrink", "PReLU", "RReLU", "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus",
           "Softsign", "Tanhshrink", "GLU", "Softmin", "Softmax2d"]


class _Activation(Module):
    """A module that applies `function` with the options it was built with."""

    function = None

    def __init__(self, **options):
        super().__init__()
        self._options = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, input):  # noqa: A002
        return type(self).function(input, **{name: getattr(self, name) for name in self._options})

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self._options
                         if name != "inplace" or self.inplace)


class Hardtanh(_Activation):
    function = staticmethod(F.hardtanh)

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(min_val=min_val, max_val=max_val, inplace=inplace)


class ReLU6(_Activation):
    function = staticmethod(F.relu6)

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)


class Hardsigmoid(_Activation):
    function = staticmethod(F.hardsigmoid)

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)


class Hardswish(_Activation):
    function = staticmethod(F.hardswish)

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)


class Threshold(_Activation):
    function = staticmethod(F.threshold)

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(threshold=threshold, value=value, inplace=inplace)


class Softshrink(_Activation):
    function = staticmethod(F.softshrink)

    def __init__(self, lambd: float = 0.5):
        super().__init__(lambd=lambd)


class Hardshrink(_Activation):
    function = staticmethod(F.hardshrink)

    def __init__(self, lambd: float = 0.5):
        super().__init__(lambd=lambd)


class RReLU(Module):
    """Leaky ReLU with a random negative slope in [lower, upper] while training, their
    mean in evaluation."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):  # noqa: A002
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class PReLU(Module):
    """Leaky ReLU with learned negative slopes: one for all channels, or one per channel."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        xp = backend.module_for(backend.normalize_device(device or "cpu"))
        self.weight = Parameter(xp.full(num_parameters, init,
                                        dtype=dtype or backend.default_dtype()))

    def reset_parameters(self) -> None:
        self.weight.array[...] = self.init

    def forward(self, input):  # noqa: A002
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(_Activation):
    function = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(alpha=alpha, inplace=inplace)


class SELU(_Activation):
    function = staticmethod(F.selu)

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)


class CELU(_Activation):
    function = staticmethod(F.celu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(alpha=alpha, inplace=inplace)


class SiLU(_Activation):
    function = staticmethod(F.silu)

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)


class Mish(_Activation):
    function = staticmethod(F.mish)

    def __init__(self, inplace: bool = False):
        super().__init__(inplace=inplace)


class Softplus(_Activation):
    function = staticmethod(F.softplus)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__(beta=beta, threshold=threshold)


class Softsign(_Activation):
    function = staticmethod(F.softsign)


class Tanhshrink(_Activation):
    function = staticmethod(F.tanhshrink)


class GLU(_Activation):
    function = staticmethod(F.glu)

    def __init__(self, dim: int = -1):
        super().__init__(dim=dim)


class Softmin(_Activation):
    function = staticmethod(F.softmin)

    def __init__(self, dim: int | None = None):
        super().__init__(dim=dim)


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of a (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):  # noqa: A002
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected an input of 3 or 4 dimensions, got shape "
                             f"{tuple(input.shape)}")
        return F.softmax(input, dim=-3)



"""`torch.special`: PyTorch's namespace of special functions. Most are chainrule's
functions of the top level under their SciPy-style names (expit is the sigmoid, gammaln
lgamma, psi digamma); the normal distribution's functions and the entropy terms are
composed here from erf, erfinv and log, so they differentiate."""
from __future__ import annotations

import math

from .composites import TOP_LEVEL
from .composites import functions as f
from .creation import tensor
from .tensor import Tensor, lift

_SAME = ("digamma", "erf", "erfc", "erfinv", "exp2", "expm1", "i0", "log1p", "log_softmax",
         "logit", "logsumexp", "polygamma", "round", "sinc", "softmax", "xlogy")
_RENAMED = {"expit": "sigmoid", "gammaln": "lgamma", "psi": "digamma",
            "multigammaln": "mvlgamma"}



def _function(name: str):
    return TOP_LEVEL.get(name) or getattr(f, name)


globals().update({name: _function(name) for name in _SAME})
globals().update({name: _function(ours) for name, ours in _RENAMED.items()})


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def ndtr(input) -> Tensor:  # noqa: A002
    """The standard normal's distribution function: (1 + erf(x/√2)) / 2."""
    x = _tensor(input)
    return f.mul(f.add(TOP_LEVEL["erf"](f.div(x, math.sqrt(2.0))), 1.0), 0.5)


def log_ndtr(input) -> Tensor:  # noqa: A002
    return f.log(ndtr(input))


def ndtri(input) -> Tensor:  # noqa: A002
    """ndtr's inverse: √2 · erfinv(2p - 1)."""
    p = _tensor(input)
    return f.mul(TOP_LEVEL["erfinv"](f.sub(f.mul(p, 2.0), 1.0)), math.sqrt(2.0))


def entr(input) -> Tensor:  # noqa: A002
    """-x log x elementwise: 0 at 0, -inf below 0 (as PyTorch)."""
    x = _tensor(input)
    inside = f.sub(lift(0.0, x), TOP_LEVEL["xlogy"](x, x))  # (0 - 0 is +0, as PyTorch's)
    minus_infinity = lift(-math.inf, x)
    return f.where(x.array < 0, minus_infinity, inside)


def xlog1py(input, other) -> Tensor:  # noqa: A002
    """x · log(1 + y), 0 where x is 0 (whatever y)."""
    x, y = _tensor(input), _tensor(other)
    product = f.mul(x, TOP_LEVEL["log1p"](y))
    return f.where(x.array == 0, lift(0.0, product), product)

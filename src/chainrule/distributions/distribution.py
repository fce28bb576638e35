"""`Distribution`: what every distribution answers (shapes, sampling without a gradient)."""
from __future__ import annotations

from ..autograd import no_grad
from ..tensor import Tensor


class Distribution:
    """A batch of distributions of shape `batch_shape`, each over values of `event_shape`."""

    has_rsample = False
    shown: tuple = ()  # the parameters `repr` lists, in PyTorch's order

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None) -> None:
        self.batch_shape = tuple(batch_shape)
        self.event_shape = tuple(event_shape)
        self._validate_args = validate_args is not False  # PyTorch checks unless told not to

    def _check_support(self, value, inside: Tensor, support: str) -> None:
        """log_prob of a value outside the support is PyTorch's ValueError (validate_args)."""
        if self._validate_args and not bool(inside.all()):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) "
                             f"to be within the support {support} of the distribution "
                             f"{type(self).__name__}, but found invalid values:\n{value}")

    def sample(self, sample_shape=()) -> Tensor:
        """Draws of shape sample_shape + batch_shape + event_shape, cut from the graph."""
        with no_grad():
            return self.rsample(sample_shape) if self.has_rsample else self._draw(sample_shape)

    def _draw(self, sample_shape) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} cannot sample")

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(sample_shape) + self.batch_shape + self.event_shape

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def __repr__(self) -> str:
        """As PyTorch: `Normal(loc: 0.0, scale: 1.0)`, a parameter of several numbers by its
        size (`Categorical(probs: torch.Size([3]))`)."""
        parts = [f"{name}: {_described(getattr(self, name))}" for name in self.shown]
        return f"{type(self).__name__}({', '.join(parts)})"


def _described(value: Tensor) -> str:
    return f"{value}" if value.numel() == 1 else repr(value.size())

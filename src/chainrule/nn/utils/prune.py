"""`torch.nn.utils.prune`: zero some of a parameter's entries with a mask.

Pruning `module.weight` moves the parameter to `weight_orig`, adds a buffer `weight_mask`
(1 keeps an entry, 0 prunes it) and recomputes `module.weight = weight_orig * weight_mask`
before every call (a forward pre-hook), so the pruned entries get no gradient either.
Pruning again combines the masks: the new method chooses only among the entries still
kept (an `amount` that is a fraction is a fraction of those). `remove` makes the pruning
permanent: `weight` is a parameter again, holding the pruned values.

    amount: an int, how many entries (or channels) to prune; a float in [0, 1], the share.
"""
from __future__ import annotations

import numbers

from ... import creation
from ...autograd.grad_mode import no_grad
from ...composites.functions import cat
from ...tensor import Tensor
from ..parameter import Parameter
from .norm_hooks import _WeightHook

__all__ = ["BasePruningMethod", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _checked(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real) or amount < 0 or (
            isinstance(amount, float) and amount > 1):
        raise ValueError(f"prune: amount={amount} should either be a float in the range [0, 1] "
                         "or a non-negative integer")
    return amount


def _count(amount, total: int) -> int:
    """How many of `total` entries `amount` names (an int, or a share of them)."""
    count = round(_checked(amount) * total) if isinstance(amount, float) else int(amount)
    if count > total:
        raise ValueError(f"prune: amount={amount} should be smaller than the number of "
                         f"parameters to prune={total}")
    return count


class BasePruningMethod(_WeightHook):
    """A way to choose a mask. Subclasses define `compute_mask(t, default_mask)`; the mask
    they return keeps nothing the default mask (the earlier pruning) pruned."""

    PRUNING_TYPE = "unstructured"

    def __init__(self):  # (a method's own settings in subclasses; `apply` sets the name)
        pass

    def compute_weight(self, module):
        return getattr(module, self.name + "_orig") * getattr(module, self.name + "_mask")

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune `module.<name>` with this method (see the module docstring)."""
        method = cls(*args, **kwargs)
        method.name = name
        earlier = next((h for h in _pruning_hooks(module) if h.name == name), None)
        with no_grad():
            if earlier is None:
                original = module._parameters.pop(name)
                module.register_parameter(name + "_orig", original)
                default = creation.ones_like(original)
            else:
                earlier.handle.remove()
                original, default = getattr(module, name + "_orig"), getattr(module, name + "_mask")
            scores = original if importance_scores is None else importance_scores
            mask = method._within(scores, default)
        module.register_buffer(name + "_mask", mask)
        method.attach(module, method.compute_weight(module))
        return method

    def _within(self, t, default_mask):
        """The new mask, computed over the entries the default mask keeps."""
        if self.PRUNING_TYPE == "structured" or not bool((default_mask == 0).any()):
            return self.compute_mask(t, default_mask) * default_mask
        kept = default_mask.reshape(-1) != 0
        mask = default_mask.reshape(-1).clone()
        mask[kept] = self.compute_mask(t.reshape(-1)[kept], creation.ones(int(kept.sum())))
        return mask.reshape(default_mask.shape)

    def remove(self, module) -> None:
        """Make the pruning permanent: `<name>` becomes a parameter holding orig · mask."""
        weight = self.compute_weight(module).detach()
        self.handle.remove()
        for suffix, table in (("_orig", module._parameters), ("_mask", module._buffers)):
            del table[self.name + suffix]
            object.__delattr__(module, self.name + suffix)
        object.__delattr__(module, self.name)
        module.register_parameter(self.name, Parameter(weight))


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones)."""

    def compute_mask(self, t, default_mask):
        return default_mask


class _Unstructured(BasePruningMethod):
    def __init__(self, amount):
        self.amount = _checked(amount)

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        count = _count(self.amount, t.numel())
        if count:
            smallest = self._scores(t).reshape(-1).topk(count, largest=False).indices
            mask.reshape(-1)[smallest] = 0
        return mask


class RandomUnstructured(_Unstructured):
    """Prunes `amount` entries chosen at random."""

    def _scores(self, t):
        return creation.rand(*t.shape)


class L1Unstructured(_Unstructured):
    """Prunes the `amount` entries of smallest magnitude."""

    def _scores(self, t):
        return t.abs()


class _Structured(BasePruningMethod):
    """Prunes whole channels: `amount` slices along `dim`."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1):
        self.amount, self.dim = _checked(amount), dim

    def compute_mask(self, t, default_mask):
        if t.ndim < 2:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {tuple(t.shape)} with {t.ndim} dims")
        channels = t.shape[self.dim]
        count = _count(self.amount, channels)
        keep = creation.ones(channels)
        if count:
            keep[self._channel_scores(t).topk(count, largest=False).indices] = 0
        shape = [1] * t.ndim
        shape[self.dim] = channels
        return default_mask * keep.reshape(shape).to(default_mask.dtype)


class RandomStructured(_Structured):
    def _channel_scores(self, t):
        return creation.rand(t.shape[self.dim])


class LnStructured(_Structured):
    def __init__(self, amount, n, dim: int = -1):
        super().__init__(amount, dim)
        self.n = n

    def _channel_scores(self, t):
        others = tuple(d for d in range(t.ndim) if d != self.dim % t.ndim)
        return t.abs().pow(self.n).sum(others).pow(1 / self.n) if others else t.abs()


class CustomFromMask(BasePruningMethod):
    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        return default_mask * self.mask.to(default_mask.dtype)


def identity(module, name: str):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name: str, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the `(module, name)` pairs together: one unstructured method (its amount over
    all their entries) chooses among them all, and each gets its slice of the mask."""
    parameters = list(parameters)
    scores = [(importance_scores or {}).get((m, n), _current(m, n)) for m, n in parameters]
    masks = [getattr(m, n + "_mask", None) for m, n in parameters]
    masks = [creation.ones_like(s) if k is None else k for s, k in zip(scores, masks)]
    with no_grad():
        joint = pruning_method(**kwargs)._within(_flat(scores), _flat(masks))
    start = 0
    for (module, name), score in zip(parameters, scores):
        custom_from_mask(module, name, joint[start:start + score.numel()].reshape(score.shape))
        start += score.numel()


def _flat(tensors) -> Tensor:
    return cat([t.reshape(-1) for t in tensors])


def _current(module, name: str) -> Tensor:
    return getattr(module, name + "_orig", None) if hasattr(module, name + "_orig") \
        else getattr(module, name)


def _pruning_hooks(module) -> list:
    registered = module.__dict__.get("_hooks") or {}
    return [hook for hook, *_ in registered.get("forward_pre", {}).values()
            if isinstance(hook, BasePruningMethod)]


def remove(module, name: str):
    """Make the pruning of `module.<name>` permanent (see BasePruningMethod.remove)."""
    for hook in _pruning_hooks(module):
        if hook.name == name:
            hook.remove(module)
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module) -> bool:
    """Whether some module under `module` is pruned."""
    return any(_pruning_hooks(m) for m in module.modules())

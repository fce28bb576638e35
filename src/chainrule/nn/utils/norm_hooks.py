"""PyTorch's original weight normalisation and spectral normalisation: a forward pre-hook
recomputes the module's weight from new parameters before every call.

weight_norm (Salimans and Kingma, 2016) splits a weight into a direction and a length,

    weight = g · v / ‖v‖      (the norm over every dim but `dim`; all of them for dim=None)

with parameters `weight_g` and `weight_v`. spectral_norm (Miyato et al., 2018) divides the
weight by its largest singular value σ, estimated by power iteration on the weight as a
matrix W (`dim` first, the rest flattened), one refinement per training call:

    v <- Wᵀu / ‖Wᵀu‖,  u <- Wv / ‖Wv‖,  σ = uᵀ W v,  weight = weight_orig / σ

with parameter `weight_orig` and buffers `weight_u`, `weight_v` (u and v are constants of
the gradient). torch.nn.utils.parametrizations has the newer forms of both.
"""
from __future__ import annotations

import warnings

from ... import backend, creation
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class _WeightHook:
    """A pre-hook that sets `module.<name>` from the parameters it was split into."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, module, args) -> None:
        setattr(module, self.name, self.compute_weight(module))

    def attach(self, module, weight) -> None:
        """Put `weight` where the parameter was and recompute it before every call."""
        setattr(module, self.name, weight)
        self.handle = module.register_forward_pre_hook(self)

    @classmethod
    def detach(cls, module, name: str, what: str) -> "_WeightHook":
        """Stop the hook of `name` and return it; a ValueError if there is none."""
        registered = module.__dict__.get("_hooks") or {}
        for hook, *_ in registered.get("forward_pre", {}).values():
            if isinstance(hook, cls) and hook.name == name:
                hook.handle.remove()
                return hook
        raise ValueError(f"{what} of '{name}' not found in {module}")


def norm_except_dim(v, dim: int):
    """‖v‖ over every dim but `dim`, kept for broadcasting; the whole norm for dim=-1."""
    if dim == -1:
        return (v * v).sum().sqrt()
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return (v * v).sum(others, keepdim=True).sqrt()


class _WeightNorm(_WeightHook):
    def __init__(self, name: str, dim: int):
        super().__init__(name)
        self.dim = dim

    def compute_weight(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, self.dim))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparametrise `module.<name>` as g · v / ‖v‖ (parameters <name>_g and <name>_v)."""
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm", FutureWarning, stacklevel=2)
    hook = _WeightNorm(name, -1 if dim is None else dim)
    weight = module._parameters.pop(name)
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, hook.dim)))
    module.register_parameter(name + "_v", Parameter(weight))
    hook.attach(module, hook.compute_weight(module))
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Back to one parameter `<name>` holding the current g · v / ‖v‖."""
    hook = _WeightNorm.detach(module, name, "weight_norm")
    weight = hook.compute_weight(module)
    delattr(module, name)
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight.detach()))
    return module


class _SpectralNorm(_WeightHook):
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        super().__init__(name)
        self.n_power_iterations, self.dim, self.eps = n_power_iterations, dim, eps

    def __call__(self, module, args) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    def compute_weight(self, module, do_power_iteration: bool = False):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = weight_matrix(weight, self.dim)
        if do_power_iteration:
            w = matrix.array
            for _ in range(self.n_power_iterations):        # in place: the buffers learn
                v.array[...] = normalized(w.T @ u.array, self.eps)
                u.array[...] = normalized(w @ v.array, self.eps)
            u, v = u.clone(), v.clone()
        sigma = (u * (matrix @ v)).sum()
        return weight / sigma


def normalized(vector, eps: float):
    """An array vector divided by its length (at least eps)."""
    return vector / max(float(backend.xp(vector).linalg.norm(vector)), eps)


def weight_matrix(weight, dim: int):
    """The weight as a matrix: `dim` first, every other dim flattened."""
    if dim != 0:
        weight = weight.movedim(dim, 0)
    return weight.reshape(weight.shape[0], -1)


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None):
    """Divide `module.<name>` by its spectral norm before each call (parameter
    <name>_orig, buffers <name>_u and <name>_v, random unit vectors to start)."""
    if dim is None:
        transposed = type(module).__name__.startswith("ConvTranspose")
        dim = 1 if transposed else 0
    hook = _SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters.pop(name)
    with no_grad():
        rows, cols = weight_matrix(weight, hook.dim).shape
        u = creation.randn(rows, dtype=weight.dtype, device=weight.device)
        v = creation.randn(cols, dtype=weight.dtype, device=weight.device)
        u.array[...] = normalized(u.array, eps)
        v.array[...] = normalized(v.array, eps)
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    hook.attach(module, weight.detach())           # divided from the first call on
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Back to one parameter `<name>` holding weight_orig / σ (σ from the stored u, v)."""
    hook = _SpectralNorm.detach(module, name, "spectral_norm")
    with no_grad():
        weight = hook.compute_weight(module)
    delattr(module, name)
    for suffix in ("_u", "_v"):
        delattr(module, name + suffix)
    del module._parameters[name + "_orig"]
    module.register_parameter(name, Parameter(weight.detach()))
    return module

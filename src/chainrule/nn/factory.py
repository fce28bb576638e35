"""`factory_kwargs`: the keywords a module passes on to the factories that make its tensors."""
from __future__ import annotations

_FACTORY_KEYS = ("device", "dtype", "memory_format")


def factory_kwargs(kwargs: dict | None) -> dict:
    """`device`, `dtype` and `memory_format` out of a module's `**kwargs`, for
    `cr.empty(n, **factory_kwargs(kwargs))`; a nested `factory_kwargs={...}` entry adds
    to them (for a module whose own signature already has a `dtype`). Any other key is an
    error, raised here rather than later inside a factory."""
    if kwargs is None:
        return {}
    unexpected = set(kwargs) - {*_FACTORY_KEYS, "factory_kwargs"}
    if unexpected:
        raise TypeError(f"factory_kwargs: unexpected kwargs {sorted(unexpected)}")
    chosen = dict(kwargs.get("factory_kwargs", {}))
    for key in _FACTORY_KEYS:
        if key in kwargs:
            if key in chosen:
                raise TypeError(f"factory_kwargs: {key} specified twice, in **kwargs and in "
                                f"factory_kwargs")
            chosen[key] = kwargs[key]
    return chosen

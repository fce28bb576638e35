"""Which random stream a sampler or split draws from."""
from __future__ import annotations

import numpy

from ... import backend


def numpy_rng(generator=None, seed: int | None = None) -> numpy.random.Generator:
    """The NumPy generator behind `generator=`: chainrule's global one (seeded by
    `cr.manual_seed`) when None, a `cr.Generator`'s own stream, or a NumPy generator as is.
    `seed` (chainrule's older keyword) gives a fresh stream from that seed."""
    if seed is not None:
        return numpy.random.default_rng(seed)
    if generator is None:
        return backend.rng()
    if isinstance(generator, numpy.random.Generator):
        return generator
    for name in ("numpy_generator", "rng", "_rng"):
        stream = getattr(generator, name, None)
        stream = stream() if callable(stream) else stream
        if isinstance(stream, numpy.random.Generator):
            return stream
    raise TypeError(f"generator= must be a chainrule Generator or None, got "
                    f"{type(generator).__name__}")

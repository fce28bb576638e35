"""Which random stream a sampler or split draws from."""
from __future__ import annotations

import numpy

from ...random import stream


def numpy_rng(generator=None, seed: int | None = None) -> numpy.random.Generator:
    """The NumPy generator behind `generator=`: chainrule's global one (seeded by
    `cr.manual_seed`) when None, else the `cr.Generator`'s own stream (a NumPy generator
    is taken as is). `seed` (chainrule's older keyword) gives a fresh stream from it."""
    if seed is not None:
        return numpy.random.default_rng(seed)
    if isinstance(generator, numpy.random.Generator):
        return generator
    return stream(generator)

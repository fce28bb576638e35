"""Large parameters are updated block by block (kernels/update.py): the same trajectory as
PyTorch's, for every variant of the rules that go through the blocks."""
import numpy
import pytest
import torch

import chainrule as cr
from chainrule.kernels.update import BLOCK, MIN_SIZE

SHAPE = (MIN_SIZE // 64 + 3, 64)  # past the size that takes blocks, with a partial last one
assert SHAPE[0] * SHAPE[1] % BLOCK


@pytest.mark.parametrize("name, options", [
    ("Adam", {}), ("Adam", {"amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"maximize": True}), ("SGD", {}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}),
])
def test_blocked_rules_follow_torch(name, options) -> None:
    gen = numpy.random.default_rng(0)
    start = gen.standard_normal(SHAPE).astype("float32")
    grads = gen.standard_normal((3,) + SHAPE).astype("float32")
    tables = []
    for m in (cr, torch):
        p = m.nn.Parameter(m.tensor(start.copy()))
        opt = getattr(m.optim, name)([p], lr=0.01, **options)
        for g in grads:
            p.grad = m.tensor(g)
            opt.step()
        tables.append(p.detach().numpy())
    numpy.testing.assert_allclose(tables[0], tables[1], rtol=1e-6, atol=1e-6)
    assert numpy.abs(tables[0] - start).max() > 1e-3

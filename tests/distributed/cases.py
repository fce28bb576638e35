"""The models and data of the equivalence tests, shared by the MPI workers and the
single-process references: the same seed gives the same model in every process."""
from __future__ import annotations

import numpy

import chainrule as cr
from chainrule import nn

GLOBAL_BATCH = 16
STEPS = 4
LR = 0.1


def build(case: str):
    cr.manual_seed(0)
    if case == "mlp":
        return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 4))
    if case in ("cnn-bn", "cnn-syncbn"):
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(4 * 3 * 3, 4))
    if case == "sparse-embedding":
        return EmbedMean()
    raise ValueError(case)


class EmbedMean(nn.Module):
    """Token ids → sparse embedding rows → their mean → a linear layer."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 8, sparse=True)
        self.linear = nn.Linear(8, 4)

    def forward(self, ids):
        return self.linear(self.embedding(ids).mean(1))


def batches(case: str):
    """STEPS global batches (inputs, targets) as NumPy arrays."""
    rng = numpy.random.default_rng(1)
    for _ in range(STEPS):
        if case == "mlp":
            x = rng.standard_normal((GLOBAL_BATCH, 12)).astype(numpy.float32)
        elif case.startswith("cnn"):
            x = rng.standard_normal((GLOBAL_BATCH, 1, 8, 8)).astype(numpy.float32)
        else:
            x = rng.integers(0, 50, (GLOBAL_BATCH, 6))
        yield x, rng.integers(0, 4, GLOBAL_BATCH)


def shard(array, rank: int, world: int):
    size = len(array) // world
    return array[rank * size:(rank + 1) * size]


def step(model, optimizer, x, y) -> None:
    loss = nn.functional.cross_entropy(model(cr.tensor(x)), cr.tensor(y))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def state(model) -> dict:
    return {name: t.numpy().copy() for name, t in model.state_dict().items()}

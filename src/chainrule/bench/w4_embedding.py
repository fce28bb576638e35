"""W4: bags of token ids through a mean embedding and a linear layer.

    ids (128, 100) from a vocabulary of 20000 → EmbeddingBag(20000, 64, mode='mean')
    → linear 64→2 → cross-entropy → SGD step

Two rows: "sparse" is the target's row (sparse=True: chainrule's and PyTorch's gradients
hold only the rows that were read, and SGD updates only those; the NumPy reference does
the same); "dense" gives every framework a dense (20000, 64) gradient and update. Two more
rows, "Embedding+mean", run the same model as most users write it: `Embedding` followed
by `.mean(1)` instead of `EmbeddingBag` (the NumPy reference is the same math).
"""
from __future__ import annotations

import numpy as np

from .common import torch_threads, unsupported

ID = "W4"
TITLE = "ids (128,100), vocab 20000, EmbeddingBag 64 mean, linear 64→2"
UNIT = "samples/s"
FRAMEWORKS = ("chainrule", "torch", "numpy")
SIZE = {"batch": 128, "length": 100, "vocab": 20000, "dim": 64}
VARIANTS = (("sparse", dict(SIZE, sparse=True)), ("dense", dict(SIZE, sparse=False)),
            ("Embedding+mean sparse", dict(SIZE, sparse=True, bag=False)),
            ("Embedding+mean dense", dict(SIZE, sparse=False, bag=False)))
REPEATS, WARMUP = 7, 3
LR = 0.1


# ≥ 1.0× PyTorch with sparse gradients, and Embedding+mean as fast as the bag
TARGET = {"sparse": 1.0, "dense": None, "Embedding+mean sparse": 1.0,
          "Embedding+mean dense": 1.0}


def inner(**size) -> int:
    return 10


def work(batch, **size) -> float:
    return batch


def data(batch: int, length: int, vocab: int):
    rng = np.random.default_rng(0)
    return rng.integers(0, vocab, (batch, length)), rng.integers(0, 2, batch)


def make(framework: str, batch: int, length: int, vocab: int, dim: int, sparse: bool,
         bag: bool = True):
    ids, y = data(batch, length, vocab)
    if framework in ("chainrule", "torch"):
        if framework == "chainrule":
            import chainrule as lib
        else:
            lib = torch_threads()
        lib.manual_seed(0)
        if bag:
            embed = lib.nn.EmbeddingBag(vocab, dim, mode="mean", sparse=sparse)
        else:
            embed = _MeanOfEmbeddings(lib.nn.Embedding(vocab, dim, sparse=sparse))
        return _framework_step(lib.nn.functional, embed, lib.nn.Linear(dim, 2), lib.optim,
                               lib.from_numpy(ids), lib.from_numpy(y))
    if framework == "numpy":
        return _numpy_step(ids, y, vocab, dim, sparse)
    raise unsupported(ID, framework)


class _MeanOfEmbeddings:
    """`embedding(ids).mean(1)`: a bag of words written without EmbeddingBag."""

    def __init__(self, embedding):
        self.embedding = embedding

    def parameters(self):
        return self.embedding.parameters()

    def __call__(self, ids):
        return self.embedding(ids).mean(1)


def _framework_step(functional, bag, linear, optim, ids, y):
    opt = optim.SGD(list(bag.parameters()) + list(linear.parameters()), lr=LR)

    def step():
        loss = functional.cross_entropy(linear(bag(ids)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _numpy_step(ids, y, vocab: int, dim: int, sparse: bool):  # (the same math for both rows)
    rng = np.random.default_rng(0)
    table = rng.standard_normal((vocab, dim), dtype=np.float32)
    bound = 1 / np.sqrt(dim)
    weight = rng.uniform(-bound, bound, (2, dim)).astype(np.float32)
    bias = np.zeros(2, np.float32)
    batch, length = ids.shape
    rows = np.arange(batch)
    flat = ids.reshape(-1)
    bag_of = np.repeat(rows, length)  # the bag of each token
    dense_grad = None if sparse else np.zeros_like(table)  # kept, zeroed each step

    def step():
        nonlocal bias
        mean = table[ids].mean(1)                                 # (B, D)
        logits = mean @ weight.T + bias
        e = np.exp(logits - logits.max(1, keepdims=True))
        g = e / e.sum(1, keepdims=True)
        g[rows, y] -= 1
        g /= batch
        grad_mean = g @ weight                                    # (B, D)
        weight[...] -= LR * (g.T @ mean)
        bias -= LR * g.sum(0)
        # every token of bag b adds grad_mean[b] / L to its row: a scatter-add with
        # repeated ids, done in rounds (the k-th occurrence of each id in round k, so no
        # id repeats within a round and a fancy-index update is exact)
        update = (-LR / length) * grad_mean
        if sparse:
            target = table
        else:
            target = dense_grad
            target.fill(0)
        order = np.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        first = np.empty(flat.size, bool)
        first[0] = True
        np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        rank = np.arange(flat.size) - np.repeat(starts, np.diff(np.append(starts, flat.size)))
        for k in range(int(rank.max()) + 1):
            tokens = order[rank == k]
            target[flat[tokens]] += update[bag_of[tokens]]
        if not sparse:
            table[...] += target                                  # the dense update
    return step

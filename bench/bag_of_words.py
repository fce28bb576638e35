"""A bag-of-words training step, chainrule against PyTorch in one process, over a grid.

    python bench/bag_of_words.py            (the grid below, ~1 minute on a quiet machine)
    python bench/bag_of_words.py --quick    (fewer shapes, fewer repeats)

The model is what most users write for a bag of words, not the project's W4 workload:

    ids (B, L) → nn.Embedding(V, D, sparse=…) → .mean(1) → nn.Linear(D, C) → cross_entropy
    → zero_grad, backward, optimizer step

with dense gradients under SGD, SGD with momentum and Adam, and with sparse gradients
under SGD and SparseAdam (the optimizers PyTorch accepts for them; the Linear layer then
gets SGD, or Adam beside SparseAdam). Ids are uniform, or Zipfian (`--zipf`) as in text.
Both frameworks run the same step on the same ids, alternating timed rounds so that a
change in the machine's load falls on both; the ratio is PyTorch's median time per step
over chainrule's (above 1: chainrule is faster). PyTorch runs on as many threads as
NumPy's BLAS may use (`--threads`, default 2, as the project's bench).
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import chainrule  # noqa: E402

CLASSES = 4
DENSE = ("SGD", "SGD+momentum", "Adam")
SPARSE = ("SGD", "SparseAdam")


def make_step(lib, ids, labels, vocab: int, dim: int, sparse: bool, optimizer: str):
    """One training step of the model above, built with `lib` (chainrule or torch)."""
    lib.manual_seed(0)
    embedding = lib.nn.Embedding(vocab, dim, sparse=sparse)
    linear = lib.nn.Linear(dim, CLASSES)
    if optimizer == "SGD":
        opts = [lib.optim.SGD([*embedding.parameters(), *linear.parameters()], lr=0.1)]
    elif optimizer == "SGD+momentum":
        opts = [lib.optim.SGD([*embedding.parameters(), *linear.parameters()], lr=0.1,
                              momentum=0.9)]
    elif optimizer == "Adam":
        opts = [lib.optim.Adam([*embedding.parameters(), *linear.parameters()], lr=1e-3)]
    else:  # SparseAdam for the table, Adam for the rest
        opts = [lib.optim.SparseAdam(list(embedding.parameters()), lr=1e-3),
                lib.optim.Adam(list(linear.parameters()), lr=1e-3)]
    ids, labels = lib.from_numpy(ids), lib.from_numpy(labels)

    def step():
        loss = lib.nn.functional.cross_entropy(linear(embedding(ids).mean(1)), labels)
        for opt in opts:
            opt.zero_grad()
        loss.backward()
        for opt in opts:
            opt.step()
        return loss
    return step


def token_ids(batch: int, length: int, vocab: int, zipf: bool):
    rng = np.random.default_rng(0)
    if zipf:  # rank r drawn with probability ∝ 1/r, ranks shuffled over the vocabulary
        weights = 1.0 / np.arange(1, vocab + 1)
        ids = rng.choice(vocab, (batch, length), p=weights / weights.sum())
        ids = rng.permutation(vocab)[ids]
    else:
        ids = rng.integers(0, vocab, (batch, length))
    return ids.astype(np.int64), rng.integers(0, CLASSES, batch).astype(np.int64)


def seconds_per_step(steps: dict, rounds: int, round_seconds: float = 0.05) -> dict:
    """Median seconds per call of each step, timed in alternating rounds of about
    `round_seconds` each."""
    calls = {}
    for name, step in steps.items():  # warm up (caches, allocator, optimizer state), and
        for _ in range(3):           # size the rounds from the last call
            start = time.perf_counter()
            step()
        calls[name] = max(1, int(round_seconds / (time.perf_counter() - start)))
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                step()
            times[name].append((time.perf_counter() - start) / calls[name])
    return {name: statistics.median(t) for name, t in times.items()}


def grid(quick: bool):
    """(batch, length, vocab, dim) shapes: small and large batches and vocabularies,
    and the project's W4 shape."""
    if quick:
        return [(128, 100, 20000, 64), (32, 50, 100000, 128)]
    shapes = list(itertools.product((32, 256), (50,), (5000, 100000), (64,)))
    return shapes + [(128, 100, 20000, 64), (64, 200, 30000, 128)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two shapes, fewer repeats")
    parser.add_argument("--zipf", action="store_true", help="Zipfian ids instead of uniform")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's threads (2)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per step")
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    rounds = args.rounds or (5 if args.quick else 7)
    print(f"{'B':>4} {'L':>4} {'V':>7} {'D':>4}  {'gradient':8} {'optimizer':13}"
          f"{'chainrule ms':>13} {'torch ms':>9} {'ratio':>6}")
    ratios = []
    for batch, length, vocab, dim in grid(args.quick):
        ids, labels = token_ids(batch, length, vocab, args.zipf)
        for sparse, optimizers in ((False, DENSE), (True, SPARSE)):
            for optimizer in optimizers:
                steps = {name: make_step(lib, ids, labels, vocab, dim, sparse, optimizer)
                         for name, lib in (("chainrule", chainrule), ("torch", torch))}
                t = seconds_per_step(steps, rounds)
                ratio = t["torch"] / t["chainrule"]
                ratios.append(ratio)
                print(f"{batch:4d} {length:4d} {vocab:7d} {dim:4d}  "
                      f"{'sparse' if sparse else 'dense':8} {optimizer:13}"
                      f"{t['chainrule'] * 1e3:13.3f} {t['torch'] * 1e3:9.3f} {ratio:6.2f}",
                      flush=True)
    print(f"ratio (PyTorch time / chainrule time): min {min(ratios):.2f}, "
          f"median {statistics.median(ratios):.2f}, over {len(ratios)} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())

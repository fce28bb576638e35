"""The learning-rate range test (`chainrule explain lr`): which step sizes make the loss fall.

Training starts with a tiny learning rate that grows exponentially, step after step, while
the loss is recorded. At first the steps are too small to matter and the loss stays flat;
then it falls, fastest somewhere in the middle; then the steps overshoot and it explodes,
which ends the test. A good learning rate lies in the steepest part of the fall, before the
minimum (Leslie Smith, "Cyclical Learning Rates for Training Neural Networks", 2017).

The model and optimizer are put back as they were afterwards (`restore=True`): the test
only looks.
"""
from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field

import numpy

from ..flags import int_in, positive_float, seed
from ..nn import functional as F


@dataclass
class LRRangeResult:
    """What a range test saw: each step's learning rate and loss (smoothed and raw)."""

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)      # smoothed: centred moving average
    raw_losses: list = field(default_factory=list)
    suggested_lr: float | None = None  # the steepest fall of the smoothed loss
    steep_range: tuple | None = None   # learning rates where it falls at least half as fast
    min_loss_lr: float | None = None   # where the smoothed loss is lowest
    stopped_early: bool = False        # the loss exploded before end_lr

    def plot(self, path: str, title: str | None = None) -> str:
        """Loss against learning rate (log scale), the steep region and the suggestion."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4.8), constrained_layout=True)
        ax.plot(self.lrs, self.raw_losses, color="#9db4cf", lw=1, label="loss at each step")
        ax.plot(self.lrs, self.losses, color="#1f4e79", lw=2.2, label="smoothed loss")
        if self.steep_range is not None:
            ax.axvspan(*self.steep_range, color="#2a9d3f", alpha=0.15,
                       label="steepest descent region")
        if self.suggested_lr is not None:
            k = self.lrs.index(self.suggested_lr)
            ax.axvline(self.suggested_lr, color="#2a9d3f", ls="--", lw=1.5)
            ax.plot([self.suggested_lr], [self.losses[k]], "o", color="#2a9d3f", ms=8,
                    label=f"suggested lr {self.suggested_lr:.2g}")
        if self.min_loss_lr is not None:
            k = self.lrs.index(self.min_loss_lr)
            ax.plot([self.min_loss_lr], [self.losses[k]], "v", color="#c0392b", ms=8,
                    label=f"lowest loss at lr {self.min_loss_lr:.2g} (too late: about to blow up)")
        finite = [v for v in self.losses + self.raw_losses if math.isfinite(v)]
        if finite:
            start = self.losses[0]
            ax.set_ylim(min(finite) - 0.05 * abs(start), max(min(max(finite), 2.5 * start),
                                                              start * 1.05))
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (log scale), rising every step")
        ax.set_ylabel("training loss")
        end = "the loss exploded: test stopped" if self.stopped_early else "end of the range"
        ax.set_title(title or f"Learning-rate range test ({len(self.lrs)} steps; {end})",
                     fontsize=11)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8.5, loc="upper left")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def lr_range_test(model, loader, optimizer, loss_fn=F.cross_entropy, start_lr: float = 1e-6,
                  end_lr: float = 10.0, num_steps: int = 100, smoothing: float = 0.9,
                  diverge: float = 4.0, restore: bool = True) -> LRRangeResult:
    """Train for up to `num_steps` steps with the learning rate rising exponentially from
    `start_lr` to `end_lr`; stop once the smoothed loss exceeds `diverge` × its best.

    loader: yields (inputs, targets) batches; it is cycled if shorter than `num_steps`.
    smoothing: weight of the running average the stopping rule watches (0: none).
    restore: put the model's weights and the optimizer's state and learning rates back.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_range_test: need 0 < start_lr < end_lr, got {start_lr}, {end_lr}")
    if num_steps < 5:
        raise ValueError(f"lr_range_test: num_steps must be at least 5, got {num_steps}")
    saved_model = {k: v.clone() for k, v in model.state_dict().items()} if restore else None
    saved_optimizer = copy.deepcopy(optimizer.state_dict()) if restore else None
    saved_lrs = [group["lr"] for group in optimizer.param_groups]
    was_training = model.training
    result = LRRangeResult()
    ratio = (end_lr / start_lr) ** (1.0 / (num_steps - 1))
    average, best = 0.0, math.inf
    model.train()
    try:
        batches = _cycle(loader)
        for step in range(num_steps):
            lr = start_lr * ratio ** step
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = next(batches)
            loss = loss_fn(model(inputs), targets)
            value = float(loss.item())
            if not math.isfinite(value):
                result.stopped_early = True
                break
            # the stopping rule looks back only: a running average, bias-corrected
            average = smoothing * average + (1 - smoothing) * value
            smoothed = average / (1 - smoothing ** (step + 1))
            result.lrs.append(lr)
            result.raw_losses.append(value)
            best = min(best, smoothed)
            if step > 0 and smoothed > diverge * best:
                result.stopped_early = True
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        if restore:
            model.load_state_dict(saved_model)
            optimizer.load_state_dict(saved_optimizer)
        for group, lr in zip(optimizer.param_groups, saved_lrs):
            group["lr"] = lr
        optimizer.zero_grad()
        model.train(was_training)
    # the picture and the suggestion use a centred average: it does not lag behind
    result.losses = _centred_average(result.raw_losses, max(2, num_steps // 25))
    _suggest(result)
    return result


def _centred_average(values, half: int) -> list:
    values = numpy.asarray(values, float)
    return [float(values[max(0, i - half):i + half + 1].mean()) for i in range(len(values))]


def _cycle(loader):
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_range_test: the loader yields no batches")


def _suggest(result: LRRangeResult) -> None:
    """The steepest fall of the smoothed loss (per decade of learning rate), before its
    minimum; the region around it falling at least half as fast."""
    n = len(result.losses)
    if n < 5:
        return
    losses = numpy.asarray(result.losses)
    lowest = int(losses.argmin())
    result.min_loss_lr = result.lrs[lowest]
    if lowest < 2:
        return
    half = max(2, n // 25)
    slopes = numpy.asarray(_centred_average(numpy.gradient(losses, numpy.log10(result.lrs)), half))
    skip = max(1, n // 20)  # the running average's first steps are still settling
    window = slopes[skip:lowest + 1]
    if window.size == 0 or window.min() >= 0:
        return
    k = skip + int(window.argmin())
    result.suggested_lr = result.lrs[k]
    lo = hi = k
    while lo > skip and slopes[lo - 1] <= 0.5 * slopes[k]:
        lo -= 1
    while hi < lowest and slopes[hi + 1] <= 0.5 * slopes[k]:
        hi += 1
    result.steep_range = (result.lrs[lo], result.lrs[hi])


# --- command line --------------------------------------------------------------------------
def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "lr", help="learning-rate range test: find the step sizes that make the loss fall",
        description="Train with an exponentially rising learning rate and plot the loss "
                    "against it; the steepest fall suggests a learning rate.")
    parser.add_argument("--data", default="digits", help="data set (as for `chainrule train`)")
    parser.add_argument("--model", default="mlp", help="model recipe (as for `chainrule train`)")
    parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
                        help="default: the recipe's")
    parser.add_argument("--batch-size", type=int_in(1, 1 << 24), help="default: the recipe's")
    parser.add_argument("--start", type=positive_float, default=1e-5,
                        help="first learning rate")
    parser.add_argument("--end", type=positive_float, default=10.0, help="last learning rate")
    parser.add_argument("--steps", type=int_in(5, 1_000_000), default=100,
                        help="at most this many steps")
    parser.add_argument("--seed", type=seed, default=0,
                        help="fixes the split, the initial weights and the batches (default 0)")
    parser.add_argument("--out", default=os.path.join("runs", "explain", "lr_range.png"),
                        help="picture file, .png or .svg (default runs/explain/lr_range.png)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import backend
    from ..data import DataLoader, TensorDataset, load_dataset
    from ..train import recipes
    from ..train.pipeline import make_optimizer
    recipe = recipes.get_recipe(args.model)
    backend.manual_seed(args.seed)
    splits = load_dataset(args.data, seed=args.seed)
    encoder = recipes.fit_encoder(recipe, splits)
    model = recipes.build_model(recipes.model_config(recipe, splits, encoder))
    name = args.optimizer or recipe.optimizer
    optimizer = make_optimizer(name, model.parameters(), args.start, recipe.weight_decay)
    x, y = splits.train
    loader = DataLoader(TensorDataset(encoder.transform(x), y),
                        batch_size=args.batch_size or recipe.batch_size, shuffle=True,
                        seed=args.seed)
    result = lr_range_test(model, loader, optimizer, start_lr=args.start, end_lr=args.end,
                           num_steps=args.steps)
    title = (f"Learning-rate range test: {args.model} on {args.data}, {name} "
             f"({len(result.lrs)} steps)")
    result.plot(args.out, title=title)
    print(f"{len(result.lrs)} steps, lr {result.lrs[0]:.2g} → {result.lrs[-1]:.2g}"
          + ("; stopped: the loss exploded" if result.stopped_early else ""))
    if result.suggested_lr is None:
        print("no clear fall of the loss: try a wider range (--start, --end) or more --steps")
    else:
        lo, hi = result.steep_range
        print(f"steepest fall between lr {lo:.2g} and {hi:.2g}; lowest loss at lr "
              f"{result.min_loss_lr:.2g}")
        print(f"suggested learning rate: {result.suggested_lr:.2g}")
    print(f"picture written to {args.out}")
    return 0

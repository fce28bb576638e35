"""The training doctor: why a network is not learning, and what to change.

`diagnose(record)` reads what `InstrumentRecorder` wrote into a run folder (every batch's
loss, the instruments' readings every N steps, each epoch's history, per-example losses,
sharpness, and facts about the data) and returns findings, most fundamental cause first:
problems in the data come before problems of initialisation, which come before the
learning rate, which comes before what happens late in training (overfitting). Each
finding carries its evidence (a number, and the series a small plot draws) and one change
to try. `chainrule doctor RUN_DIR` prints them and draws the plots.

The checks are the ones a careful practitioner runs by hand: is the first loss log(classes)?
do the gradients keep their size from layer to layer? do the ReLUs fire? is the update about
a thousandth of the weight? does the loss spike, or not move? is the curvature above what
the learning rate can take (sharpness > 2/lr diverges for gradient descent)?
"""
from __future__ import annotations

import dataclasses
import json
import math
import os

import numpy

from .instruments import INSTRUMENTS_FILE, gradient_noise

# thresholds (each check's docstring says why)
SPIKE_FACTOR = 3.0          # a batch loss this many times its recent median is a spike
INPUT_SCALE = 20.0          # inputs larger than this in absolute value are unnormalised
DEAD_FRACTION = 0.4         # share of a ReLU layer's units that never fire
SATURATED_FRACTION = 0.4    # share of tanh/sigmoid outputs pinned at ±1 (0 or 1)
VANISHING_RATIO = 1e-2      # first layer's gradient norm against the last layer's
EXPLODING_RATIO = 1e2
TINY_UPDATE = 1e-4          # update-to-weight ratio; around 1e-3 is healthy
HUGE_UPDATE = 0.2           # ... and this in the first steps is far too much
NOISE_DOMINATES = 4.0       # batch gradient noise against its signal
IMBALANCE = 5.0             # largest class against smallest
DUPLICATE_SHARE = 0.01      # test examples also present in training
MISLABELLED_SHARE = 0.04    # training examples the network keeps getting confidently wrong
CONFIDENTLY_WRONG = 1.5     # ... their final loss, in units of log(classes)


@dataclasses.dataclass
class Finding:
    cause: str              # a short name: "learning-rate-too-high"
    title: str              # a sentence a learner reads first
    evidence: str           # the numbers behind it
    change: str             # one concrete thing to try
    plot: dict = dataclasses.field(default_factory=dict)  # what doctor_plots draws

    def as_text(self) -> str:
        return f"{self.title}\n  evidence: {self.evidence}\n  try: {self.change}"


class RunRecord:
    """instruments.json with the derived series the checks share."""

    def __init__(self, record: dict):
        if record.get("format") != "chainrule-instruments":
            raise ValueError("doctor: not an instruments record (train with --instruments N)")
        self.raw = record
        self.losses = [v if v is not None else math.inf for v in record.get("batch_losses", [])]
        self.readings = record.get("readings", [])
        self.epochs = record.get("epochs", [])
        self.data = record.get("data", {})
        self.optimizer = record.get("optimizer", {})
        self.classes = self.data.get("num_classes")
        self.batch_size = next((r["batch_size"] for r in self.readings if r.get("batch_size")),
                               None)

    def spike_jump(self) -> float:
        """A rise that counts as a spike: a quarter of the loss of a guess (log classes)."""
        first = self.losses[0] if self.losses else 1.0
        return 0.25 * (math.log(self.classes) if self.classes else first)

    def smoothed_losses(self) -> numpy.ndarray:
        """Batch losses averaged over windows of at least 32 examples (a loss of 2 examples
        jumps by itself), NaN and infinities kept as infinities."""
        losses = numpy.array(self.losses, float)
        window = max(1, round(32 / (self.batch_size or 32)))
        if window == 1 or len(losses) < window:
            return losses
        usable = len(losses) // window * window
        return losses[:usable].reshape(-1, window).mean(1)

    def layer_series(self, key: str) -> dict:
        """{layer name: [value at each reading]} for layers in forward order."""
        series = {}
        for reading in self.readings:
            for name, layer in reading["layers"].items():
                if layer.get(key) is not None:
                    series.setdefault(name, []).append(layer[key])
        return series

    def activation_series(self, key: str) -> dict:
        series = {}
        for reading in self.readings:
            for name, stats in reading.get("activations", {}).items():
                if stats.get(key) is not None:
                    series.setdefault(name, []).append(stats[key])
        return series

    def epoch_series(self, key: str) -> list:
        return [e.get(key) for e in self.epochs]


def load(run_dir: str) -> RunRecord:
    path = run_dir if run_dir.endswith(".json") else os.path.join(run_dir, INSTRUMENTS_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"doctor: {path} not found (train with `chainrule train "
                                "--instruments 10` to record what the doctor reads)")
    with open(path, encoding="utf-8") as handle:
        return RunRecord(json.load(handle))


def diagnose(record) -> list[Finding]:
    """Every finding for the run, most fundamental cause first (empty: nothing wrong)."""
    run = record if isinstance(record, RunRecord) else RunRecord(record)
    findings = []
    for check in CHECKS:
        finding = check(run)
        if finding is not None:
            findings.append(finding)
    return findings


# --- the data --------------------------------------------------------------------------------
def duplicates_across_splits(run: RunRecord):
    """Test examples that also appear in training measure memory, not generalisation."""
    shared, test_size = run.data.get("duplicates_train_test", 0), run.data.get("test_size", 0)
    if not test_size or shared / test_size < DUPLICATE_SHARE:
        return None
    return Finding("duplicates", "test examples are also in the training data",
                   f"{shared} of {test_size} test examples ({shared / test_size:.0%}) appear "
                   "in the training data too, so test accuracy overstates generalisation",
                   "remove duplicates before splitting (deduplicate the rows, then split)",
                   {"kind": "bars", "labels": ["shared with training", "only in test"],
                    "values": [shared, test_size - shared], "title": "test examples"})


def unnormalised_inputs(run: RunRecord):
    """Inputs of size hundreds push every pre-activation far out: tanh and sigmoid saturate,
    ReLU layers take huge steps. Inputs should have mean ≈ 0 and standard deviation ≈ 1."""
    stats = next((r["input"] for r in run.readings if r.get("input")), None)
    if not stats:
        return None
    large = max(stats["absmax"], abs(stats["mean"]) + stats["std"])
    if large < INPUT_SCALE:
        return None
    return Finding("unnormalised-inputs", "the inputs are not normalised",
                   f"input values reach {stats['absmax']:.4g} (mean {stats['mean']:.4g}, "
                   f"standard deviation {stats['std']:.4g}); a network expects about 0 ± 1",
                   "standardise the inputs: subtract the training mean and divide by the "
                   "training standard deviation (or divide pixels by their maximum)",
                   {"kind": "bars", "labels": ["mean", "std", "largest |x|"],
                    "values": [stats["mean"], stats["std"], stats["absmax"]],
                    "title": "input statistics", "reference": 1.0})


def stubborn_examples(epochs: list, num_classes: int | None) -> list:
    """Indices of probe examples whose loss stayed above log(classes) (a guess's loss) in
    each of the last half of the epochs, worst first."""
    tracked = [e["example_losses"] for e in epochs if e.get("example_losses")]
    if len(tracked) < 2 or not num_classes:
        return []
    last = numpy.array(tracked[len(tracked) // 2:])
    high = (last > math.log(num_classes)).all(0)
    order = numpy.argsort(-last[-1])
    return [int(i) for i in order if high[i]]


def mislabelled_examples(run: RunRecord):
    """Examples the network keeps getting confidently wrong while it fits the rest: when they
    are more than a few percent, their labels are likely wrong. (Merely hard or ambiguous
    examples stay near the loss of a guess, log(classes); wrong labels go well above it.)"""
    tracked = [e["example_losses"] for e in run.epochs if e.get("example_losses")]
    if not tracked or not run.classes:
        return None
    final = numpy.array(tracked[-1])
    guess = math.log(run.classes)
    confident = [i for i in stubborn_examples(run.epochs, run.classes)
                 if final[i] > CONFIDENTLY_WRONG * guess]
    share = len(confident) / len(final)
    fitted = numpy.median(final) < 0.25 * guess
    accuracy = run.epoch_series("train_acc")[-1] or 0.0
    if not MISLABELLED_SHARE <= share <= 0.2 or not fitted or accuracy < 0.75:
        return None  # a few hard examples, or a network that fits nothing well
    return Finding("mislabelled", "some examples' loss stays high: likely mislabelled",
                   f"{len(confident)} of {len(final)} training examples ({share:.0%}) keep a "
                   f"loss above log({run.classes}) = {guess:.2f} epoch after epoch and end "
                   f"above {CONFIDENTLY_WRONG * guess:.2f}, while the median loss is "
                   f"{numpy.median(final):.3f}",
                   "look at these examples (shown below): relabel or drop the wrong ones",
                   {"kind": "examples", "examples": run.data.get("stubborn", []),
                    "losses": sorted(final.tolist()), "title": "final loss per example"})


def class_imbalance(run: RunRecord):
    """With 95% of one class, predicting it always scores 95%: accuracy hides that the
    other classes are never learned."""
    counts = run.data.get("class_counts")
    if not counts or min(counts) == 0 and max(counts) == 0:
        return None
    smallest = max(min(counts), 1)
    if max(counts) / smallest < IMBALANCE:
        return None
    return Finding("class-imbalance", "the classes are imbalanced",
                   f"the largest class has {max(counts)} training examples, the smallest "
                   f"{min(counts)} ({max(counts) / smallest:.0f}×)",
                   "weight the loss by inverse class frequency (cross_entropy(weight=...)) "
                   "or oversample the small classes; judge by macro F1, not accuracy",
                   {"kind": "bars", "labels": [str(k) for k in range(len(counts))],
                    "values": counts, "title": "training examples per class"})


# --- initialisation --------------------------------------------------------------------------------
def first_loss_off(run: RunRecord):
    """Before learning, a network should be unsure: its loss ≈ log(classes). Much higher
    means confident wrong guesses (outputs too large at init); much lower, a label leak."""
    if not run.losses or not run.classes:
        return None
    first, expected = run.losses[0], math.log(run.classes)
    if not math.isfinite(first):
        return None
    if 0.5 * expected <= first <= max(1.5 * expected, expected + 0.5):
        return None
    return Finding("first-loss", "the first loss is far from log(classes)",
                   f"first batch loss {first:.3g}, but a network that has not learned yet "
                   f"should give log({run.classes}) = {expected:.3g}",
                   "scale down the last layer's initial weights (e.g. ×0.1) and start its "
                   "bias at 0; if the loss is too low, check for labels leaking into inputs",
                   {"kind": "loss", "losses": run.losses[:50], "reference": expected,
                    "reference_label": "log(classes)", "title": "first steps' loss"})


def exploding_gradients(run: RunRecord):
    """The gradient backpropagated to each layer's output, growing layer after layer towards
    the input (each layer multiplies it by its weights: a gain above 1 compounds), makes the
    first layers jump (or overflow). (The weights' own gradients hide it: each is that
    gradient times the layer's input, which grows the other way.)"""
    ratio, norms = _depth_ratio(run, "output_grad_rms")
    if ratio is None or ratio < EXPLODING_RATIO:
        return None
    return Finding("exploding-gradients", "gradients explode towards the input",
                   f"the gradient reaching the first layer's output is {ratio:,.0f}× the "
                   f"last layer's (over {len(norms)} layers)",
                   "clip the gradient norm (clip_grad_norm_ 1.0), lower the learning rate, "
                   "or add normalisation layers; initialise with He (kaiming) gain, not more",
                   _norms_plot(norms, "gradient at each layer's output"))


def learning_rate_too_high(run: RunRecord):
    """Gradient descent diverges along directions whose curvature exceeds 2/lr; before that
    the loss jumps (spikes) or climbs, and the first updates move the weights by a large
    share of their size (about 1e-3 per step is healthy)."""
    losses = run.smoothed_losses()
    if len(losses) < 5:
        return None
    lr = run.optimizer.get("lr") or 0.0
    spikes = _spikes(losses, run.spike_jump())
    blew_up = not numpy.isfinite(losses).all() or losses[-len(losses) // 5:].mean() > \
        1.5 * losses[:max(1, len(losses) // 20)].mean()
    early = _early_update_ratio(run)
    sharpness = [e.get("sharpness") for e in run.epochs if e.get("sharpness") is not None]
    limit = _stability_limit(run.optimizer)
    sharp = limit is not None and sharpness and numpy.median(sharpness) > limit
    if not _many(spikes, losses) and not blew_up and early < HUGE_UPDATE:
        return None
    parts = []
    if blew_up:
        parts.append("the loss grew instead of falling" if numpy.isfinite(losses).all()
                     else "the loss became infinite or NaN")
    if len(spikes):
        parts.append(f"{len(spikes)} loss spikes above {SPIKE_FACTOR:g}× the recent median")
    if early >= HUGE_UPDATE:
        parts.append(f"the first updates changed the weights by {early:.0%} of their size "
                     "(about 0.1% is healthy)")
    if sharp:
        parts.append(f"sharpness {numpy.median(sharpness):.3g} > {limit:.3g} (stable limit for "
                     f"lr {lr:g})")
    return Finding("learning-rate-too-high", "the learning rate is too high",
                   "; ".join(parts),
                   f"divide the learning rate by 10 (lr {lr / 10:g})",
                   {"kind": "loss", "losses": losses.tolist(), "spikes": spikes.tolist(),
                    "title": "loss per batch"})


def _typical_update_ratio(run: RunRecord) -> float:
    """The median over layers of each layer's median update-to-weight ratio."""
    medians = [numpy.median(v) for v in run.layer_series("update_ratio").values()]
    medians = [m for m in medians if m > 0]  # frozen layers do not move at all
    return float(numpy.median(medians)) if medians else 0.0


def _early_update_ratio(run: RunRecord) -> float:
    """The largest of the first three readings' median update-to-weight ratio."""
    medians = [numpy.median([layer["update_ratio"] for layer in r["layers"].values()
                             if layer.get("update_ratio") is not None])
               for r in run.readings[:3] if r["layers"]]
    return float(max(medians)) if medians else 0.0


def vanishing_gradients(run: RunRecord):
    """Each sigmoid multiplies the gradient by at most ¼: through twenty of them the first
    layers receive almost nothing and stop learning."""
    ratio, norms = _depth_ratio(run)
    if ratio is None or ratio > VANISHING_RATIO:
        return None
    return Finding("vanishing-gradients", "gradients vanish towards the input",
                   f"the first layer's gradient is {ratio:.2g} of the last layer's "
                   f"(over {len(norms)} layers)",
                   "use ReLU instead of sigmoid/tanh with He (kaiming) initialisation, fewer "
                   "layers, or normalisation (BatchNorm/LayerNorm) between them",
                   _norms_plot(norms))


def dead_relus(run: RunRecord):
    """A ReLU unit whose input is negative for every example passes no gradient and never
    recovers: a negative bias at initialisation or one too large step kills it."""
    dead = run.activation_series("dead")
    final, share = _last_share(dead)
    if share < DEAD_FRACTION:
        return None
    at_start = float(numpy.mean([values[0] for values in dead.values()]))
    cause = "they were dead from the first step: the initialisation (negative biases or " \
            "weights too small) killed them" if at_start >= DEAD_FRACTION else \
        "they died during training: a learning rate too high pushed them below zero"
    change = "initialise biases at 0 (or slightly positive) and use He initialisation" \
        if at_start >= DEAD_FRACTION else "lower the learning rate (÷10), or use LeakyReLU"
    return Finding("dead-relus", "many ReLU units are dead",
                   f"{share:.0%} of ReLU units never fire on a batch; {cause}", change,
                   {"kind": "layers", "labels": list(final), "values": list(final.values()),
                    "title": "dead share per ReLU layer", "reference": DEAD_FRACTION})


def saturated_units(run: RunRecord):
    """A tanh or sigmoid pinned at its limits has slope ≈ 0: gradients stop there."""
    final, share = _last_share(run.activation_series("saturated"))
    if share < SATURATED_FRACTION:
        return None
    return Finding("saturated-units", "tanh/sigmoid units are saturated",
                   f"{share:.0%} of tanh/sigmoid outputs sit within 1% of their limits, "
                   "where their slope is almost 0",
                   "normalise the inputs and initialise with smaller weights (Xavier), or "
                   "switch to ReLU",
                   {"kind": "layers", "labels": list(final), "values": list(final.values()),
                    "title": "saturated share per layer", "reference": SATURATED_FRACTION})


def learning_rate_too_low(run: RunRecord):
    """Updates of a ten-thousandth of the weights or less move nothing: the loss stays flat."""
    typical = _typical_update_ratio(run)
    if not typical or len(run.losses) < 10:
        return None
    first = numpy.mean(run.losses[:max(1, len(run.losses) // 20)])
    last = numpy.mean(run.losses[-max(1, len(run.losses) // 10):])
    if typical > TINY_UPDATE or last < 0.1 * first:  # (a loss that fell tenfold: fine)
        return None
    lr = run.optimizer.get("lr") or 0.0
    return Finding("learning-rate-too-low", "the learning rate is too low",
                   f"the loss went from {first:.3g} to only {last:.3g}; updates are "
                   f"{typical:.1e} of the weights (about 1e-3 is healthy)",
                   f"multiply the learning rate by 10 (lr {lr * 10:g}), or run "
                   "`chainrule explain lr` to find a good one",
                   {"kind": "loss", "losses": run.losses, "title": "loss per batch"})


def noisy_gradients(run: RunRecord):
    """When single examples' gradients scatter far more than their mean is long, each step
    mostly follows noise: a larger batch (or a smaller learning rate) averages it away.
    Judged on the first third of the run (near a minimum the gradient itself vanishes, so
    noise dominates every run there)."""
    early = [r for r in run.readings if r.get("gradient_spread") is not None]
    early = early[:max(3, len(early) // 3)]
    if len(early) < 3:
        return None
    batch = early[0]["batch_size"]
    early = [r for r in early if r["batch_size"] == batch]  # not an epoch's short last batch
    spread = float(numpy.mean([r["gradient_spread"] for r in early]))
    square = float(numpy.mean([r["gradient_square_norm"] for r in early]))
    ratio = gradient_noise(spread, square, batch)  # averaged over readings: less biased
    losses = run.smoothed_losses()
    troubled = _many(_spikes(losses, run.spike_jump()), losses) or not numpy.isfinite(losses).all() or \
        losses[-max(1, len(losses) // 10):].mean() > 0.5 * losses[0]
    moving = _typical_update_ratio(run) > TINY_UPDATE  # (no gradient at all is all noise)
    leaping = _early_update_ratio(run) >= HUGE_UPDATE  # a learning rate too high for any batch
    if ratio < NOISE_DOMINATES or not troubled or not moving or leaping:
        return None  # quiet enough, or noisy but learning well, or another cause
    return Finding("gradient-noise", "gradient noise dominates the steps",
                   f"the batch gradient's noise is {ratio:.3g}× the gradient's own length "
                   f"(batch size {batch})",
                   "use a larger batch (×8), or a learning rate about that many times smaller",
                   {"kind": "series", "values": [r["gradient_spread"] / batch for r in early],
                    "title": "noise in the batch gradient (tr Σ / B), early steps"})


def overfitting(run: RunRecord):
    """Validation loss far above training loss, or rising while training loss falls: the
    network memorises its training examples instead of learning what generalises."""
    val, train = run.epoch_series("val_loss"), run.epoch_series("train_loss")
    if len(val) < 4 or None in val or not run.classes:
        return None
    gaps = numpy.array(val) - numpy.array(train)
    best = int(numpy.argmin(val))
    rising = best <= len(val) - 3 and val[-1] - val[best] > 0.1 * val[best] and gaps[-1] > 0.1
    wide = gaps[-1] > 0.2 * math.log(run.classes) and val[-1] > 3 * train[-1]
    if not rising and not wide:
        return None
    opened = int(numpy.argmax(gaps > gaps[-1] / 2)) + 1
    return Finding("overfitting", "the network overfits",
                   f"validation loss {val[-1]:.3g} against training loss {train[-1]:.3g}; the "
                   f"gap opened at epoch {opened}; validation loss was lowest at epoch "
                   f"{best + 1} ({val[best]:.3g})",
                   f"stop at epoch {best + 1} (early stopping), or add weight decay, dropout, "
                   "data augmentation or more data",
                   {"kind": "epochs", "train": train, "val": val, "mark": opened,
                    "title": "loss per epoch"})


def underfitting(run: RunRecord):
    """A network that cannot even fit its training data needs more capacity or time."""
    acc = run.epoch_series("train_acc")
    if not acc or acc[-1] is None or acc[-1] > 0.6:
        return None
    return Finding("underfitting", "the network underfits its training data",
                   f"training accuracy is only {acc[-1]:.0%} at the end",
                   "first make it overfit one batch; then train longer or use a larger model",
                   {"kind": "epochs", "train": run.epoch_series("train_loss"),
                    "val": run.epoch_series("val_loss"), "title": "loss per epoch"})


# (exploding gradients before the first loss: a gain compounding layer by layer also inflates
# the first loss, and names the cause where the first loss names a symptom)
CHECKS = [duplicates_across_splits, unnormalised_inputs, mislabelled_examples, class_imbalance,
          exploding_gradients, first_loss_off, noisy_gradients, learning_rate_too_high,
          vanishing_gradients, dead_relus, saturated_units, learning_rate_too_low, overfitting,
          underfitting]


# --- helpers -----------------------------------------------------------------------------------
def _many(spikes, losses) -> bool:
    """Spikes enough to matter: at least 3, and at least one per 100 points of the curve
    (a long run meets a few odd batches)."""
    return len(spikes) >= max(3, len(losses) // 100)


def _last_share(series: dict):
    """({layer: its last reading}, their mean): (empty, 0) without readings."""
    final = {name: values[-1] for name, values in series.items()}
    return final, float(numpy.mean(list(final.values()))) if final else 0.0


def _spikes(losses, jump: float) -> numpy.ndarray:
    """Steps where the loss exceeds SPIKE_FACTOR × the median of the 20 before, and by more
    than `jump` (late in training tiny losses triple without meaning anything)."""
    found = []
    for t in range(20, len(losses)):
        median = numpy.median(losses[t - 20:t])
        if losses[t] > SPIKE_FACTOR * median and losses[t] - median > jump:
            found.append(t)
    return numpy.array(found, int)


def _stability_limit(optimizer: dict):
    """Largest curvature (plain or heavy-ball) gradient descent with this lr survives:
    2/lr, or (2 + 2·momentum)/lr. Adaptive optimizers rescale each direction: no limit."""
    lr = optimizer.get("lr")
    if optimizer.get("name") != "SGD" or not lr:
        return None
    return (2 + 2 * optimizer.get("momentum", 0.0)) / lr


def _depth_ratio(run: RunRecord, key: str = "grad_norm"):
    """Median over readings of (first weight layer's `key` norm / last one's), and the
    median norm per layer in forward order."""
    norms = run.layer_series(key)
    if len(norms) < 3:
        return None, norms
    names = list(norms)
    ratios = [a / b for a, b in zip(norms[names[0]], norms[names[-1]]) if b > 0]
    if not ratios:
        return None, norms
    return float(numpy.median(ratios)), {n: float(numpy.median(v)) for n, v in norms.items()}


def _norms_plot(norms: dict, what: str = "weights' gradient") -> dict:
    return {"kind": "layers", "labels": list(norms), "values": list(norms.values()),
            "title": f"norm of the {what} per layer (input → output)", "log": True}


def summary(findings: list[Finding]) -> str:
    if not findings:
        return "The doctor found nothing wrong: the run looks healthy."
    lines = [f"The doctor found {len(findings)} problem(s), most fundamental first:"]
    for k, finding in enumerate(findings, 1):
        lines.append(f"{k}. " + finding.as_text().replace("\n", "\n   "))
    return "\n".join(lines)

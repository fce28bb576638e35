"""Planted faults: a small healthy run on the shipped `digits` set, and the same run broken
in one way a user might break it. `chainrule doctor --demo FAULT` trains one and shows what
the doctor says; the tests check that the doctor names each planted cause first.

    record = planted_run("lr-x100")           # the instruments record of a broken run
    diagnose(record)[0].cause                  # "learning-rate-too-high"
"""
from __future__ import annotations

import dataclasses

import numpy

from .. import backend, nn, optim
from ..creation import as_tensor
from ..data import DataLoader, TensorDataset, load_dataset
from ..optim.lr_scheduler import CosineAnnealingLR
from ..train.trainer import Trainer
from .doctor_data import describe_data
from .instruments import InstrumentRecorder


@dataclasses.dataclass
class Setup:
    """One run: the data (flattened pixels in 0..1), the network and how it is trained."""
    train: tuple
    val: tuple
    test: tuple
    num_classes: int
    hidden: tuple = (256, 128)
    activation: type = nn.ReLU
    dropout: float = 0.1
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.05
    epochs: int = 12
    batch_size: int = 64
    bias_init: float | None = None      # every hidden bias set to this
    weight_scale: float = 1.0           # every hidden weight multiplied by this
    last_layer_scale: float = 1.0


def _flip_labels(s: Setup, rng) -> None:
    x, y = s.train
    y = y.copy()
    chosen = rng.choice(len(y), len(y) // 10, replace=False)
    y[chosen] = (y[chosen] + rng.integers(1, s.num_classes, len(chosen))) % s.num_classes
    s.train = (x, y)


def _copy_test_into_train(s: Setup, rng) -> None:
    (x, y), (tx, ty) = s.train, s.test
    s.train = (numpy.concatenate([x, tx]), numpy.concatenate([y, ty]))


def _imbalance(s: Setup, rng) -> None:
    """Zero against every other digit, with zeros kept at 5% of the training examples."""
    def relabel(part, keep_zeros):
        x, y = part
        zeros, others = numpy.flatnonzero(y == 0), numpy.flatnonzero(y != 0)
        if keep_zeros is not None:
            zeros = zeros[:keep_zeros]
        rows = numpy.sort(numpy.concatenate([zeros, others]))
        return x[rows], (y[rows] == 0).astype(numpy.int64)
    others = int((s.train[1] != 0).sum())
    s.train = relabel(s.train, others * 5 // 95)
    s.val, s.test = relabel(s.val, None), relabel(s.test, None)
    s.num_classes = 2


def _few_examples(s: Setup, rng) -> None:
    x, y = s.train
    s.train = (x[:150], y[:150])


# nn.Linear starts at std 1/sqrt(3·fan_in); He (kaiming) for ReLU is sqrt(2/fan_in): √6 more
HE_OVER_DEFAULT = 6 ** 0.5

FAULTS = {
    # name: (what is planted, how, the cause the doctor should name first)
    "lr-x100": ("learning rate ×100", lambda s, r: setattr(s, "lr", s.lr * 100),
                "learning-rate-too-high"),
    "lr-div100": ("learning rate ÷100", lambda s, r: setattr(s, "lr", s.lr / 100),
                  "learning-rate-too-low"),
    "sigmoid-20": ("a 20-layer sigmoid MLP",
                   lambda s, r: (setattr(s, "hidden", (64,) * 20),
                                 setattr(s, "activation", nn.Sigmoid),
                                 setattr(s, "dropout", 0.0), setattr(s, "epochs", 3)),
                   "vanishing-gradients"),
    "relu-x3-gain": ("a 10-layer ReLU MLP initialised at 3× He (kaiming) gain, no normalisation",
                     lambda s, r: (setattr(s, "hidden", (32,) * 10),
                                   setattr(s, "weight_scale", 3 * HE_OVER_DEFAULT),
                                   setattr(s, "dropout", 0.0), setattr(s, "epochs", 3)),
                     "exploding-gradients"),
    "relu-bias-5": ("ReLU biases initialised at -5", lambda s, r: setattr(s, "bias_init", -5.0),
                    "dead-relus"),
    "tanh-big-init": ("tanh layers with weights initialised ×10",
                      lambda s, r: (setattr(s, "activation", nn.Tanh),
                                    setattr(s, "weight_scale", 10.0)),
                      "saturated-units"),
    "inputs-x1000": ("inputs ×1000",
                     lambda s, r: [setattr(s, part, (getattr(s, part)[0] * 1000,
                                                     getattr(s, part)[1]))
                                   for part in ("train", "val", "test")],
                     "unnormalised-inputs"),
    "last-layer-x100": ("the last layer initialised ×100",
                       lambda s, r: setattr(s, "last_layer_scale", 100.0), "first-loss"),
    "labels-flipped": ("10% of the training labels flipped", _flip_labels, "mislabelled"),
    "test-in-train": ("the test rows copied into the training data", _copy_test_into_train,
                      "duplicates"),
    "imbalance-95-5": ("two classes, 95% / 5%", _imbalance, "class-imbalance"),
    "overfit": ("150 training examples, no regularisation, long training",
                lambda s, r: (_few_examples(s, r), setattr(s, "dropout", 0.0),
                              setattr(s, "weight_decay", 0.0), setattr(s, "epochs", 60),
                              setattr(s, "lr", 3e-3)),
                "overfitting"),
    "batch-2-sgd": ("batch size 2 with plain SGD at a learning rate made for batches of 64",
                    lambda s, r: (setattr(s, "batch_size", 2), setattr(s, "optimizer", "sgd"),
                                  setattr(s, "lr", 0.3), setattr(s, "activation", nn.Tanh),
                                  setattr(s, "dropout", 0.0), setattr(s, "epochs", 2)),
                    "gradient-noise"),
    "too-small": ("a network with a hidden layer of 2 units",
                  lambda s, r: (setattr(s, "hidden", (2,)), setattr(s, "dropout", 0.0)),
                  "underfitting"),
}


def healthy_setup(seed: int = 0) -> Setup:
    splits = load_dataset("digits", seed=seed)
    scale = 1.0 / splits.pixel_max
    flat = [(x.reshape(len(x), -1).astype(numpy.float32) * scale, y)
            for x, y in (splits.train, splits.val, splits.test)]
    return Setup(*flat, num_classes=splits.num_classes)


def planted_run(fault: str | None = None, seed: int = 0, every: int = 5) -> dict:
    """Train the healthy setup, or with `fault` planted; the instruments record."""
    setup = healthy_setup(seed)
    if fault is not None:
        if fault not in FAULTS:
            raise ValueError(f"doctor: unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        FAULTS[fault][1](setup, numpy.random.default_rng(seed))
    return train_with_instruments(setup, seed, every)


def train_with_instruments(s: Setup, seed: int = 0, every: int = 5) -> dict:
    backend.manual_seed(seed)
    model = _network(s)
    opt = optim.SGD(model.parameters(), lr=s.lr) if s.optimizer == "sgd" else \
        optim.AdamW(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    recorder = InstrumentRecorder(every=every)
    trainer = Trainer(model, opt, scheduler=CosineAnnealingLR(opt, s.epochs), progress=False,
                      callbacks=[recorder])
    train = DataLoader(TensorDataset(as_tensor(s.train[0]), as_tensor(s.train[1])),
                       batch_size=s.batch_size, shuffle=True, seed=seed)
    val = DataLoader(TensorDataset(as_tensor(s.val[0]), as_tensor(s.val[1])), batch_size=512)
    trainer.fit(train, val, epochs=s.epochs)
    data = describe_data(s.train[0], s.train[1], s.test[0], s.num_classes, recorder.epochs,
                         image_shape=(8, 8))
    return recorder.to_dict(data)


def _network(s: Setup) -> nn.Module:
    layers, width = [], s.train[0].shape[1]
    for size in s.hidden:
        linear = nn.Linear(width, size)
        linear.weight.array *= s.weight_scale
        if s.bias_init is not None:
            linear.bias.array[...] = s.bias_init
        layers += [linear, s.activation()]
        if s.dropout:
            layers.append(nn.Dropout(s.dropout))
        width = size
    last = nn.Linear(width, s.num_classes)
    last.weight.array *= s.last_layer_scale
    layers.append(last)
    return nn.Sequential(*layers)

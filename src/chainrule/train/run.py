"""The parts of a `chainrule train` run around the loop: its learning-rate schedule, its
device, and what it leaves in its folder.

    runs/digits-mlp/
        run.toml                the settings; `chainrule train --config` repeats the run
        metrics.csv             one row per epoch: losses, accuracies, learning rate, seconds
        model.safetensors       the model at the end (predict, evaluate, summary take it)
        best.safetensors        the model of the epoch with the lowest validation loss
        checkpoint.safetensors  everything `--resume` needs
        tensorboard/            event files, with --tensorboard
"""
from __future__ import annotations

import os

from .. import backend
from ..optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, StepLR
from .callbacks import BestModel, CSVLogger, TensorBoardLogger
from .config import RUN_CONFIG_FILE, write_config

BEST_FILE = "best.safetensors"
METRICS_FILE = "metrics.csv"
TENSORBOARD_FOLDER = "tensorboard"
INSTALL_GPU = "pip install 'chainrule[gpu]'"

# --scheduler NAME: how the learning rate moves over the run
SCHEDULERS = {
    "cosine": "half a cosine from the learning rate down to 0 over the run",
    "step": "divided by 10 after each third of the epochs",
    "onecycle": "warm up to the learning rate over 30% of the steps, then anneal",
    "plateau": "divided by 10 after 2 epochs without a better validation loss",
    "none": "constant",
}


def make_scheduler(name: str, optimizer, epochs: int, steps_per_epoch: int):
    """The scheduler `--scheduler name` stands for (None for "none")."""
    if name == "cosine":
        return CosineAnnealingLR(optimizer, epochs)
    if name == "step":
        return StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "onecycle":
        return OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"],
                          total_steps=max(2, epochs * steps_per_epoch))
    if name == "plateau":
        return ReduceLROnPlateau(optimizer, factor=0.1, patience=2)
    if name == "none":
        return None
    raise ValueError(f"unknown scheduler {name!r}; known: {', '.join(SCHEDULERS)}")


def check_device(device: str | None) -> str:
    """"cpu" or "cuda", after making sure CuPy and a GPU are there for "cuda"."""
    device = device or "cpu"
    if device == "cpu":
        return device
    if device != "cuda":
        raise ValueError(f"--device must be cpu or cuda, not {device!r}")
    try:
        cupy = backend.cupy()
    except RuntimeError:
        raise RuntimeError(f"--device cuda needs CuPy and an NVIDIA GPU: {INSTALL_GPU}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - CuPy raises its own CUDA errors when there is no driver
        count = 0
    if not count:
        raise RuntimeError("--device cuda: CuPy is installed but finds no CUDA GPU "
                           "(use --device cpu)")
    return device


def folder_callbacks(out_dir: str, settings: dict, save_model, tensorboard: bool = False):
    """Write run.toml now; return the callbacks that keep metrics.csv, best.safetensors and
    (with `tensorboard`) the event files up to date. `save_model(path)` writes a model file."""
    os.makedirs(out_dir, exist_ok=True)
    write_config(os.path.join(out_dir, RUN_CONFIG_FILE), settings)
    callbacks = [CSVLogger(os.path.join(out_dir, METRICS_FILE)),
                 BestModel(os.path.join(out_dir, BEST_FILE), save_model)]
    if tensorboard:
        callbacks.append(TensorBoardLogger(os.path.join(out_dir, TENSORBOARD_FOLDER)))
    return callbacks

"""What an output folder already holds, and whether a new run may start or resume there.

A run records the settings that shape it (data set and its SHA-256, seed, split, model,
schedule) in every checkpoint and in its model file. `--resume` continues only the same
run: a setting left out is taken from the checkpoint, a different one is refused, and
`--epochs N` extends the cosine schedule to N epochs. Without `--resume`, a folder that
holds another run is refused unless `--overwrite`.
"""
from __future__ import annotations

import math
import os

from ..serialize import remove_orphaned_saves
from .checkpoint import read_training_state
from .trainer import Callback

MODEL_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.safetensors"
# Settings a resumed run shares with its checkpoint, and the flags that set them.
RESUME_FLAGS = {"data": "--data", "model": "--model", "seed": "--seed",
                "batch_size": "--batch-size", "optimizer": "--optimizer", "lr": "--lr",
                "weight_decay": "--weight-decay", "scheduler": "--scheduler"}
# Settings a resumed run takes from its checkpoint when not given, and may change.
KEPT_UNLESS_GIVEN = ("clip_grad_norm", "early_stopping")


class RunError(ValueError):
    """An output folder or checkpoint that does not fit what was asked."""


def check_settings(given: dict) -> None:
    """Refuse a setting out of its range (None means "the default"), naming it: a value the
    user gave is used as given or refused, never replaced by a default."""
    for key, low in (("epochs", 1), ("batch_size", 1), ("seed", 0)):
        value = given.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < low):
            raise RunError(f"train: {key} must be an integer of at least {low}, got {value!r}")
    lr = given.get("lr")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise RunError(f"train: lr must be a finite number above 0, got {lr!r}")


def previous_run(out_dir: str, resume: bool, overwrite: bool) -> dict | None:
    """The checkpoint state to resume (None for a new run); refuses to train over another
    run, and to resume what is not there. Clears what saves killed mid-write left there."""
    remove_orphaned_saves(out_dir)
    if resume and overwrite:
        raise RunError("--resume continues the run in the output folder and --overwrite "
                       "replaces it: give one of them")
    if not resume:
        held = [name for name in (MODEL_FILE, CHECKPOINT_FILE)
                if os.path.exists(os.path.join(out_dir, name))]
        if held and not overwrite:
            raise RunError(f"{out_dir} already holds a run ({', '.join(held)}); pass --resume "
                           "to continue it, --overwrite to replace it, or another --out")
        return None
    checkpoint = os.path.join(out_dir, CHECKPOINT_FILE)
    if not os.path.exists(checkpoint):
        raise RunError(f"--resume: there is no checkpoint to resume in {out_dir} (no "
                       f"{CHECKPOINT_FILE}); leave out --resume to start a new run")
    state = read_training_state(checkpoint)
    if not isinstance(state.get("run"), dict) or not isinstance(state.get("epoch"), int):
        raise RunError(f"--resume: {checkpoint} does not record the settings of its run "
                       "(an older chainrule wrote it); start a new run with --overwrite")
    return state


def resumed_settings(given: dict, recorded: dict, out_dir: str) -> dict:
    """`given` (flag name -> value or None) with the checkpoint's values where None;
    a value that differs from the checkpoint's is refused."""
    settings = dict(given)
    code = recorded.get("model")
    if given.get("model") is None and isinstance(code, str) and code.endswith(".py"):
        raise RunError(f"--resume: the run in {out_dir} trains a model from user code "
                       f"({os.path.basename(code)}); a checkpoint runs no code, so pass that "
                       "file again: --model FILE.py")
    for key, flag in RESUME_FLAGS.items():
        value, before = given.get(key), recorded.get(key)
        if value is not None and not _same(key, value, before):
            raise RunError(f"--resume: the run in {out_dir} was trained with {flag} {before}, "
                           f"not {value}; resume with the same settings, or train a new run "
                           "in another --out")
        settings[key] = before if value is None else value
    settings["epochs"] = recorded.get("epochs") if given.get("epochs") is None \
        else given["epochs"]
    for key in KEPT_UNLESS_GIVEN:
        settings[key] = recorded.get(key) if given.get(key) is None else given[key]
    try:
        check_settings(settings)
    except RunError as err:
        raise RunError(f"--resume: the checkpoint in {out_dir} is damaged: {err}") from None
    return settings


def _same(key: str, value, recorded) -> bool:
    if key == "model" and isinstance(recorded, str) and str(value).endswith(".py"):
        return os.path.realpath(value) == os.path.realpath(recorded)
    return value == recorded


def check_resumable(state: dict, run: dict, out_dir: str) -> None:
    """The same data as the checkpoint's, and epochs left to train."""
    if state["run"].get("data_sha256") != run["data_sha256"]:
        raise RunError(f"--resume: the data {run['data']} has changed since the checkpoint in "
                       f"{out_dir} was written; train a new run in another --out")
    if state["epoch"] >= run["epochs"]:
        raise RunError(f"--resume: the run in {out_dir} already finished its {state['epoch']} "
                       f"epochs; pass --epochs above {state['epoch']} to train it longer")


class ScheduleLength(Callback):
    """A resumed run given another number of epochs follows the schedule of the new length
    from where it stands (the checkpoint's scheduler would keep the old length: a cosine
    climbing back up past its end, a step schedule decaying too often, a one-cycle schedule
    running out of steps). `rebuild()` makes the schedule of the new length."""

    def __init__(self, rebuild, length_changed: bool):
        self.rebuild = rebuild
        self.length_changed = length_changed

    def on_fit_start(self, trainer, train_loader, epochs: int) -> None:
        old = trainer.scheduler
        if not self.length_changed or old is None or type(old).__name__ == "ReduceLROnPlateau":
            return  # (a plateau schedule has no length)
        new = self.rebuild()
        new._step_count = old._step_count
        new._update_lr(epoch=old.last_epoch)  # the new schedule's rates at this step
        trainer.scheduler = new

"""The training loop: forward, loss, backward, update — epoch after epoch, with validation,
progress bars, schedules, early stopping and checkpoints a killed run resumes from.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy

from .. import backend
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..nn.utils import clip_grad_norm_
from . import checkpoint as ckpt
from .metrics import accuracy
from .progress import progress_bar, show_running


@dataclass
class History:
    """One dict per finished epoch: losses, accuracies, learning rate, seconds."""

    epochs: list = field(default_factory=list)

    def last(self, key: str, default=None):
        return self.epochs[-1].get(key, default) if self.epochs else default

    def series(self, key: str) -> list:
        return [e.get(key) for e in self.epochs]


class Callback:
    """Hooks into the loop; the explain report records gradient norms through these."""

    def on_fit_start(self, trainer: "Trainer", train_loader, epochs: int) -> None:
        pass

    def on_batch_end(self, trainer: "Trainer", step: int, loss: float) -> None:
        pass

    def on_epoch_end(self, trainer: "Trainer", record: dict) -> None:
        pass

    def on_fit_end(self, trainer: "Trainer") -> None:
        pass


class NonFiniteLossError(RuntimeError):
    """The loss (or a weight) became NaN or infinite: training stops there, before the
    step changes a weight or a checkpoint is written."""

    def __init__(self, what: str, epoch: int, step: int, checkpoint: str | None):
        kept = f"; the last good checkpoint is kept in {checkpoint}" if checkpoint else ""
        super().__init__(f"training stopped: {what} at epoch {epoch}, step {step}{kept}")
        self.epoch, self.step = epoch, step


class Trainer:
    def __init__(self, model, optimizer, loss_fn=F.cross_entropy, scheduler=None,
                 scheduler_interval: str | None = None, clip_grad_norm: float | None = None,
                 early_stopping: int | None = None, checkpoint_path: str | None = None,
                 progress: bool = True, callbacks=(), device: str | None = None,
                 run: dict | None = None, parallel=None):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval or _default_interval(scheduler)
        self.clip_grad_norm = clip_grad_norm
        self.early_stopping = early_stopping
        self.checkpoint_path = checkpoint_path
        self.progress = progress
        self.callbacks = list(callbacks)
        self.device = device  # batches are moved here ("cuda" with CuPy); None: as they come
        self.run = run  # the settings of this run, recorded in each checkpoint
        self.parallel = parallel  # the ranks of an mpirun job (train/distributed.py), or None
        self.history = History()
        self.best = {"val_loss": float("inf"), "epoch": -1, "state": None}
        self.stale_epochs = 0
        self.global_step = 0

    # --- one pass over the data ----------------------------------------------------------
    def train_epoch(self, loader, epoch: int, epochs: int) -> dict:
        self.model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = progress_bar(loader, f"epoch {epoch + 1}/{epochs}", self.progress)
        for inputs, targets in bar:
            inputs, targets = self._on_device(inputs), self._on_device(targets)
            if self.parallel is None:
                logits = self.model(inputs)
                loss = self.loss_fn(logits, targets)
                value = loss.item()
            else:  # this rank's share of the batch, its loss weighted by its size
                inputs, targets, logits, loss, value = self.parallel.step_loss(
                    self.loss_fn, inputs, targets)
            if not math.isfinite(value):  # stop before a NaN reaches the weights
                raise NonFiniteLossError(f"the loss is {value}", epoch + 1,
                                         self.global_step + 1, self._kept_checkpoint())
            self.optimizer.zero_grad()
            loss.backward()
            if self.clip_grad_norm:
                clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "batch":
                self.scheduler.step()
            n = len(targets)
            total_loss += value * n
            correct += int((logits.array.argmax(-1) == targets.array).sum())
            seen += n
            self.global_step += 1
            for callback in self.callbacks:
                callback.on_batch_end(self, self.global_step, value)
            show_running(bar, total_loss / max(seen, 1), correct / max(seen, 1))
        if self.parallel is not None:
            total_loss, correct, seen = self.parallel.sums(total_loss, correct, seen)
        return {"train_loss": total_loss / max(seen, 1), "train_acc": correct / max(seen, 1)}

    @no_grad()
    def evaluate(self, loader) -> dict:
        """Mean loss, accuracy, and every prediction and target (for metrics)."""
        was_training = self.model.training
        self.model.eval()
        total_loss, predictions, targets, rows = 0.0, [], [], []
        for inputs, target in loader:
            inputs, target = self._on_device(inputs), self._on_device(target)
            if self.parallel is not None:  # this rank's share, and where its rows belong
                inputs, target = self.parallel.evaluation_share(inputs, target, rows)
                if not len(target):
                    continue
            logits = self.model(inputs)
            total_loss += self.loss_fn(logits, target).item() * len(target)
            predictions.append(backend.to_device(logits.array.argmax(-1), "cpu"))
            targets.append(backend.to_device(target.array, "cpu"))
        self.model.train(was_training)
        predicted = numpy.concatenate(predictions) if predictions else numpy.zeros(0, int)
        actual = numpy.concatenate(targets) if targets else numpy.zeros(0, int)
        if self.parallel is not None:
            total_loss, predicted, actual = self.parallel.merge(total_loss, rows, predicted,
                                                                actual)
        return {"loss": total_loss / max(len(actual), 1), "accuracy": accuracy(predicted, actual),
                "predictions": predicted, "targets": actual}

    def _on_device(self, tensor):
        return tensor if self.device is None else tensor.to(self.device)

    # --- the whole run ---------------------------------------------------------------------
    def fit(self, train_loader, val_loader=None, epochs: int = 10, resume: bool = False) -> History:
        start_epoch = 0
        if resume and self.checkpoint_path and os.path.exists(self.checkpoint_path):
            start_epoch = self._restore(train_loader)
        for callback in self.callbacks:
            callback.on_fit_start(self, train_loader, epochs)
        for epoch in range(start_epoch, epochs):
            started = time.perf_counter()
            record = {"epoch": epoch + 1, "lr": self.optimizer.param_groups[0]["lr"]}
            record.update(self.train_epoch(train_loader, epoch, epochs))
            self._check_finite_weights(epoch + 1)
            if val_loader is not None:
                result = self.evaluate(val_loader)
                record.update(val_loss=result["loss"], val_acc=result["accuracy"])
            record["seconds"] = time.perf_counter() - started
            self.history.epochs.append(record)
            self._after_epoch(record)
            for callback in self.callbacks:
                callback.on_epoch_end(self, record)
            if self.checkpoint_path:
                self._save(epoch + 1)
            if self.early_stopping and self.stale_epochs >= self.early_stopping:
                if self.progress:
                    print(f"early stopping: no better validation loss for "
                          f"{self.stale_epochs} epochs")
                break
        if self.best["state"] is not None and self.early_stopping:
            self.model.load_state_dict(self.best["state"])
        for callback in self.callbacks:
            callback.on_fit_end(self)
        return self.history

    def _after_epoch(self, record: dict) -> None:
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if _is_plateau(self.scheduler):
                self.scheduler.step(record.get("val_loss", record["train_loss"]))
            else:
                self.scheduler.step()
        val_loss = record.get("val_loss")
        if val_loss is None:
            return
        if val_loss < self.best["val_loss"]:
            self.best = {"val_loss": val_loss, "epoch": record["epoch"],
                         "state": {k: v.clone() for k, v in self.model.state_dict().items()}
                         if self.early_stopping else None}
            self.stale_epochs = 0
        else:
            self.stale_epochs += 1

    # --- checkpoints ---------------------------------------------------------------------
    def _save(self, epoch: int) -> None:
        if self.parallel is not None and not self.parallel.leader:
            return  # rank 0 writes the checkpoint
        ckpt.save_training_state(self.checkpoint_path, epoch=epoch, model=self.model,
                                 optimizer=self.optimizer, scheduler=self.scheduler,
                                 history=self.history.epochs, global_step=self.global_step,
                                 best=self.best, stale_epochs=self.stale_epochs, run=self.run)

    def _check_finite_weights(self, epoch: int) -> None:
        for name, parameter in self.model.named_parameters():
            if not numpy.isfinite(backend.to_device(parameter.array, "cpu")).all():
                raise NonFiniteLossError(f"weight {name} is not finite", epoch,
                                         self.global_step, self._kept_checkpoint())

    def _kept_checkpoint(self) -> str | None:
        path = self.checkpoint_path
        return path if path and os.path.exists(path) else None

    def _restore(self, train_loader) -> int:
        state = ckpt.load_training_state(self.checkpoint_path, self.model, self.optimizer,
                                         self.scheduler)
        self.history.epochs = state["history"]
        self.global_step = state["global_step"]
        self.stale_epochs = state["stale_epochs"]
        self.best = state["best"]
        if hasattr(train_loader, "epoch"):
            train_loader.epoch = state["epoch"]
        return state["epoch"]


def _default_interval(scheduler) -> str:
    return "batch" if type(scheduler).__name__ == "OneCycleLR" else "epoch"


def _is_plateau(scheduler) -> bool:
    return type(scheduler).__name__ == "ReduceLROnPlateau"


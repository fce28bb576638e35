"""Callbacks that leave a run's traces in its folder: the metrics log, TensorBoard event
files, the best model so far, and one printed line per epoch."""
from __future__ import annotations

import csv
import os

from .trainer import Callback

METRICS_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
INSTALL_TENSORBOARD = "pip install 'chainrule[tensorboard]'"


class EpochLog(Callback):
    """One line per finished epoch: the numbers a learner watches fall and rise."""

    def __init__(self, log):
        self.log = log

    def on_epoch_end(self, trainer, record: dict) -> None:
        line = (f"epoch {record['epoch']:3d}  train loss {record['train_loss']:.4f}  "
                f"acc {record['train_acc']:.4f}")
        if "val_loss" in record:
            line += f"  val loss {record['val_loss']:.4f}  acc {record['val_acc']:.4f}"
        if trainer.best.get("epoch") == record["epoch"] and "val_loss" in record:
            line += " *"  # the best validation loss so far
        self.log(line + f"  lr {record['lr']:.2e}  ({record['seconds']:.1f} s)")


class CSVLogger(Callback):
    """`metrics.csv`: one row per finished epoch (losses, accuracies, learning rate,
    seconds), rewritten whole from the trainer's history after each epoch, so a resumed
    run's file holds every epoch exactly once."""

    def __init__(self, path: str):
        self.path = path

    def on_epoch_end(self, trainer, record: dict) -> None:
        rows = trainer.history.epochs
        extra = [k for row in rows for k in row if k not in METRICS_COLUMNS]
        columns = list(METRICS_COLUMNS) + list(dict.fromkeys(extra))
        partial = self.path + ".partial"
        with open(partial, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(partial, self.path)


class TensorBoardLogger(Callback):
    """TensorBoard event files in `folder` (written by tensorboardX): every epoch's
    losses, accuracies and learning rate, and every batch's training loss."""

    def __init__(self, folder: str):
        try:
            from tensorboardX import SummaryWriter
        except ImportError as err:
            raise RuntimeError(f"--tensorboard needs tensorboardX: {INSTALL_TENSORBOARD}") from err
        self.writer = SummaryWriter(logdir=folder)

    def on_batch_end(self, trainer, step: int, loss: float) -> None:
        self.writer.add_scalar("batch/train_loss", loss, step)

    def on_epoch_end(self, trainer, record: dict) -> None:
        epoch = record["epoch"]
        for key in ("train_loss", "val_loss"):
            if key in record:
                self.writer.add_scalar(f"loss/{key[:-5]}", record[key], epoch)
        for key in ("train_acc", "val_acc"):
            if key in record:
                self.writer.add_scalar(f"accuracy/{key[:-4]}", record[key], epoch)
        self.writer.add_scalar("learning_rate", record["lr"], epoch)
        self.writer.flush()

    def on_fit_end(self, trainer) -> None:
        self.writer.close()


class BestModel(Callback):
    """Keeps the model of the epoch with the lowest validation loss so far, through
    `save(path)` (the pipeline writes the same file format as model.safetensors), as Keras'
    ModelCheckpoint(save_best_only=True)."""

    def __init__(self, path: str, save):
        self.path = path
        self.save = save

    def on_epoch_end(self, trainer, record: dict) -> None:
        if "val_loss" in record and trainer.best.get("epoch") == record["epoch"]:
            self.save(self.path)

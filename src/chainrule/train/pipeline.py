"""What the command line runs: train a recipe on a data set, evaluate it, predict with it.

A trained model is one file, `model.safetensors`: the weights, the recipe's config, the
class names and the fitted encoder, so `predict` turns raw inputs into exactly the numbers
the network was trained on.
"""
from __future__ import annotations

import os
import time

from .. import backend, optim
from ..data import DataLoader, TensorDataset, encoder_from_state_dict, load_dataset
from ..optim.lr_scheduler import CosineAnnealingLR
from ..serialize import load, save
from ..tensor import Tensor
from . import recipes
from .metrics import report as metrics_report
from .trainer import Callback, Trainer

MODEL_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.safetensors"


class ModelFileError(ValueError):
    """A model file that chainrule cannot use for predicting."""


def make_optimizer(name: str, parameters, lr: float, weight_decay: float = 0.0):
    choices = {"sgd": lambda: optim.SGD(parameters, lr=lr, momentum=0.9,
                                        weight_decay=weight_decay),
               "adam": lambda: optim.Adam(parameters, lr=lr, weight_decay=weight_decay),
               "adamw": lambda: optim.AdamW(parameters, lr=lr, weight_decay=weight_decay),
               "rmsprop": lambda: optim.RMSprop(parameters, lr=lr, weight_decay=weight_decay),
               "adagrad": lambda: optim.Adagrad(parameters, lr=lr, weight_decay=weight_decay)}
    if name not in choices:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(choices)}")
    return choices[name]()


class EpochLog(Callback):
    """One line per finished epoch: the numbers a learner watches fall and rise."""

    def __init__(self, log):
        self.log = log

    def on_epoch_end(self, trainer, record: dict) -> None:
        line = (f"epoch {record['epoch']:3d}  train loss {record['train_loss']:.4f}  "
                f"acc {record['train_acc']:.4f}")
        if "val_loss" in record:
            line += f"  val loss {record['val_loss']:.4f}  acc {record['val_acc']:.4f}"
        self.log(line + f"  lr {record['lr']:.2e}  ({record['seconds']:.1f} s)")


def _loader(x, y, batch_size, shuffle=False, seed=None):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


def train(dataset: str = "digits", model: str = "mlp", epochs: int | None = None,
          batch_size: int | None = None, optimizer: str | None = None, lr: float | None = None,
          seed: int = 0, out_dir: str = "runs/digits-mlp", resume: bool = False,
          progress: bool = True, callbacks=(), log=print) -> dict:
    """Train `model` on `dataset`; returns the test metrics, where the model was saved, and
    what a report needs (model, history, splits, encoder, test predictions)."""
    recipe = recipes.get_recipe(model)
    backend.manual_seed(seed)
    splits = load_dataset(dataset, seed=seed)
    recipe = recipe.for_kind(splits.kind)
    encoder = recipes.fit_encoder(recipe, splits)
    config = recipes.model_config(recipe, splits, encoder)
    network = recipes.build_model(config, encoder)
    epochs = epochs or recipe.epochs_for(len(splits.train[1]))
    batch_size = batch_size or recipe.batch_size
    opt = make_optimizer(optimizer or recipe.optimizer, network.parameters(), lr or recipe.lr,
                         recipe.weight_decay)
    scheduler = CosineAnnealingLR(opt, epochs) if recipe.scheduler == "cosine" else None
    encoded = {part: (encoder.transform(x), y) for part, (x, y) in
               (("train", splits.train), ("val", splits.val), ("test", splits.test))}
    log(f"{dataset}: {len(splits.train[1])} train / {len(splits.val[1])} val / "
        f"{len(splits.test[1])} test examples, {splits.num_classes} classes; model {model} "
        f"with {sum(p.numel() for p in network.parameters()):,} parameters")
    os.makedirs(out_dir, exist_ok=True)
    trainer = Trainer(network, opt, scheduler=scheduler,
                      checkpoint_path=os.path.join(out_dir, CHECKPOINT_FILE), progress=progress,
                      callbacks=[EpochLog(log), *callbacks])
    started = time.perf_counter()
    history = trainer.fit(_loader(*encoded["train"], batch_size, shuffle=True, seed=seed),
                          _loader(*encoded["val"], 512), epochs=epochs, resume=resume)
    result = trainer.evaluate(_loader(*encoded["test"], 512))
    metrics = metrics_report(result["predictions"], result["targets"], splits.num_classes)
    path = os.path.join(out_dir, MODEL_FILE)
    save_model(path, network, config, encoder, splits.classes)
    return {"test_accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "confusion": metrics["confusion"], "model_path": path, "history": history,
            "seconds": time.perf_counter() - started, "model": network, "encoder": encoder,
            "splits": splits, "classes": splits.classes, "predictions": result["predictions"],
            "settings": {"data set": dataset, "model": model,
                         "optimizer": optimizer or recipe.optimizer,
                         "learning rate": lr or recipe.lr, "batch size": batch_size}}


# --- the model file ------------------------------------------------------------------------
def save_model(path: str, model, config: dict, encoder, classes) -> None:
    save({"format": "chainrule-model", "config": config, "classes": list(classes),
          "encoder": encoder.state_dict(), "state_dict": model.state_dict()}, path)


def load_model(path: str):
    """(model in eval mode, encoder, class names, config) from a saved model file."""
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != "chainrule-model":
        raise ModelFileError(f"{path} is not a chainrule model file (train one with "
                             "`chainrule train`)")
    model = recipes.build_model(state["config"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    return model, encoder_from_state_dict(state["encoder"]), state["classes"], state["config"]


def predict(model, encoder, classes, inputs) -> list[tuple[str, float]]:
    """Label and probability for each raw input (images as arrays, or sentences)."""
    from ..autograd.grad_mode import no_grad
    with no_grad():
        logits = model(Tensor(encoder.transform(inputs)))
        probabilities = logits.softmax(-1).numpy()
    best = probabilities.argmax(-1)
    return [(classes[int(k)], float(p[k])) for k, p in zip(best, probabilities)]


def evaluate(path: str, dataset: str, seed: int = 0, split: str = "test") -> dict:
    model, encoder, classes, config = load_model(path)
    splits = load_dataset(dataset, seed=seed)
    if list(splits.classes) != list(classes):
        raise ModelFileError(f"the model was trained on classes {classes}, but {dataset} "
                             f"has {splits.classes}")
    x, y = getattr(splits, split)
    trainer = Trainer(model, optimizer=None, progress=False)
    result = trainer.evaluate(_loader(encoder.transform(x), y, 512))
    return metrics_report(result["predictions"], result["targets"], len(classes))

"""What the command line runs: train a recipe on a data set, evaluate it, predict with it.

A trained model is one file, `model.safetensors`: the weights, the recipe's config, the
class names and the fitted encoder, so `predict` turns raw inputs into exactly the numbers
the network was trained on.
"""
from __future__ import annotations

import os
import time

import numpy

from .. import backend, optim
from ..creation import as_tensor
from ..data import DataLoader, TensorDataset, load_dataset
from . import recipes
from .callbacks import EpochLog
from .distributed import DataParallel, launched
from .metrics import report as metrics_report
from .model_file import (
    ModelFileError,
    build_saved_model,
    check_data_fits,
    check_same_split,
    load_model,
    read_model_file,
    save_model,
    saved_encoder,
)
from .progress import NORMAL, VERBOSE
from .resume import (
    CHECKPOINT_FILE,
    MODEL_FILE,
    ScheduleLength,
    check_resumable,
    check_settings,
    previous_run,
    resumed_settings,
)
from .run import check_device, folder_callbacks, make_scheduler
from .summary import summary
from .trainer import Trainer

__all__ = ["ModelFileError", "evaluate", "load_model", "make_optimizer", "predict", "save_model",
           "train"]


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


def _loader(x, y, batch_size, shuffle=False, seed=None):
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


DEFAULT_DATA, DEFAULT_MODEL, DEFAULT_SEED = "digits", "mlp", 0
VAL_FRACTION = 0.1


def train(dataset: str | None = None, model: str | None = None, epochs: int | None = None,
          batch_size: int | None = None, optimizer: str | None = None, lr: float | None = None,
          seed: int | None = None, out_dir: str = "runs/digits-mlp", resume: bool = False,
          overwrite: bool = False, progress: bool = True, callbacks=(), log=print,
          weight_decay: float | None = None, scheduler: str | None = None,
          clip_grad_norm: float | None = None, early_stopping: int | None = None,
          device: str | None = None, tensorboard: bool = False,
          verbosity: int = NORMAL) -> dict:
    """Train `model` on `dataset`; returns the test metrics, where the model was saved, and
    what a report needs (model, history, splits, encoder, test predictions). The run folder
    `out_dir` gets run.toml, metrics.csv, best.safetensors and more (see train/run.py).

    Settings left as None take the recipe's defaults, or with `resume` the checkpoint's (a
    different one is refused); an `out_dir` holding another run is refused unless
    `overwrite`. A NaN or infinite loss stops the run with `NonFiniteLossError`."""
    given = {"data": dataset, "model": model, "seed": seed, "batch_size": batch_size,
             "optimizer": optimizer, "lr": lr, "epochs": epochs, "weight_decay": weight_decay,
             "scheduler": scheduler, "clip_grad_norm": clip_grad_norm,
             "early_stopping": early_stopping}
    check_settings(given)
    ranks = DataParallel() if launched() else None  # `mpirun -n N`: join the other ranks
    previous = previous_run(out_dir, resume, overwrite)
    if ranks is not None:
        ranks.barrier()  # every rank has read the folder before rank 0 writes into it
    leader = ranks is None or ranks.leader  # only rank 0 prints and writes files
    if previous is not None:
        given = resumed_settings(given, previous["run"], out_dir)
    dataset, model = given["data"] or DEFAULT_DATA, given["model"] or DEFAULT_MODEL
    seed = DEFAULT_SEED if given["seed"] is None else given["seed"]
    recipe = recipes.get_recipe(model)
    device = check_device(device)
    say = log if verbosity >= NORMAL and leader else _silent
    backend.manual_seed(seed)
    splits = load_dataset(dataset, seed=seed, val_fraction=VAL_FRACTION)
    recipe = recipe.for_kind(splits.kind)
    encoder = recipes.fit_encoder(recipe, splits)
    config = recipes.model_config(recipe, splits, encoder)
    network = recipes.build_model(config, encoder).to(device)
    run = {"data": dataset, "data_sha256": splits.fingerprint, "model": model, "seed": seed,
           "val_fraction": VAL_FRACTION,
           "epochs": given["epochs"] or recipe.epochs_for(len(splits.train[1])),
           "batch_size": given["batch_size"] or recipe.batch_size,
           "optimizer": given["optimizer"] or recipe.optimizer, "lr": given["lr"] or recipe.lr,
           "weight_decay": recipe.weight_decay if given["weight_decay"] is None
           else given["weight_decay"],
           "scheduler": given["scheduler"] or recipe.scheduler or "none",
           "clip_grad_norm": given["clip_grad_norm"],
           "early_stopping": given["early_stopping"], "device": device}
    if previous is not None:
        check_resumable(previous, run, out_dir)
    epochs = run["epochs"]
    opt = make_optimizer(run["optimizer"], network.parameters(), run["lr"], run["weight_decay"])
    encoded = {part: (encoder.transform(x), y) for part, (x, y) in
               (("train", splits.train), ("val", splits.val), ("test", splits.test))}
    train_loader = _loader(*encoded["train"], run["batch_size"], shuffle=True, seed=seed)
    schedule = make_scheduler(run["scheduler"], opt, epochs, len(train_loader))
    stretch = ScheduleLength(lambda: make_scheduler(run["scheduler"], opt, epochs,
                                                    len(train_loader)),
                             length_changed=previous is not None
                             and previous["run"].get("epochs") != epochs)
    say(f"{dataset}: {len(splits.train[1])} train / {len(splits.val[1])} val / "
        f"{len(splits.test[1])} test examples, {splits.num_classes} classes")
    say(summary(network, as_tensor(sample_input(config, encoder)).to(device),
                title=f"model {model}:"))
    if verbosity >= VERBOSE:
        say("settings: " + ", ".join(f"{k} {v}" for k, v in run_config(run).items()
                                     if v is not None))
        say(f"data fingerprint (SHA-256) {run['data_sha256']}; validation fraction "
            f"{run['val_fraction']}; run folder {out_dir}")
    kept = folder_callbacks(out_dir, run_config(run), tensorboard=tensorboard,
                            save_model=lambda path: save_model(path, network, config, encoder,
                                                               splits.classes, run)) \
        if leader else []
    if ranks is not None:
        ranks.wrap(network)
        ranks.checkpoint_path = os.path.join(out_dir, CHECKPOINT_FILE)
    trainer = Trainer(network, opt, scheduler=schedule, run=run,
                      clip_grad_norm=run["clip_grad_norm"], early_stopping=run["early_stopping"],
                      checkpoint_path=os.path.join(out_dir, CHECKPOINT_FILE),
                      progress=progress and verbosity >= NORMAL and leader, parallel=ranks,
                      device=None if device == "cpu" else device,
                      callbacks=[*([EpochLog(log)] if verbosity >= NORMAL and leader else []),
                                 stretch, *kept, *(callbacks if leader else ())])
    started = time.perf_counter()
    history = trainer.fit(train_loader, _loader(*encoded["val"], 512), epochs=epochs,
                          resume=resume)
    result = trainer.evaluate(_loader(*encoded["test"], 512))
    metrics = metrics_report(result["predictions"], result["targets"], splits.num_classes)
    path = os.path.join(out_dir, MODEL_FILE)
    if leader:
        save_model(path, network, config, encoder, splits.classes, run)
    return {"test_accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
            "confusion": metrics["confusion"], "model_path": path, "history": history,
            "seconds": time.perf_counter() - started, "model": network, "encoder": encoder,
            "splits": splits, "classes": splits.classes, "predictions": result["predictions"],
            "settings": run_config(run), "leader": leader}


def run_config(run: dict) -> dict:
    """The settings a user sets (run.toml, the report's summary), without the fingerprint
    and split fraction the run records for checking."""
    return {key: value for key, value in run.items() if key not in ("data_sha256", "val_fraction")}


def _silent(*_args) -> None:
    pass


def sample_input(config: dict, encoder):
    """One encoded example of the kind the model takes (a blank image or signal, or the
    sentence "a"), for drawing its summary."""
    if config["kind"] == "text":
        return encoder.transform(numpy.asarray(["a"], dtype=object))
    shape = config["image_shape"] if config["kind"] == "image" else [config["length"]]
    return encoder.transform(numpy.zeros((1, *shape), numpy.float32))


def describe(model: str, dataset: str | None = None) -> str:
    """`chainrule summary`: the summary of a model file, or of a recipe built for
    `dataset`."""
    if os.path.isfile(model):
        state = read_model_file(model)
        network, encoder = build_saved_model(model, state, None), saved_encoder(model, state)
        config, title = state["config"], f"{model} ({state['config']['recipe']}):"
    else:
        recipe = recipes.get_recipe(model)
        splits = load_dataset(dataset or DEFAULT_DATA, seed=DEFAULT_SEED)
        recipe = recipe.for_kind(splits.kind)
        encoder = recipes.fit_encoder(recipe, splits)
        config = recipes.model_config(recipe, splits, encoder)
        network = recipes.build_model(config, encoder)
        title = f"{model} on {dataset or DEFAULT_DATA}:"
    return summary(network, as_tensor(sample_input(config, encoder)), title=title)


def predict(model, encoder, classes, inputs) -> list[tuple[str, float]]:
    """Label and probability for each raw input (images as arrays, or sentences)."""
    from ..autograd.grad_mode import no_grad
    with no_grad():
        logits = model(as_tensor(encoder.transform(inputs)))
        probabilities = logits.softmax(-1).numpy()
    if probabilities.ndim != 2 or probabilities.shape[1] != len(classes):
        raise ModelFileError(f"the model gives scores of shape {tuple(probabilities.shape)} for "
                             f"{len(inputs)} inputs, but its file names {len(classes)} classes")
    best = probabilities.argmax(-1)
    return [(classes[int(k)], float(p[k])) for k, p in zip(best, probabilities)]


def evaluate(path: str, dataset: str | None = None, seed: int | None = None,
             split: str = "test", model_code: str | None = None) -> dict:
    """Metrics of a model file on a split of `dataset` (default: the data it was trained on).

    On its training data the split is the training run's: another seed (whose test split
    would hold training examples) or data changed since training is refused."""
    state = read_model_file(path)
    model, encoder = build_saved_model(path, state, model_code), saved_encoder(path, state)
    classes, run = state["classes"], state.get("run") or {}
    dataset = dataset or run.get("data") or DEFAULT_DATA
    if seed is None:
        seed = run.get("seed", DEFAULT_SEED) if dataset == run.get("data") else DEFAULT_SEED
    splits = load_dataset(dataset, seed=seed, val_fraction=run.get("val_fraction", VAL_FRACTION))
    if run and (dataset == run.get("data") or splits.fingerprint == run.get("data_sha256")):
        check_same_split(path, run, dataset, seed, splits.fingerprint)
    if list(splits.classes) != list(classes):
        raise ModelFileError(f"the model was trained on classes {classes}, but {dataset} "
                             f"has {splits.classes}")
    check_data_fits(path, state["config"], dataset, splits)
    x, y = getattr(splits, split)
    trainer = Trainer(model, optimizer=None, progress=False)
    result = trainer.evaluate(_loader(encoder.transform(x), y, 512))
    return {**metrics_report(result["predictions"], result["targets"], len(classes)),
            "classes": classes}

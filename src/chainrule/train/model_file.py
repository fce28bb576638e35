"""The model file, `model.safetensors`: weights, the recipe's config, the class names, the
fitted encoder and the record of the run that trained it.

Loading one runs no code: the file holds numbers and plain values only (`cr.load` never
unpickles), a built-in recipe is rebuilt from its config, and a model that was built from
a user's Python file is rebuilt only from the file the user passes again (`--model
FILE.py`), never from a path written in the model file. Every field is checked before
anything is built, so a damaged or crafted file is one clear error.
"""
from __future__ import annotations

import os

import numpy

from ..data import encoder_from_state_dict
from ..serialize import load, save
from . import recipes

TEXT_ENCODERS = ("SequenceEncoder", "BagOfWords")  # the others read numbers


class ModelFileError(ValueError):
    """A model file that chainrule cannot use for predicting or evaluating."""


def save_model(path: str, model, config: dict, encoder, classes, run: dict | None = None) -> None:
    save({"format": "chainrule-model", "config": config, "classes": list(classes),
          "encoder": encoder.state_dict(), "state_dict": model.state_dict(), "run": run}, path)


def read_model_file(path: str) -> dict:
    """The checked contents of a model file: config, classes, encoder, state_dict, run."""
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != "chainrule-model":
        raise ModelFileError(f"{path} is not a chainrule model file (train one with "
                             "`chainrule train`)")
    problem = _problem(state)
    if problem is not None:
        raise ModelFileError(f"{path}: damaged model file: {problem}")
    return state


def _problem(state: dict) -> str | None:
    config, classes, weights = state.get("config"), state.get("classes"), state.get("state_dict")
    if not isinstance(config, dict) or not isinstance(weights, dict) \
            or not isinstance(state.get("encoder"), dict):
        return "no config, encoder or weights"
    if not isinstance(state.get("run"), (dict, type(None))):
        return "its run record is not a table of settings"
    stored = sum(int(numpy.prod(getattr(w, "shape", ()))) for w in weights.values())
    for name, weight in weights.items():
        values = numpy.asarray(getattr(weight, "array", weight))
        if values.dtype.kind == "f" and not numpy.isfinite(values).all():
            return f"weight {name} holds NaN or infinite values"
    problem = recipes.config_problem(config, stored)
    encoder = state["encoder"].get("type")
    if problem is None and (encoder in TEXT_ENCODERS) != (config["kind"] == "text"):
        problem = f"an encoder of type {encoder!r} for {config['kind']} data"
    if problem is None and (not isinstance(classes, list) or len(classes) != config["num_classes"]
                            or not all(isinstance(c, str) for c in classes)):
        count = len(classes) if isinstance(classes, list) else "no list of"
        problem = f"it names {count} classes for a model with {config['num_classes']} outputs"
    return problem


def build_saved_model(path: str, state: dict, model_code: str | None = None):
    """The network of a read model file, with its weights, in eval mode."""
    config = state["config"]
    from_code = recipes.is_user_code(config["recipe"])
    if from_code and model_code is None:
        raise ModelFileError(f"{path} holds a model built from user code "
                             f"({os.path.basename(config['recipe'])}); loading a model file runs "
                             "no code, so pass that file again: --model FILE.py")
    if model_code is not None and not from_code:
        raise ModelFileError(f"{path} holds the built-in recipe {config['recipe']!r}, not a "
                             "model from user code; leave out --model")
    model = recipes.build_model({**config, "recipe": model_code} if from_code else config)
    try:
        model.load_state_dict(state["state_dict"])
    except (KeyError, ValueError, RuntimeError, TypeError) as err:
        source = model_code or f"the recipe {config['recipe']!r}"
        raise ModelFileError(f"{path}: its weights do not fit the network built by {source}: "
                             f"{' '.join(str(err).split())}") from None
    model.eval()
    return model


def saved_encoder(path: str, state: dict):
    try:
        return encoder_from_state_dict(state["encoder"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise ModelFileError(f"{path}: damaged model file: its encoder record does not load "
                             f"({type(err).__name__}: {err})") from None


def load_model(path: str, model_code: str | None = None):
    """(model in eval mode, encoder, class names, config) from a saved model file;
    `model_code` is the Python file a model from user code is rebuilt with."""
    state = read_model_file(path)
    return (build_saved_model(path, state, model_code), saved_encoder(path, state),
            state["classes"], state["config"])


def check_data_fits(path: str, config: dict, data: str, splits) -> None:
    """The data must be of the kind and shape the model takes (and have its classes)."""
    takes = _input_text(config["kind"], config.get("image_shape"), config.get("length"))
    length = int(numpy.prod(splits.train[0].shape[1:])) if splits.kind == "signal" else None
    has = _input_text(splits.kind, splits.image_shape and list(splits.image_shape), length)
    if takes != has:
        raise ModelFileError(f"{path} takes {takes}, but {data} has {has}")


def _input_text(kind: str, image_shape, length) -> str:
    if kind == "image":
        return f"images of shape {tuple(image_shape)}"
    return f"signals of length {length}" if kind == "signal" else "text"


def check_same_split(path: str, run: dict, data: str, seed: int, fingerprint: str) -> None:
    """Evaluating on the training data is honest only on the training run's split."""
    if fingerprint != run.get("data_sha256"):
        raise ModelFileError(f"{data} has changed since {path} was trained on it, so its "
                             "splits may mix training and test examples; train again")
    if seed != run.get("seed"):
        raise ModelFileError(f"{path} was trained on {data} split with --seed {run.get('seed')}"
                             f"; with --seed {seed} the split would hold training examples "
                             "(leave out --seed)")

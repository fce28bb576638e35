"""Shared fixtures for the data tests.

Built-in data sets are parsed once per process (``load_source`` caches them), and the
fixtures below are module-scoped, so MNIST-sized arrays are split once per test file.
A test that needs an optional data set skips with the exact install command.
"""
from __future__ import annotations

import pytest

from chainrule.data import load_dataset, missing_requirement
from chainrule.data.locate import has_module


def need_dataset(name: str) -> None:
    """Skip the calling test unless the built-in data set ``name`` is installed."""
    message = missing_requirement(name)
    if message is not None:
        pytest.skip(message)


def need_modules(*modules_and_command: str) -> None:
    """``need_modules("pyarrow", "pip install pyarrow")``: importorskip via find_spec."""
    *modules, command = modules_and_command
    absent = [m for m in modules if not has_module(m)]
    if absent:
        pytest.skip(f"{', '.join(absent)} not installed; install it with: {command}")


def _splits(name: str):
    need_dataset(name)
    return load_dataset(name, seed=0)


@pytest.fixture(scope="module")
def digits():
    return _splits("digits")


@pytest.fixture(scope="module")
def mnist():
    return _splits("mnist")


@pytest.fixture(scope="module")
def fashion_mnist():
    return _splits("fashion-mnist")


@pytest.fixture(scope="module")
def mnist1d():
    return _splits("mnist1d")


@pytest.fixture(scope="module")
def movie_reviews():
    return _splits("movie-reviews")


@pytest.fixture(scope="module")
def tweets():
    return _splits("tweets")

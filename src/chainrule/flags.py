"""Argument types for every `chainrule` command: a value out of its range is refused in one
line naming the flag and the range (`argument --epochs: expected an integer from 1 to
1000000, got '0'`), never replaced by a default or passed on to fail later.

    parser.add_argument("--epochs", type=int_in(1, 1_000_000))
    parser.add_argument("--lr", type=positive_float)
    parser.add_argument("--seed", type=seed)
"""
from __future__ import annotations

import argparse
import math

MAX_SEED = 2 ** 63 - 1


def int_in(low: int, high: int):
    """An integer in [low, high]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer from {low} to {high}, "
                                             f"got {text!r}")
        return value
    return parse


def non_negative_float(text: str) -> float:
    """A finite number of 0 or more (a weight decay)."""
    return _finite_float(text, lambda value: value >= 0, "a finite number of 0 or more")


def positive_float(text: str) -> float:
    """A finite number above 0 (a learning rate)."""
    return _finite_float(text, lambda value: value > 0, "a finite number above 0")


def _finite_float(text: str, accepts, expected: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and accepts(value)):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


seed = int_in(0, MAX_SEED)  # the type of every --seed

"""A run's settings as a TOML file: `chainrule train --config run.toml` reads one (flags
given on the command line win), and every run folder gets the `run.toml` that repeats it
exactly (`chainrule train --config runs/digits-mlp/run.toml`).

    data = "digits"
    model = "mlp"
    epochs = 20
    lr = 0.001
"""
from __future__ import annotations

import math
import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as the tomli package (a dependency there)
    import tomli as tomllib

RUN_CONFIG_FILE = "run.toml"


class ConfigError(ValueError):
    """A config file that cannot be read, or a setting no flag has."""


def read_config(path: str) -> dict:
    """The settings in a TOML file, keyed as the flags' names with `_` (batch_size)."""
    try:
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"--config: no such file: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"--config: {path} is not valid TOML: {err}") from None
    settings = {}
    for key, value in values.items():
        if isinstance(value, dict):
            raise ConfigError(f"--config: {path}: [{key}] tables are not settings; write "
                              "flat `name = value` lines")
        settings[key.replace("-", "_")] = value
    return settings


def write_config(path: str, settings: dict) -> str:
    """Write flat `name = value` TOML (None values are left out); returns the path."""
    lines = [f"# repeat this run: chainrule train --config {path} --out ANOTHER_FOLDER",
             *(f"{key} = {_toml_value(value)}" for key, value in settings.items()
               if value is not None)]
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(partial, path)
    return path


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'

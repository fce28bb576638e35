"""`chainrule run SCRIPT.py [args]`: run a PyTorch program unchanged, on chainrule."""
from __future__ import annotations

import os
import runpy
import sys

from .torch_alias import torch_as_chainrule


def run_script(path: str, argv: list[str]) -> None:
    """Run `path` as `python path argv...` would (as `__main__`, its folder first on
    `sys.path`, `sys.argv` set), with `import torch` answered by chainrule."""
    if not os.path.isfile(path):
        raise FileNotFoundError(2, "no such file", path)
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with torch_as_chainrule():
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path

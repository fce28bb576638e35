"""The `run` subcommand."""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from .torch_alias import TorchNotProvided


def add_parser(commands) -> None:
    run = commands.add_parser(
        "run", help="run an unmodified PyTorch script on chainrule",
        description="Run SCRIPT.py as Python would, with `import torch` (and torch.nn, "
                    "torch.optim, torch.utils.data, ...) answered by chainrule. Only torch "
                    "is mapped: torchvision, torchaudio and torchtext are not provided.")
    run.add_argument("script", help="the Python file to run")
    run.add_argument("script_args", nargs=argparse.REMAINDER,
                     help="arguments passed to the script")
    run.set_defaults(func=_run)


def _run(args) -> int:
    from .run import run_script
    try:
        run_script(args.script, args.script_args)
    except SystemExit as done:
        code = done.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except TorchNotProvided as err:
        print(f"chainrule run: {err}", file=sys.stderr)
        return 1
    except FileNotFoundError as err:
        if err.filename == args.script:
            raise
        _print_from_script(err, args.script)
        return 1
    except Exception as err:  # noqa: BLE001 - the script's own error, shown as Python shows it
        _print_from_script(err, args.script)
        return 1
    return 0


def _print_from_script(err: BaseException, script: str) -> None:
    """The traceback as `python SCRIPT` prints it: from the script's first frame on."""
    tb, path = err.__traceback__, os.path.abspath(script)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != path:
        tb = tb.tb_next
    traceback.print_exception(type(err), err, tb or err.__traceback__)

"""`chainrule explain …`: each subcommand lives with the module that draws or prints it."""
from __future__ import annotations

import importlib

# Each of these modules defines add_parser(subparsers), which registers its subcommand
# with `func=` set to the function that runs it.
SUBCOMMANDS = ("descent", "lr_finder", "chain")  # lr_finder registers `explain lr`


def add_parser(commands) -> None:
    explain = commands.add_parser("explain", help="see how a network learns, step by step")
    sub = explain.add_subparsers(dest="explain_command", required=True, metavar="PICTURE",
                                 help="which lesson: chain, descent or lr")
    for name in SUBCOMMANDS:
        importlib.import_module(f"chainrule.explain.{name}").add_parser(sub)

"""The command line as people expect it: --version, help on every flag, examples at the end
of every --help, --debug before or after the subcommand, and docs/cli.md naming every flag."""
import argparse
import pathlib
import subprocess
import sys

import pytest

import chainrule
from chainrule import cli

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "cli.md"
COMMANDS = [name for name, _ in cli._subcommands(cli.build_parser())]


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"chainrule {chainrule.__version__}"


@pytest.mark.parametrize("command", ["chainrule", *COMMANDS])
def test_every_flag_has_help_and_every_help_ends_with_examples(command, capsys):
    parser = cli.build_parser()
    if command != "chainrule":
        parser = dict(cli._subcommands(parser))[command]
    for action in parser._actions:
        assert action.help, f"{command}: {action.option_strings or action.dest} has no help"
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"] if command == "chainrule" else [*command.split(), "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    tail = text[text.rindex("examples:"):]
    assert tail.count("\n  chainrule ") >= 1  # commands to copy, after the flags


def test_debug_works_after_the_subcommand(tmp_path, capsys):
    args = ["evaluate", str(tmp_path / "missing.safetensors")]
    assert cli.main(args) == 2  # one line
    assert "error:" in capsys.readouterr().err
    for argv in (["--debug", *args], [*args, "--debug"]):
        with pytest.raises(FileNotFoundError):
            cli.main(argv)


def test_the_console_script_prints_its_version():
    done = subprocess.run([sys.executable, "-m", "chainrule.cli", "--version"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith("chainrule ")


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_cli_md_names_every_flag(command):
    text = DOCS.read_text(encoding="utf-8")
    assert f"## chainrule {command}" in text
    section = text.split(f"## chainrule {command}", 1)[1].split("\n## ", 1)[0]
    parser = dict(cli._subcommands(cli.build_parser()))[command]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        names = action.option_strings or [action.dest.upper() if action.dest != "model_file"
                                          else "MODEL_FILE"]
        if action.option_strings == ["--debug"]:
            continue  # one global flag, described once at the top
        assert any(f"`{name}" in section for name in names), f"{command}: {names[0]}"

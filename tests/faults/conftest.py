"""Fault injection: chainrule as an adversarial user meets it.

Every case asserts its exact outcome: the one error line and the exit code, or the bytes of
a resumed run. CLI cases run in-process (`cli.main(argv)`), so hundreds of them take
seconds; the kill loops that need real processes are marked `slow` (`make faults`).
"""
from __future__ import annotations

import numpy as np
import pytest

from chainrule import cli


def pytest_collection_modifyitems(config, items):
    """`slow` cases (real kill -9 loops) run only when asked for: `make faults` (-m slow)."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a slow kill loop: run it with `make faults`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


class CLI:
    """Runs `chainrule ARGS` in this process and captures what the user would see."""

    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *args) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def error(self, *args, code: int = 2) -> str:
        """The one error line (after `chainrule: error: `) of a command that must fail."""
        got, out, err = self(*args)
        lines = err.strip().splitlines()
        assert got == code and len(lines) == 1 and lines[0].startswith("chainrule: error: "), \
            (got, out, err)
        assert "Traceback" not in out + err
        return lines[0][len("chainrule: error: "):]


@pytest.fixture
def chainrule(capsys) -> CLI:
    return CLI(capsys)


def write_csv(path, rows, header="a,b,label") -> str:
    """A small table; returns its `csv:` data name."""
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return f"csv:{path}"


def separable_rows(n: int = 60, seed: int = 0) -> list[str]:
    """Two classes a line tells apart: a quick, learnable CSV."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        a, b = rng.normal(size=2)
        rows.append(f"{a:.4f},{b:.4f},{'yes' if a + b > 0 else 'no'}")
    return rows


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A digits MLP trained for 2 epochs (under a second), shared by a module."""
    out = tmp_path_factory.mktemp("digits-run")
    assert cli.main(["train", "--epochs", "2", "--out", str(out), "--no-progress"]) == 0
    return out

"""What a person sees while training: a tqdm bar in a terminal (run under a pty), one line per
epoch when piped, --quiet and --verbose, and ASCII stand-ins on terminals that lack UTF-8."""
import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios

import pytest

from chainrule import cli
from chainrule.train import progress

TRAIN = [sys.executable, "-m", "chainrule.cli", "train", "--epochs", "3", "--batch-size", "16"]


def env(**extra):
    # TQDM_MININTERVAL: tqdm's redraw interval, shorter than its default 0.1 s, so that an
    # epoch of 0.1 s on a quiet machine still redraws a few times (still far fewer than once
    # per batch)
    return {**os.environ, "COLUMNS": "100", "TQDM_MININTERVAL": "0.02", **extra}


def run_in_terminal(args, **extra) -> str:
    """Run `args` with stdout and stderr on a pseudo-terminal; everything it wrote."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24×100
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
                               env=env(**extra), close_fds=True)
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError("no output for 120 s")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=60) == 0, b"".join(chunks)[-2000:]
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_in_a_terminal_a_bar_redraws_and_each_epoch_leaves_one_line(tmp_path):
    text = run_in_terminal([*TRAIN, "--out", str(tmp_path / "run")])
    text = text.replace("\r\n", "\n")  # the terminal's own line ends
    assert "\r" in text and ("batch/s" in text or "s/batch" in text)  # tqdm redrawing its bar
    assert "epoch 1/3" in text and "loss=" in text  # the bar's description and running loss
    redraws = text.count("\r")
    steps = 3 * 79  # 1259 training digits in batches of 16
    assert redraws < steps  # tqdm's own rate, not one redraw per batch
    finished = [line for line in text.replace("\r", "\n").splitlines()
                if line.startswith("epoch ") and "train loss" in line]
    assert [line.split()[1] for line in finished] == ["1", "2", "3"]


def test_piped_output_is_one_line_per_epoch_without_a_bar(tmp_path):
    done = subprocess.run([*TRAIN, "--out", str(tmp_path / "run")], capture_output=True,
                          text=True, env=env(), timeout=300, check=True)
    assert "\r" not in done.stdout + done.stderr and "batch/s" not in done.stderr
    epochs = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 3
    assert len(done.stdout.encode()) + len(done.stderr.encode()) < 3000


def test_make_run_log_is_small_when_piped(tmp_path):
    """`make run` (python -m chainrule.main) writes a readable log when piped to a file."""
    done = subprocess.run([sys.executable, "-m", "chainrule.main"], capture_output=True,
                          cwd=tmp_path, env=env(), timeout=600, check=True)
    log = done.stdout + done.stderr
    assert len(log) < 10_000 and b"\r" not in log
    assert log.count(b"\nepoch ") >= 10 and b"test accuracy" in log


def test_quiet_and_verbose(tmp_path, capsys):
    assert cli.main(["train", "--epochs", "2", "--out", str(tmp_path / "q"), "--quiet"]) == 0
    quiet = capsys.readouterr().out.splitlines()
    assert len(quiet) == 2 and quiet[0].startswith("test accuracy")
    assert cli.main(["train", "--epochs", "2", "--out", str(tmp_path / "v"), "-v"]) == 0
    verbose = capsys.readouterr().out
    assert "settings: data digits, model mlp" in verbose and "weight_decay 0.05" in verbose
    assert cli.main(["train", "--epochs", "2", "--out", str(tmp_path / "q2"), "-q", "-v"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["explain", "chain"],
                                     ["explain", "descent", "--train-steps", "2", "--out"]])
def test_ascii_terminal_gets_stand_ins_instead_of_an_error(command, tmp_path):
    """The same text as on a UTF-8 terminal, each σ, Δ, → ... replaced by its stand-in (and
    none of them unknown: no '?' appears)."""
    if command[-1] == "--out":
        command = [*command, str(tmp_path / "d.png")]
    outputs = []
    for encoding in ("utf-8", "ascii"):
        done = subprocess.run([sys.executable, "-m", "chainrule.cli", *command],
                              capture_output=True, timeout=300,
                              env=env(PYTHONIOENCODING=encoding, LANG="C", LC_ALL="C"))
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout.decode(encoding))
    unicode, ascii_text = outputs
    assert any(ord(c) > 127 for c in unicode)
    assert ascii_text == "".join(progress.ASCII_STAND_INS.get(c, c) for c in unicode)


def test_ascii_bar_under_a_c_locale(tmp_path):
    text = run_in_terminal([*TRAIN, "--epochs", "1", "--out", str(tmp_path / "run")],
                           PYTHONIOENCODING="ascii", LANG="C", LC_ALL="C")
    assert "█" not in text and "epoch 1/1" in text and "#" in text


def test_stand_ins_for_each_character():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    progress.ascii_fallback(stream)
    stream.write("σ(z) → ‖∂L/∂θ‖ ≈ 2·x² ☃")
    stream.flush()
    assert stream.buffer.getvalue() == b"sigma(z) -> |dL/dtheta| ~ 2*x^2 ?"


@pytest.mark.parametrize("encoding, expected", [("utf-8", True), ("ascii", False),
                                                ("latin-1", False)])
def test_can_encode(encoding, expected):
    assert progress.can_encode(io.TextIOWrapper(io.BytesIO(), encoding=encoding)) is expected

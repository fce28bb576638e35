"""Killed runs: `--resume` reaches the same bytes as a run never interrupted, a kill during a
save never leaves an unreadable checkpoint, and the next save clears the temporary files a
killed save left. The fast cases crash in-process; the `kill -9` loops are `slow` (make
faults)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from chainrule import cli
from chainrule.serialize import load, save
from chainrule.train import trainer as trainer_module

from .conftest import separable_rows, write_csv

TRAIN = ["train", "--epochs", "4", "--batch-size", "16", "--no-progress", "--quiet"]


class Crash(Exception):
    """Stands for the process dying at the end of an epoch (before its checkpoint)."""


def crash_in_epoch(monkeypatch, epoch: int):
    real = trainer_module.Trainer.train_epoch

    def dying(self, loader, index, epochs):
        if index + 1 == epoch:
            raise Crash
        return real(self, loader, index, epochs)
    monkeypatch.setattr(trainer_module.Trainer, "train_epoch", dying)


def weights_and_optimizer(folder) -> bytes:
    """What resuming must reproduce exactly: the model file, and the checkpoint's tensors."""
    state = load(str(folder / "checkpoint.safetensors"))
    return (folder / "model.safetensors").read_bytes() + repr(
        [(k, v.numpy().tobytes()) for k, v in sorted(state["model"].items())]).encode()


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A 200-row CSV: an MLP with dropout and a cosine schedule trains on it in a blink."""
    return write_csv(tmp_path_factory.mktemp("table") / "t.csv", separable_rows(200))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, table):
    out = tmp_path_factory.mktemp("whole")
    assert cli.main([*TRAIN, "--data", table, "--out", str(out)]) == 0
    return weights_and_optimizer(out)


@pytest.mark.parametrize("epoch", [1, 2, 3, 4])
def test_a_crash_in_any_epoch_resumes_to_the_same_bytes(tmp_path, monkeypatch, table,
                                                         uninterrupted, epoch):
    train = [*TRAIN, "--data", table, "--out", str(tmp_path)]
    crash_in_epoch(monkeypatch, epoch)
    with pytest.raises(Crash):
        cli.main(train)
    monkeypatch.undo()
    if epoch == 1:  # nothing to resume: the run starts again
        assert not (tmp_path / "checkpoint.safetensors").exists()
        assert cli.main([*train, "--overwrite"]) == 0
    else:
        assert load(str(tmp_path / "checkpoint.safetensors"))["epoch"] == epoch - 1
        assert cli.main([*train, "--resume"]) == 0
    assert weights_and_optimizer(tmp_path) == uninterrupted


def test_resume_without_flags_continues_the_recorded_run(tmp_path, monkeypatch):
    data = write_csv(tmp_path / "t.csv", separable_rows(50))
    args = ["train", "--data", data, "--epochs", "3", "--seed", "4", "--batch-size", "8",
            "--lr", "0.003", "--optimizer", "sgd", "--no-progress", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "whole")]) == 0
    crash_in_epoch(monkeypatch, 3)
    with pytest.raises(Crash):
        cli.main([*args, "--out", str(tmp_path / "cut")])
    monkeypatch.undo()
    assert cli.main(["train", "--resume", "--out", str(tmp_path / "cut"), "--quiet"]) == 0
    assert weights_and_optimizer(tmp_path / "cut") == weights_and_optimizer(tmp_path / "whole")


def orphan(folder, name: str, pid: int) -> str:
    path = folder / f".{name}.{pid}.abc123.tmp"
    path.write_bytes(b"partial")
    return path.name


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_save_clears_what_killed_saves_left(tmp_path):
    names = [orphan(tmp_path, "ckpt.safetensors", dead_pid()) for _ in range(3)]
    other = orphan(tmp_path, "other.safetensors", dead_pid())  # another target's: kept
    assert sorted(os.listdir(tmp_path)) == sorted([*names, other])
    save({"epoch": 1}, str(tmp_path / "ckpt.safetensors"))
    assert sorted(os.listdir(tmp_path)) == sorted([other, "ckpt.safetensors"])


def test_the_next_run_starts_by_clearing_what_killed_saves_left(tmp_path, table):
    names = [orphan(tmp_path, target, dead_pid())
             for target in ("checkpoint.safetensors", "model.safetensors", "best.safetensors")]
    assert sorted(os.listdir(tmp_path)) == sorted(names)
    crash_before_first_epoch = pytest.raises(Crash)
    with crash_before_first_epoch, pytest.MonkeyPatch.context() as patch:
        crash_in_epoch(patch, 1)
        cli.main([*TRAIN, "--data", table, "--out", str(tmp_path)])
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


def test_a_save_keeps_the_temporary_file_of_a_live_writer(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        name = orphan(tmp_path, "ckpt.safetensors", live.pid)
        save({"epoch": 1}, str(tmp_path / "ckpt.safetensors"))
        assert sorted(os.listdir(tmp_path)) == sorted([name, "ckpt.safetensors"])
    finally:
        live.kill()
        live.wait()


# --- real kill -9 loops (make faults) ----------------------------------------------------
def _spawn(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "chainrule.cli", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kill_9_during_training_resumes_byte_identical(tmp_path):
    rng = random.Random(0)
    args = ["train", "--epochs", "6", "--no-progress", "--quiet"]
    whole = tmp_path / "whole"
    assert _spawn([*args, "--out", str(whole)], tmp_path).wait() == 0
    for trial in range(8):
        out = tmp_path / f"killed{trial}"
        process = _spawn([*args, "--out", str(out)], tmp_path)
        time.sleep(rng.uniform(1.0, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        resume = ["--resume"] if (out / "checkpoint.safetensors").exists() else ["--overwrite"]
        finished = _spawn([*args, "--out", str(out), *resume], tmp_path)
        _, err = finished.communicate()
        if finished.returncode != 0:  # the kill came after the last epoch's checkpoint
            assert b"already finished its 6 epochs" in err, err
            continue
        assert weights_and_optimizer(out) == weights_and_optimizer(whole)
        assert [n for n in os.listdir(out) if n.endswith(".tmp")] == []


SAVER = """
import sys, numpy
from chainrule.serialize import save
big = {"w": numpy.arange(4_000_000, dtype=numpy.float32)}
for i in range(1000):
    big["i"] = i
    save(big, sys.argv[1])
"""


@pytest.mark.slow
def test_kill_9_during_saves_never_leaves_an_unreadable_file(tmp_path):
    rng = random.Random(1)
    target = tmp_path / "ckpt.safetensors"
    for _ in range(15):
        process = subprocess.Popen([sys.executable, "-c", SAVER, str(target)])
        time.sleep(rng.uniform(0.5, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if target.exists():
            assert load(str(target))["w"].shape == (4_000_000,)
    save({"done": True}, str(target))  # the next save clears the killed saves' files
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]

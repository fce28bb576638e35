"""`mpirun -n N chainrule train` as a user runs it: the same model as one process, rank 0
alone reporting, a failing rank stopping the job, a killed rank ending it with the
checkpoint to resume, and --resume on another number of ranks."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy
import pytest

import chainrule as cr

from .mpi import ENVIRONMENT, mpirun

CHAINRULE = [sys.executable, "-m", "chainrule.cli"]
SETTINGS = ["train", "--data", "digits", "--optimizer", "sgd", "--lr", "0.05", "--no-progress"]

# A model without dropout (dropout masks depend on the ranks), with a BatchNorm (made a
# SyncBatchNorm on several ranks); CHAINRULE_TEST_FAIL_RANK makes that rank raise on its
# 3rd batch, CHAINRULE_TEST_SLOW slows every step (time to kill a rank mid-epoch).
MODEL = '''
import os, time
from chainrule import nn

class Net(nn.Module):
    def __init__(self, classes, batch_norm):
        super().__init__()
        self.hidden = nn.Linear(64, 32)
        self.norm = nn.BatchNorm1d(32) if batch_norm else nn.Identity()
        self.out = nn.Linear(32, classes)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        rank = os.environ.get("OMPI_COMM_WORLD_RANK")
        if rank is not None and rank == os.environ.get("CHAINRULE_TEST_FAIL_RANK") \\
                and self.calls == 3:
            raise ValueError(f"bad example in the shard of rank {rank}")
        time.sleep(float(os.environ.get("CHAINRULE_TEST_SLOW", 0)))
        return self.out(self.norm(self.hidden(x)).relu())

def build_model(config):
    return Net(config["num_classes"], BATCH_NORM)
'''


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, batch_norm in (("bn", True), ("plain", False)):
        paths[name] = folder / f"net_{name}.py"
        paths[name].write_text(MODEL.replace("BATCH_NORM", str(batch_norm)))
    return paths


def weights(out: pathlib.Path) -> dict:
    return {k: v.numpy() for k, v in cr.load(str(out / "model.safetensors"))["state_dict"].items()}


def one_process(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(CHAINRULE + list(args), capture_output=True, text=True, timeout=120,
                          env={**os.environ, **ENVIRONMENT}, cwd=cwd)


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        numpy.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("ranks,model,batch", [(3, "bn", "50"), (3, "plain", "629")],
                         ids=["uneven-shares-syncbn", "ranks-without-examples"])
def test_ranks_train_the_model_of_one_process(tmp_path, models, ranks, model, batch):
    """Batch 50 on 3 ranks is shared 16/17/17; batch 629 leaves a last batch of 1 example
    (1,259 training examples), so two ranks have none."""
    args = [*SETTINGS, "--model", str(models[model]), "--epochs", "2", "--batch-size", batch]
    single = one_process(*args, "--out", str(tmp_path / "one"))
    assert single.returncode == 0, single.stderr
    done = mpirun(ranks, *CHAINRULE, *args, "--out", str(tmp_path / "many"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy") == 1  # rank 0 alone reports
    assert done.stdout.count("epoch   2") == 1
    assert _accuracy_line(done.stdout) == _accuracy_line(single.stdout)
    assert_same_weights(weights(tmp_path / "many"), weights(tmp_path / "one"))


def _accuracy_line(stdout: str) -> str:
    """"test accuracy 0.9220  macro F1 0.9228" (without the seconds)."""
    return next(line for line in stdout.splitlines() if line.startswith("test accuracy")
                ).split("(")[0]


def test_a_rank_that_raises_stops_every_rank_with_its_error(tmp_path, models):
    started = time.monotonic()
    os.environ["CHAINRULE_TEST_FAIL_RANK"] = "1"
    try:
        done = mpirun(2, *CHAINRULE, *SETTINGS, "--model", str(models["bn"]), "--epochs", "3",
                      "--out", str(tmp_path / "run"), timeout=60)
    finally:
        del os.environ["CHAINRULE_TEST_FAIL_RANK"]
    assert done.returncode != 0
    assert "chainrule: error: rank 1: " in done.stderr
    assert "bad example in the shard of rank 1" in done.stderr
    assert time.monotonic() - started < 30


def _rank_pid(marker: str, rank: int) -> int | None:
    """The process id of rank `rank` of the job whose command line holds `marker`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = pathlib.Path(f"/proc/{entry}/cmdline").read_bytes()
            environment = pathlib.Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in command and f"OMPI_COMM_WORLD_RANK={rank}\0".encode() in environment:
            return int(entry)
    return None


def test_killed_rank_ends_the_job_and_resume_continues_on_other_ranks(tmp_path, models):
    """Kill rank 1 mid-run: the job ends within seconds, rank 0 names the checkpoint; the
    run resumed on 1 process ends with the weights of a run never interrupted."""
    out = tmp_path / "killed"
    args = [*SETTINGS, "--model", str(models["bn"]), "--epochs", "4", "--batch-size", "64"]
    os.environ["CHAINRULE_TEST_SLOW"] = "0.02"  # 20 batches an epoch: about 0.5 s each
    try:
        job = mpirun(2, *CHAINRULE, *args, "--out", str(out), wait=False)
        checkpoint = out / "checkpoint.safetensors"
        deadline = time.monotonic() + 60
        while not checkpoint.exists() and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.05)
        victim = _rank_pid(str(out), 1)
        assert victim is not None and job.poll() is None, "the run ended before the kill"
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = job.communicate(timeout=60)
    finally:
        del os.environ["CHAINRULE_TEST_SLOW"]
    assert time.monotonic() - killed < 30
    assert job.returncode != 0
    assert "rank 0: the job was stopped: another of the 2 ranks ended first" in stderr
    assert f"the last checkpoint is {checkpoint}: continue with --resume" in stderr
    saved = cr.load(str(checkpoint))
    assert 1 <= saved["epoch"] < 4
    resumed = one_process(*args, "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"epoch   {saved['epoch'] + 1}" in resumed.stdout
    whole = one_process(*args, "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    assert_same_weights(weights(out), weights(tmp_path / "whole"))


def test_a_pytorch_ddp_script_runs_unchanged():
    """torch.distributed, DDP and DistributedSampler as a PyTorch script uses them."""
    script = pathlib.Path(__file__).with_name("torch_ddp_program.py")
    done = mpirun(2, *CHAINRULE, "run", str(script))
    assert done.returncode == 0, done.stderr
    losses = [float(line.split()[-1]) for line in done.stdout.splitlines()
              if line.startswith("epoch")]
    assert len(losses) == 5 and losses[-1] < 0.5 * losses[0]  # one line per epoch: rank 0's

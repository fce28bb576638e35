"""The collectives and DistributedDataParallel's options on 2 ranks, and the launcher
checks."""
from __future__ import annotations

import os
import pathlib
import sys

from .mpi import mpirun

WORKER = pathlib.Path(__file__).with_name("api_worker.py")


def test_collectives_and_ddp_options_on_two_ranks():
    done = mpirun(2, sys.executable, str(WORKER))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in ("all_reduce sum", "all_reduce avg", "all_reduce max", "all_reduce async product",
                 "broadcast", "all_gather", "barrier", "timeout raises", "late join completes",
                 "no_sync accumulates", "several buckets", "buckets sent during backward",
                 "sampler shares cover", "sparse gradient stays sparse", "sparse rows of every rank",
                 "sparse rows averaged", "unused parameter named", "find_unused_parameters",
                 "second init refused", "destroyed"):
        assert lines.count(f"{name} ok") == (1 if name == "timeout raises" else 2), name


def test_launcher_that_mpi_does_not_know_is_refused():
    """WORLD_SIZE=3 from a torchrun-style launcher, but MPI started one process: a clear
    error instead of training alone."""
    code = "import chainrule.distributed as d; d.init_process_group()"
    os.environ["WORLD_SIZE"], os.environ["RANK"] = "3", "0"
    try:
        done = mpirun(1, sys.executable, "-c", code)
    finally:
        del os.environ["WORLD_SIZE"], os.environ["RANK"]
    assert done.returncode != 0
    assert "WORLD_SIZE (set by a torchrun-style launcher) is 3 but MPI sees this process as " \
           "rank 0 of 1" in " ".join(done.stderr.split())

"""The distributed row of `chainrule bench`: W2 and W3 trained on 1 and 2 ranks over MPI.

One global batch per step (W2: 1024 examples, W3: 64), split evenly across the ranks;
every rank runs one thread (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1, set here for the
ranks only), so on a 2-core machine 2 ranks use the cores that 1 rank leaves idle. The
1-rank figure is plain training without DistributedDataParallel: the speed-up is what
going distributed gains over not doing it. Reported per case:

    samples/s         global batch × steps / the slowest rank's wall time
    speed-up          samples/s over the 1-rank figure
    efficiency        speed-up / ranks
    allreduce ms      per step, the time a rank spent filling gradient buckets, starting
                      their allreduces and waiting for them (what backward did not hide)
    MB/step           the gradient bytes each rank sends into the allreduce per step

The frameworks take turns over `passes` rounds (1 rank, 2 ranks, 2 ranks, 1 rank, …) and
each keeps its best round, as docs/benchmarks.md advises on a shared machine. docs/distributed.md
models how these figures scale past one machine.

    python -m chainrule.bench.distributed          the table (or: chainrule bench --distributed)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

CASES = {  # name -> (global batch, timed steps, warm-up steps)
    "W2 b1024": (1024, 30, 5),
    "W3 b64": (64, 40, 5),
}
QUICK_STEPS = (3, 1)
RANKS = (1, 2)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ROOT_OK = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
TARGET = ("W2 b1024", 2, 1.6)  # 2 ranks reach 1.6× the 1-rank throughput
SETSID = shutil.which("setsid")


def build(case: str):
    """The workload's network (as in w2_mlp and w3_cnn) and one global batch."""
    import chainrule as cr
    from chainrule import nn

    from . import w2_mlp, w3_cnn
    cr.manual_seed(0)
    if case.startswith("W2"):
        sizes = w2_mlp.SIZES
        model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
                              nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                              nn.Linear(sizes[2], sizes[3]))
        return model, w2_mlp.data(CASES[case][0]), w2_mlp.LR
    model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(512, 10))
    return model, w3_cnn.data(CASES[case][0]), w3_cnn.LR


def worker(case: str, quick: bool) -> None:
    """One rank's part (under mpirun): rank 0 prints one JSON line. With several ranks the
    two terms of the scaling model are timed too, under the same conditions: the steps on
    this rank's share without averaging, and an allreduce of the gradients' size alone."""
    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    model, (x, y), lr = build(case)
    share = slice(len(y) * rank // world, len(y) * (rank + 1) // world)
    x, y = cr.from_numpy(x[share]), cr.from_numpy(y[share])
    optimizer = cr.optim.SGD(model.parameters(), lr=lr)
    steps, warmup = QUICK_STEPS if quick else CASES[case][1:]
    gradients = cr.zeros(sum(p.numel() for p in model.parameters()))

    def train(network):
        def step():
            loss = nn.functional.cross_entropy(network(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return step
    figures = {"compute": _seconds(train(model), steps, warmup, dist)}
    if world > 1:
        figures["allreduce alone"] = _seconds(lambda: dist.all_reduce(gradients), steps, 1, dist)
        ddp = nn.parallel.DistributedDataParallel(model)
        figures["step"] = _seconds(train(ddp), steps, warmup, dist)
        figures["allreduce"] = ddp.communication_seconds / (steps + warmup)
    else:
        figures["step"] = figures["compute"]
    slowest = cr.tensor(list(figures.values()), dtype=cr.float64)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    if rank == 0:
        ms = {name: 1e3 * value for name, value in zip(figures, slowest.tolist())}
        batch = CASES[case][0]
        row = {"case": case, "ranks": world, "samples_per_s": 1e3 * batch / ms["step"],
               "step_ms": ms["step"], "compute_ms": ms["compute"],
               "allreduce_ms": ms.get("allreduce", 0.0),
               "allreduce_alone_ms": ms.get("allreduce alone", 0.0),
               "mb_per_step": gradients.numel() * 4 / 2 ** 20 if world > 1 else 0.0}
        row["model_samples_per_s"] = 1e3 * batch / (ms["compute"] + row["allreduce_alone_ms"])
        print(json.dumps(row))
    dist.destroy_process_group()


def _seconds(step, steps: int, warmup: int, dist) -> float:
    """Seconds per call of `step` on this rank, after a warm-up and a barrier."""
    for _ in range(warmup):
        step()
    dist.barrier()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - started) / steps


def mpirun() -> str:
    found = shutil.which("mpirun", path=os.path.dirname(sys.executable) + os.pathsep
                         + os.environ.get("PATH", ""))
    if found is None:
        raise RuntimeError("bench --distributed needs mpirun and mpi4py: "
                           "pip install 'chainrule[mpi]'")
    return found


def run_case(case: str, ranks: int, quick: bool) -> dict:
    # Each rank in a session of its own (setsid): Linux's autogroup scheduler shares the
    # CPU between sessions, and one mpirun job is one session, so on a machine busy with
    # other sessions its ranks together would get one program's share.
    command = [mpirun(), "-n", str(ranks), "--oversubscribe", "--bind-to", "none",
               *([SETSID, "-w"] if SETSID else []),
               sys.executable, "-m", "chainrule.bench.distributed", "--worker", case]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **ONE_THREAD, **ROOT_OK})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        said = [line for line in done.stderr.splitlines() if line.strip()
                and not line.startswith("---")]  # (mpirun's own banners)
        errors = [line for line in said if "Error" in line] or said or ["no output"]
        tail = errors[-1].strip()
        return {"case": case, "ranks": ranks, "error": f"mpirun exited {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def run(passes: int = 2, quick: bool = False, progress=None) -> list:
    """The best round of each (case, ranks), in alternating order over `passes` rounds."""
    best = {}
    for number in range(passes):
        for case in CASES:
            for ranks in (RANKS if number % 2 == 0 else RANKS[::-1]):
                if progress:
                    progress(f"distributed {case}, {ranks} rank(s), pass {number + 1}")
                row = run_case(case, ranks, quick)
                kept = best.get((case, ranks))
                if kept is None or "error" in kept or (
                        "error" not in row and row["samples_per_s"] > kept["samples_per_s"]):
                    best[(case, ranks)] = row
    return [best[(case, ranks)] for case in CASES for ranks in RANKS]


def report(rows: list) -> str:
    lines = ["Distributed (data-parallel over MPI, one thread per rank, the global batch split "
             "across the ranks; best of alternating passes). compute: a step on one rank's "
             "share without averaging; allreduce alone: the gradients' size, nothing else; "
             "model: the samples/s that compute + allreduce alone predict.", "",
             "| workload | ranks | samples/s | speed-up | efficiency | step ms | compute ms "
             "| allreduce ms | allreduce alone ms | MB/step | model samples/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    single = {r["case"]: r for r in rows if r["ranks"] == 1 and "error" not in r}
    verdicts = []
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['case']} | {row['ranks']} | {row['error']} |" + " |" * 8)
            continue
        base = single.get(row["case"])
        speedup = row["samples_per_s"] / base["samples_per_s"] if base else float("nan")
        lines.append(f"| {row['case']} | {row['ranks']} | {row['samples_per_s']:,.0f} | "
                     f"{speedup:.2f}× | {speedup / row['ranks']:.0%} | {row['step_ms']:.2f} | "
                     f"{row['compute_ms']:.2f} | {row['allreduce_ms']:.2f} | "
                     f"{row['allreduce_alone_ms']:.2f} | {row['mb_per_step']:.2f} | "
                     f"{row['model_samples_per_s']:,.0f} |")
        if (row["case"], row["ranks"]) == TARGET[:2]:
            met = "met" if speedup >= TARGET[2] else "not met"
            verdicts.append(f"Target: {TARGET[0]} on {TARGET[1]} ranks ≥ {TARGET[2]}× one rank: "
                            f"{speedup:.2f}× ({met}).")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "\n".join(lines + [""] + verdicts + [
        f"Load average (1 min) after the runs: {load:.1f} on {os.cpu_count()} CPUs "
        "(other work on the machine slows the ranks' steps unevenly, and every step waits "
        "for the slowest rank)."])


def main(argv=None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m chainrule.bench.distributed",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="a few steps: checks it runs")
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.quick)
        return 0
    rows = run(args.passes, args.quick,
               progress=lambda text: print(f"  … {text}", file=sys.stderr, flush=True))
    print(report(rows))
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

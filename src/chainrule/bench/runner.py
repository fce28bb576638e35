"""Run the workloads, one worker process per (framework, workload), and print one table.

Each worker times one workload for one framework (`python -m chainrule.bench.worker`), so a
framework's imports, thread pools and memory never touch another's, and the peak resident
memory of the process is that workload's alone. With several passes the frameworks take
turns in alternating order, so a machine that slows down mid-run slows all of them alike;
the table shows the median and the range over every repeat of every pass.
"""
from __future__ import annotations

import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from . import FRAMEWORKS, THREADS, WORKLOADS, workload_module
from .common import higher_is_better

WORKER_TIMEOUT_S = 900
QUICK_PARALLEL = 3  # --quick: workers run this many at a time
SHORT = {"chainrule": "cr", "torch": "PT", "numpy": "NP", "sklearn": "sk"}


def parse_workloads(text: str | None) -> list[str]:
    if not text:
        return list(WORKLOADS)
    chosen = []
    for item in text.split(","):
        key = item.strip().upper()
        if not key:
            continue
        if key not in WORKLOADS:
            raise ValueError(f"bench: unknown workload {item.strip()!r}; known: "
                             f"{', '.join(WORKLOADS)}")
        if key not in chosen:
            chosen.append(key)
    if "W2" in chosen and "W0" not in chosen:  # W2 is reported as a share of W0
        chosen.insert(0, "W0")
    return sorted(chosen, key=list(WORKLOADS).index)


def parse_frameworks(text: str | None) -> list[str]:
    if not text:
        return list(FRAMEWORKS)
    names = {"pytorch": "torch", "scikit-learn": "sklearn", "cr": "chainrule"}
    chosen = []
    for item in text.split(","):
        key = names.get(item.strip().lower(), item.strip().lower())
        if key not in FRAMEWORKS:
            raise ValueError(f"bench: unknown framework {item.strip()!r}; known: "
                             f"{', '.join(FRAMEWORKS)}")
        chosen.append(key)
    return [f for f in FRAMEWORKS if f in chosen]


def available(framework: str) -> bool:
    module = {"torch": "torch", "sklearn": "sklearn"}.get(framework)
    return module is None or importlib.util.find_spec(module) is not None


def _worker_env() -> dict:
    """The environment as it is (OPENBLAS_* untouched), with this chainrule importable."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def run_worker(framework: str, workload: str, repeats=None, quick=False,
               device: str = "cpu") -> dict:
    command = [sys.executable, "-m", "chainrule.bench.worker", "--framework", framework,
               "--workload", workload, "--device", device]
    if repeats:
        command += ["--repeats", str(repeats)]
    if quick:
        command.append("--quick")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=_worker_env(),
                              timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {WORKER_TIMEOUT_S} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"worker exited {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def run(workloads=None, frameworks=None, repeats=None, passes=None, quick=False,
        progress=None) -> dict:
    """Run the benchmark; the raw numbers and the summaries the table is made of."""
    workloads = parse_workloads(workloads) if not isinstance(workloads, list) else workloads
    frameworks = parse_frameworks(frameworks) if not isinstance(frameworks, list) else frameworks
    passes = passes or (1 if quick else 2)
    notes = []
    missing = [f for f in frameworks if not available(f)]
    for name in missing:
        notes.append(f"{FRAMEWORKS[name]} is not installed: its column is empty "
                     f"(pip install 'chainrule[bench]')")
    frameworks = [f for f in frameworks if f not in missing]
    modules = {w: workload_module(w) for w in workloads}
    meta = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "load_average_start": _load(),
        "threads_asked": THREADS,
        "passes": passes, "repeats": repeats, "quick": quick,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                 "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    }
    say = progress or (lambda text: None)
    jobs = []
    for number in range(passes):
        for workload in workloads:
            order = [f for f in frameworks if f in modules[workload].FRAMEWORKS]
            if number % 2:
                order.reverse()
            jobs += [(number, workload, framework) for framework in order]

    def job(item):
        number, workload, framework = item
        say(f"{workload} {framework} (pass {number + 1}/{passes})")
        report = run_worker(framework, workload, repeats, quick)
        report.update(framework=framework, workload=workload, passno=number)
        return report
    if quick:  # the figures mean little anyway: workers side by side, to be done sooner
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(QUICK_PARALLEL) as pool:
            reports = list(pool.map(job, jobs))
    else:  # one at a time, so that no worker slows another
        reports = [job(item) for item in jobs]
    meta["load_average_end"] = _load()
    meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    summary = summarise(workloads, frameworks, modules, reports, notes)
    return {"meta": meta, "reports": reports, "notes": notes, **summary}


def _load():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def summarise(workloads, frameworks, modules, reports, notes) -> dict:
    """Per table row and framework: min / median / max over all repeats of all passes; per
    workload and framework: the worker's peak memory above its peak after the imports."""
    cells: dict = {}   # (workload, label) -> framework -> summary
    memory: dict = {}  # workload -> framework -> bytes
    for report in reports:
        w, f = report["workload"], report["framework"]
        if "error" in report:
            cells.setdefault((w, "*"), {})[f] = {"error": report["error"]}
            notes.append(f"{w} {FRAMEWORKS[f]}: {report['error']}")
            continue
        extra = max(0, report["peak_rss_bytes"] - report["baseline_rss_bytes"])
        memory.setdefault(w, {})[f] = max(extra, memory.get(w, {}).get(f, 0))
        for row in report["rows"]:
            if row.get("error", "").startswith("ValueError: " + w + ": no step"):
                continue  # a row this framework has no step for: its cell stays empty
            cell = cells.setdefault((w, row["label"]), {}).setdefault(
                f, {"values": [], "accuracy": []})
            if "error" in row:
                cell["error"] = row["error"]
                notes.append(f"{w} {row['label']} {FRAMEWORKS[f]}: {row['error']}")
                continue
            cell["values"] += row["values"]
            if "accuracy" in row:
                cell["accuracy"].append(row["accuracy"])
    rows = []
    w0 = {}
    for workload in workloads:
        mod = modules[workload]
        for index, (label, size) in enumerate(mod.VARIANTS):
            crashed = cells.get((workload, "*"), {})
            results = {}
            for f in frameworks:
                if f not in mod.FRAMEWORKS:
                    continue
                cell = cells.get((workload, label), {}).get(f) or crashed.get(f)
                if not cell:
                    continue
                if cell.get("error") and not cell.get("values"):
                    results[f] = {"error": cell["error"]}
                    continue
                values = cell["values"]
                results[f] = {"min": min(values), "median": statistics.median(values),
                              "max": max(values), "n": len(values)}
                if cell["accuracy"]:
                    results[f]["accuracy"] = statistics.median(cell["accuracy"])
            row = {"workload": workload, "label": label, "name": f"{workload} {label}".strip(),
                   "unit": mod.UNIT, "higher_is_better": higher_is_better(mod.UNIT),
                   "results": results, "size": size}
            row["speed_vs"] = {f: _speed_ratio(row, results.get("chainrule"), results.get(f))
                               for f in ("torch", "numpy", "sklearn")}
            row["best_speed_vs"] = {
                f: _speed_ratio(row, results.get("chainrule"), results.get(f), best=True)
                for f in ("torch", "numpy", "sklearn")}
            if workload == "W0":
                w0 = {f: r["median"] for f, r in results.items() if "median" in r}
            if hasattr(mod, "FLOPS"):
                row["gflops"] = {}
                for f, r in results.items():
                    if "median" not in r:
                        continue
                    gflops = r["median"] * mod.FLOPS(**size) / 1e9
                    row["gflops"][f] = {"gflops": gflops,
                                        "share_of_w0": gflops / w0[f] if w0.get(f) else None}
            row["target"], row["met"] = _target(mod, label, row)
            if index == 0:
                row["peak_bytes"] = memory.get(workload, {})
            rows.append(row)
    return {"rows": rows}


def _speed_ratio(row, ours, theirs, best=False):
    """chainrule's speed over the peer's (> 1: chainrule is faster), from the medians, or
    with best=True from each one's fastest repeat (the least disturbed by other load)."""
    if not ours or not theirs or "median" not in ours or "median" not in theirs:
        return None
    if row["higher_is_better"]:
        key = "max" if best else "median"
        return ours[key] / theirs[key]
    key = "min" if best else "median"
    return theirs[key] / ours[key]


def _target(mod, label, row):
    target = getattr(mod, "TARGET", None)
    if isinstance(target, dict):
        target = target.get(label)
    if target is None:
        return None, None
    if callable(target):
        return target(row["results"])
    ratio = row["speed_vs"]["torch"]
    return f"≥ {target:.1f}× PyTorch", (None if ratio is None else ratio >= target)


# --- the table ---------------------------------------------------------------------------

def _number(x: float) -> str:
    if x is None:
        return "–"
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e4:
        return f"{x / 1e3:.3g}k"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if a >= 0.1 else f"{x:.3g}"


def _cell(result) -> str:
    if not result:
        return "–"
    if "error" in result:
        return "error"
    text = f"{_number(result['median'])} ({_number(result['min'])}–{_number(result['max'])})"
    if "accuracy" in result:
        text += f" acc {result['accuracy']:.1%}"
    return text


def _ratio(x) -> str:
    return "–" if x is None else f"{x:.2f}×"


def _ratios(row, peer) -> str:
    median, best = row["speed_vs"][peer], row["best_speed_vs"][peer]
    return _ratio(median) if median is None else f"{_ratio(median)} (best {_ratio(best)})"


def table(data: dict) -> str:
    """The Markdown table (with a line of legend under it)."""
    heads = ["workload", "figure"] + [FRAMEWORKS[f] for f in FRAMEWORKS] + [
        "speed ÷PyTorch", "speed ÷NumPy", "cr GFLOP/s (% W0)", "peak MiB cr/PT/NP/sk",
        "target", "met"]
    lines = []
    for row in data["rows"]:
        results = row["results"]
        better = "higher" if row["higher_is_better"] else "lower"
        gflops = "–"
        if row["workload"] == "W0" and "median" in results.get("chainrule", {}):
            gflops = f"{_number(results['chainrule']['median'])} (100%)"
        elif row.get("gflops", {}).get("chainrule"):
            g = row["gflops"]["chainrule"]
            share = f"{g['share_of_w0']:.0%}" if g["share_of_w0"] else "no W0"
            gflops = f"{_number(g['gflops'])} ({share})"
        peak = "" if "peak_bytes" not in row else "/".join(
            (f"{row['peak_bytes'][f] / 2**20:.0f}" if f in row["peak_bytes"] else "–")
            for f in FRAMEWORKS)
        met = {True: "✓", False: "✗", None: "?"}[row["met"]] if row["target"] else ""
        lines.append([row["name"], f"{row['unit']} ({better} better)"]
                     + [_cell(results.get(f)) for f in FRAMEWORKS]
                     + [_ratios(row, "torch"), _ratios(row, "numpy"),
                        gflops, peak, row["target"] or "–", met])
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
              for i, h in enumerate(heads)]

    def fmt(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    out = [fmt(heads), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [fmt(line) for line in lines]
    return "\n".join(out)


def _busy(meta) -> str | None:
    """A warning when other work kept the CPUs busy (a load average above the CPU count,
    this run's own worker included)."""
    loads = [x[0] for x in (meta.get("load_average_start"), meta.get("load_average_end")) if x]
    cpus = os.cpu_count() or 1
    if not loads or max(loads) <= cpus:
        return None
    return (f"WARNING: the machine was busy (load average up to {max(loads):.1f} on {cpus} "
            f"CPUs): every figure is disturbed, and PyTorch's {THREADS} OpenMP threads, which "
            f"meet at a barrier in every op, suffer most; rerun on a quiet machine")


def report(data: dict) -> str:
    meta = data["meta"]
    threads = {}
    for worker in data["reports"]:
        threads.update(worker.get("threads", {}))
    env = ", ".join(f"{k}={'unset' if v is None else v}" for k, v in meta["env"].items())
    passes = meta["passes"]
    head = (f"chainrule bench — {meta['started']}, {meta['machine']}; load average "
            f"{meta['load_average_start']} → {meta['load_average_end']}\n"
            f"threads: {', '.join(f'{k} {v}' for k, v in threads.items()) or 'unknown'}; "
            f"{env}")
    busy = _busy(meta)
    if busy:
        head += "\n" + busy
    if meta["quick"]:
        head += ("\n--quick: tiny repeats, workers side by side: tests the command, the figures "
                 "mean little")
    legend = [
        "cells: median (min–max) over every timed repeat of " +
        (f"{passes} passes" if passes > 1 else "1 pass") +
        " (frameworks alternate order between passes); each framework in its own process.",
        "speed ÷PyTorch, ÷NumPy: chainrule's speed over the peer's from the medians, and in "
        "brackets from each one's fastest repeat (for µs/op and s: the peer's time over "
        "chainrule's); > 1× means chainrule is faster; targets are judged on the medians.",
        "cr GFLOP/s: matrix-product FLOPs per second of chainrule (W0: its 2048² matmul); "
        "peak MiB: the worker's ru_maxrss above its own after the imports.",
        "Shared machines are noisy: compare ratios within one run, not absolute figures "
        "across runs.",
    ]
    notes = [f"note: {n}" for n in dict.fromkeys(data["notes"])]
    return "\n".join([head, "", table(data), ""] + legend + notes)


def main(workloads=None, frameworks=None, repeats=None, passes=None, quick=False,
         json_path=None, quiet=False, out=None, distributed=False) -> int:
    out = out or sys.stdout

    def progress(text):
        if not quiet:
            print(f"  … {text}", file=sys.stderr, flush=True)
    data = run(workloads, frameworks, repeats, passes, quick, progress)
    print(report(data), file=out)
    if distributed:  # the data-parallel table: bench/distributed.py
        from . import distributed as data_parallel
        data["distributed"] = data_parallel.run(passes or (1 if quick else 2), quick, progress)
        print("\n" + data_parallel.report(data["distributed"]), file=out)
        data["reports"] += [r for r in data["distributed"] if "error" in r]
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, default=str)
    crashed = [r for r in data["reports"] if "error" in r]
    return 1 if crashed else 0

"""`chainrule bench`: the workloads of docs/benchmarks.md against PyTorch, scikit-learn, NumPy."""
from __future__ import annotations

from . import WORKLOADS


def add_parser(commands) -> None:
    bench = commands.add_parser(
        "bench", help="time the benchmark workloads against PyTorch, sklearn and NumPy",
        description="Run the workloads W0–W6 (docs/benchmarks.md) for chainrule, PyTorch eager "
                    "CPU (2 threads), scikit-learn's MLPClassifier where it fits, and the "
                    "same math by hand in NumPy, each in its own process, and print one "
                    "table of figures and speed ratios measured in this run.")
    bench.add_argument("--workloads", help=f"comma-separated, from {','.join(WORKLOADS)} "
                       "(default: all; W2 brings W0 along)")
    bench.add_argument("--frameworks", help="comma-separated, from chainrule,torch,numpy,"
                       "sklearn (default: all that are installed)")
    bench.add_argument("--repeats", type=int, help="timed repeats per workload (default: "
                       "each workload's own)")
    bench.add_argument("--passes", type=int, help="rounds over the frameworks, in "
                       "alternating order (default 2; 1 with --quick)")
    bench.add_argument("--quick", action="store_true", help="tiny repeats and sizes: checks "
                       "that the command works, the figures mean little")
    bench.add_argument("--distributed", action="store_true", help="also time data-parallel "
                       "training over MPI: W2 and W3 on 1 and 2 ranks, one thread each (needs "
                       "chainrule[mpi]; a run of all workloads includes it when MPI is installed)")
    bench.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                       help="cuda: W2 (batch 128, 1024, 8192) and W3 (batch 64, 512) on the "
                       "GPU, chainrule on CuPy against PyTorch CUDA eager in the same run "
                       "(needs chainrule[gpu], a GPU and a CUDA build of PyTorch)")
    bench.add_argument("--json", dest="json_path", help="also write the raw numbers here")
    bench.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    bench.set_defaults(func=_run)


def _run(args) -> int:
    from .runner import main
    if args.repeats is not None and args.repeats < 1:
        raise ValueError("bench: --repeats must be at least 1")
    if args.passes is not None and args.passes < 1:
        raise ValueError("bench: --passes must be at least 1")
    if args.device == "cuda":
        from . import cuda
        return cuda.main(args.passes, args.repeats, args.json_path, args.quiet)
    import importlib.util
    distributed = args.distributed or (not args.workloads
                                       and importlib.util.find_spec("mpi4py") is not None)
    return main(args.workloads, args.frameworks, args.repeats, args.passes, args.quick,
                args.json_path, args.quiet, distributed=distributed)

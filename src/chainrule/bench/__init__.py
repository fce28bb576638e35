"""`chainrule bench`: the workloads of docs/benchmarks.md, timed against PyTorch eager CPU,
scikit-learn's MLPClassifier and the same math written by hand in NumPy.

Each workload is a module here (``w0_matmul`` … ``w6_lstm``) that says what it measures
and builds one training step per framework; ``worker`` times one workload for one framework
in a process of its own and prints JSON; ``runner`` starts the workers and prints the table;
``cli`` hooks ``chainrule bench`` into the command line.
"""
from __future__ import annotations

# workload id -> module in this package
WORKLOADS = {
    "W0": "w0_matmul",
    "W1": "w1_ops",
    "W2": "w2_mlp",
    "W3": "w3_cnn",
    "W4": "w4_embedding",
    "W5": "w5_digits",
    "W6": "w6_lstm",
}

# framework -> column heading, in the table's order
FRAMEWORKS = {
    "chainrule": "chainrule",
    "torch": "PyTorch",
    "numpy": "NumPy",
    "sklearn": "sklearn",
}

THREADS = 2  # for every framework (docs/benchmarks.md)


def workload_module(workload: str):
    """The module of a workload id such as "W2"."""
    import importlib
    key = workload.upper()
    if key not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; known: {', '.join(WORKLOADS)}")
    return importlib.import_module(f"chainrule.bench.{WORKLOADS[key]}")

"""The benchmark from a checkout: `python bench/run.py [--workloads W1,W2] [--quick] …` is
`chainrule bench …` (the workloads live in src/chainrule/bench/; see BENCHMARKS.md)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from chainrule.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

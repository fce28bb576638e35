"""The distributed row of `chainrule bench` (a few steps: the figures mean nothing here)."""
from __future__ import annotations

from chainrule.bench import distributed

from .mpi import MPIRUN  # noqa: F401  (skips this module where MPI is not installed)


def test_two_ranks_report_throughput_the_model_and_allreduce_time():
    row = distributed.run_case("W3 b64", 2, quick=True)
    assert "error" not in row, row
    assert row["ranks"] == 2 and row["samples_per_s"] > 0 and row["model_samples_per_s"] > 0
    assert row["allreduce_ms"] > 0 and row["allreduce_alone_ms"] > 0 and row["compute_ms"] > 0
    assert 0.069 < row["mb_per_step"] < 0.071  # 18,378 float32 weights


def test_table_states_speedup_efficiency_the_model_and_the_target():
    rows = [{"case": "W2 b1024", "ranks": 1, "samples_per_s": 1000.0, "step_ms": 1024.0,
             "compute_ms": 1024.0, "allreduce_ms": 0.0, "allreduce_alone_ms": 0.0,
             "mb_per_step": 0.0, "model_samples_per_s": 1000.0},
            {"case": "W2 b1024", "ranks": 2, "samples_per_s": 1700.0, "step_ms": 602.4,
             "compute_ms": 512.0, "allreduce_ms": 3.0, "allreduce_alone_ms": 2.0,
             "mb_per_step": 2.04, "model_samples_per_s": 1992.2},
            {"case": "W3 b64", "ranks": 2, "error": "mpirun exited 1: boom"}]
    text = distributed.report(rows)
    assert ("| W2 b1024 | 2 | 1,700 | 1.70× | 85% | 602.40 | 512.00 | 3.00 | 2.00 | 2.04 | "
            "1,992 |") in text
    assert "Target: W2 b1024 on 2 ranks ≥ 1.6× one rank: 1.70× (met)." in text
    assert "| W3 b64 | 2 | mpirun exited 1: boom |" in text

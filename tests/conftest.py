"""Shared by every test: the `device` fixture (tests/devices.py) and one summary line
saying whether the cuda half ran."""
from __future__ import annotations

import pytest
from devices import CUDA_MISSING, DEVICES


@pytest.fixture(params=DEVICES)
def device(request):
    """"cpu", then "cuda" (skipped without CuPy and a GPU)."""
    return request.param


def pytest_terminal_summary(terminalreporter):
    halves = [r for r in terminalreporter.stats.get("skipped", ())
              if "[cuda" in r.nodeid or "-cuda" in r.nodeid]
    if CUDA_MISSING and halves:
        terminalreporter.write_line(f"{len(halves)} tests skipped: {CUDA_MISSING}")

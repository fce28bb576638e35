"""The profiler (`torch.autograd.profiler.profile`, `torch.profiler.profile`): how long each
op takes, from an op hook that times every op applied while it is on, and from the
`record_function` blocks a program labels.

    with cr.profiler.profile() as prof:
        with cr.profiler.record_function("model"):
            model(x)
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))

Each op is one row, named as PyTorch names its kernels (`aten::mul`); the columns are
PyTorch's: self time (the time not spent in rows nested inside), total time, the average
and the number of calls. Only forward ops are timed (a backward pass shows as the time of
the ops it applies), and only on the CPU's clock: chainrule has no CUDA events.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import time

from ..autograd.hooks import OpHook, register_op_hook


class ProfilerActivity(enum.Enum):
    CPU = "CPU"
    CUDA = "CUDA"
    XPU = "XPU"
    MTIA = "MTIA"


@dataclasses.dataclass
class FunctionEventAvg:
    """One row of `key_averages()`: the calls of one op or labelled block, times in µs."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / max(self.count, 1)


class EventList(list):
    """The rows of `key_averages()`, printed by `table()` as PyTorch prints them."""

    def table(self, sort_by=None, row_limit: int = 100, header=None,
              top_level_events_only: bool = False, max_name_column_width: int = 55,
              **ignored) -> str:
        rows = sorted(self, key=lambda row: getattr(row, sort_by), reverse=True) \
            if sort_by else list(self)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        self_total = sum(row.self_cpu_time_total for row in self) or 1.0
        names = [row.key[:max_name_column_width] for row in rows]
        width = max(len(name) for name in names + ["Name"]) + 4  # PyTorch's margin
        columns = ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                   "# of Calls")
        rule = "  ".join(["-" * width] + ["-" * 12] * len(columns)) + "  "
        lines = ([header] if header else []) + [
            rule, "  ".join(["Name".rjust(width)] + [c.rjust(12) for c in columns]) + "  ",
            rule]
        for name, row in zip(names, rows):
            cells = (f"{100 * row.self_cpu_time_total / self_total:.2f}%",
                     _time(row.self_cpu_time_total),
                     f"{100 * row.cpu_time_total / self_total:.2f}%",
                     _time(row.cpu_time_total), _time(row.cpu_time), str(row.count))
            lines.append("  ".join([name.rjust(width)] + [c.rjust(12) for c in cells]) + "  ")
        lines += [rule, f"Self CPU time total: {_time(self_total)}", ""]
        return "\n".join(lines)

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for row in self:
            total.count += row.count
            total.cpu_time_total += row.cpu_time_total
            total.self_cpu_time_total += row.self_cpu_time_total
        return total


def _time(microseconds: float) -> str:
    """PyTorch's time format: 1.540us, 2.971ms, 1.203s."""
    if microseconds >= 1e6:
        return f"{microseconds / 1e6:.3f}s"
    if microseconds >= 1e3:
        return f"{microseconds / 1e3:.3f}ms"
    return f"{microseconds:.3f}us"


_running: list = []  # the profilers inside their `with`, innermost last


class _Timing(OpHook):
    """Times every op applied while its profiler runs; blocks nest as a stack of open
    spans, each learning how much of its time went to the spans inside it."""

    def __init__(self):
        self.rows: dict[str, FunctionEventAvg] = {}
        self.open: list[list] = []  # [name, start, time spent in nested spans]

    def begin(self, name: str) -> None:
        self.open.append([name, time.perf_counter(), 0.0])

    def end(self) -> None:
        name, start, nested = self.open.pop()
        spent = (time.perf_counter() - start) * 1e6
        row = self.rows.setdefault(name, FunctionEventAvg(name))
        row.count += 1
        row.cpu_time_total += spent
        row.self_cpu_time_total += spent - nested
        if self.open:
            self.open[-1][2] += spent

    def before_forward(self, node, inputs, params) -> None:
        self.begin(f"aten::{type(node).__name__.lower()}")

    def after_forward(self, node, inputs, output) -> None:
        self.end()


class profile:  # noqa: N801 - PyTorch's name
    """A `with` block whose ops are timed; `key_averages().table()` reports them. Takes
    the arguments of both PyTorch profilers; those about CUDA, shapes, memory, stacks and
    FLOPs change nothing here."""

    def __init__(self, activities=None, *, enabled: bool = True, schedule=None,
                 on_trace_ready=None, **ignored):
        self.enabled = enabled
        self.on_trace_ready = on_trace_ready
        self._timing = _Timing()
        self._handle = None

    def __enter__(self) -> profile:
        if self.enabled:
            self._handle = register_op_hook(self._timing)
            _running.append(self)
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            _running.remove(self)
            self._handle = None
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)

    start = __enter__

    def stop(self) -> None:
        self.__exit__(None, None, None)

    def step(self) -> None:
        """The end of one training step (PyTorch's schedules count them; nothing here)."""

    def key_averages(self, group_by_input_shape: bool = False, **ignored) -> EventList:
        return EventList(self._timing.rows.values())

    def events(self) -> EventList:
        return self.key_averages()

    @property
    def self_cpu_time_total(self) -> float:
        return sum(row.self_cpu_time_total for row in self._timing.rows.values())

    def export_chrome_trace(self, path) -> None:
        """A Chrome trace of the rows (one complete event each, at their total time)."""
        import json
        events, clock = [], 0.0
        for row in self._timing.rows.values():
            events.append({"name": row.key, "ph": "X", "ts": clock, "dur": row.cpu_time_total,
                           "pid": 0, "tid": 0, "args": {"calls": row.count}})
            clock += row.cpu_time_total
        with open(path, "w") as file:
            json.dump({"traceEvents": events}, file)


class record_function:  # noqa: N801 - PyTorch's name
    """Labels a block (or, as a decorator, a function): it becomes a row of the running
    profilers, its self time excluding the ops inside it."""

    def __init__(self, name: str, args=None):
        self.name = name

    def __enter__(self) -> record_function:
        for running in _running:
            running._timing.begin(self.name)
        return self

    def __exit__(self, *exc) -> None:
        for running in _running:
            running._timing.end()

    def __call__(self, function):
        @functools.wraps(function)
        def labelled(*args, **kwargs):
            with record_function(self.name):
                return function(*args, **kwargs)
        return labelled


def schedule(*, wait: int = 0, warmup: int = 0, active: int = 1, repeat: int = 0,
             skip_first: int = 0, **ignored):
    """PyTorch's step schedule, accepted (every step is recorded here)."""
    return lambda step: True


def tensorboard_trace_handler(dir_name: str, worker_name=None, use_gzip: bool = False):
    """Writes each finished profile as a Chrome trace in `dir_name`."""
    import os

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"chainrule_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(dir_name, f"{name}.{time.time_ns()}.pt.trace.json"))
    return handler

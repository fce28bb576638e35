"""`torch.profiler`: the profiler of chainrule/diagnostics/profiler.py at PyTorch's path
(`torch.autograd.profiler` is the same module)."""
from .diagnostics.profiler import (  # noqa: F401
    EventList,
    FunctionEventAvg,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)

"""Making learning visible: chain-rule traces, graph drawings, the slope picture, reports,
the instruments read during training and the doctor that turns them into findings.

Everything here reads the graph the engine walks and the history the trainer records;
it never changes either.
"""
from . import doctor, instruments  # noqa: F401  (why it doesn't learn: readings, findings)
from .descent import draw_descent  # noqa: F401  (the slope picture)
from .graph import draw, render, watch  # noqa: F401  (graph drawings)
from .lr_finder import LRRangeResult, lr_range_test  # noqa: F401  (learning-rate range test)
from .report import ReportRecorder, write_report  # noqa: F401  (the HTML training report)
from .trace import trace  # noqa: F401

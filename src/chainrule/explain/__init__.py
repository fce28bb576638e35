"""Making learning visible: chain-rule traces, graph drawings, the slope picture, reports.

Everything here reads the graph the engine walks and the history the trainer records;
it never changes either.
"""

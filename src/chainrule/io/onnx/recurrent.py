"""RNN, LSTM and GRU as ONNX's RNN/LSTM/GRU operators, one node per layer.

ONNX stacks the gates in another order than PyTorch (whose order chainrule keeps):
LSTM: PyTorch i, f, g, o -> ONNX i, o, f, c;  GRU: PyTorch r, z, n -> ONNX z, r, h (with
linear_before_reset=1, which is PyTorch's GRU). Each layer reads (seq, batch, input); its
output Y (seq, directions, batch, hidden) becomes (seq, batch, directions·hidden) for the
next layer. A given initial state (h0, and c0 for the LSTM: (layers·directions, batch,
hidden)) is sliced into each layer's rows.
"""
from __future__ import annotations

import numpy

from .errors import ExportError

GATE_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN_TANH": [0], "RNN_RELU": [0]}
OPERATOR = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def recurrent(graph, module, args, kwargs, out):
    x = args[0]
    state = args[1] if len(args) > 1 else kwargs.get("hx")
    if x.ndim != 3:
        raise ExportError(f"onnx export: {type(module).__name__} on an unbatched (2-D) "
                          "input has no ONNX mapping here (add a batch axis)")
    mode, hidden = module.mode, module.hidden_size
    directions = 2 if module.bidirectional else 1
    sequence = graph.name(x)
    if module.batch_first:                       # (N, L, I) -> (L, N, I)
        sequence = graph.node("Transpose", [sequence], perm=[1, 0, 2])
    last_h, last_c = [], []
    for layer in range(module.num_layers):
        w, r, b = _weights(module, layer, directions)
        attributes = {"hidden_size": hidden,
                      "direction": "bidirectional" if directions == 2 else "forward"}
        if mode == "GRU":
            attributes["linear_before_reset"] = 1
        if mode.startswith("RNN"):
            attributes["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * directions
        count = 3 if mode == "LSTM" else 2
        names = [sequence, graph.constant(w, f"{mode.lower()}_W_l{layer}"),
                 graph.constant(r, f"{mode.lower()}_R_l{layer}")]
        names.append(graph.constant(b, f"{mode.lower()}_B_l{layer}") if b is not None else "")
        if state is not None:  # sequence_lens (none), then this layer's initial h (and c)
            names += ["", *(_layer_rows(graph, s, layer, directions)
                            for s in (state if mode == "LSTM" else (state,)))]
        results = graph.node(OPERATOR[mode], names, count, **attributes)
        y = graph.node("Transpose", [results[0]], perm=[0, 2, 1, 3])   # (L, N, dirs, H)
        sequence = graph.node("Reshape", [y, graph.ints([0, 0, -1])])  # (L, N, dirs·H)
        last_h.append(results[1])
        if mode == "LSTM":
            last_c.append(results[2])
    output, final = out
    if module.batch_first:
        sequence = graph.node("Transpose", [sequence], perm=[1, 0, 2])
    graph.alias(output, sequence)
    h_n, c_n = (final if mode == "LSTM" else (final, None))
    graph.alias(h_n, _join(graph, last_h))
    if c_n is not None:
        graph.alias(c_n, _join(graph, last_c))


def _layer_rows(graph, state, layer: int, directions: int) -> str:
    """Rows layer·dirs .. (layer+1)·dirs of a (layers·dirs, N, H) state: this layer's."""
    return graph.node("Slice", [graph.name(state), graph.ints([layer * directions], "starts"),
                                graph.ints([(layer + 1) * directions], "ends"),
                                graph.ints([0], "axes")])


def _join(graph, states: list) -> str:
    return states[0] if len(states) == 1 else graph.node("Concat", states, axis=0)


def _weights(module, layer: int, directions: int):
    """ONNX's W (dirs, G·H, in), R (dirs, G·H, H) and B (dirs, 2·G·H) for one layer."""
    order, hidden = GATE_ORDER[module.mode], module.hidden_size

    def gates(array):  # reorder the stacked gate blocks along axis 0
        return numpy.concatenate([array[i * hidden:(i + 1) * hidden] for i in order])

    ws, rs, bs = [], [], []
    for direction in range(directions):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        ws.append(gates(getattr(module, "weight_ih" + suffix).numpy()))
        rs.append(gates(getattr(module, "weight_hh" + suffix).numpy()))
        if module.bias:
            bs.append(numpy.concatenate([gates(getattr(module, "bias_ih" + suffix).numpy()),
                                         gates(getattr(module, "bias_hh" + suffix).numpy())]))
    return numpy.stack(ws), numpy.stack(rs), (numpy.stack(bs) if bs else None)

"""ONNX nodes for whole layers: a layer whose op takes its options or indices as fixed
parameters (a convolution's padding, an embedding's ids) is written from the module's
own attributes and parameters, so the graph computes it for any input.

Each converter takes (graph, module, args, kwargs, out) and binds `out`.
"""
from __future__ import annotations

import numpy

from .errors import ExportError
from .graph import onnx_dtype


def _refuse(module, what: str):
    raise ExportError(f"onnx export: {type(module).__name__} with {what} has no ONNX "
                      "mapping")


def _pair_pads(padding, nd: int) -> list:
    """PyTorch's symmetric padding per axis as ONNX's [begin..., end...]."""
    padding = list(padding) if isinstance(padding, (tuple, list)) else [padding] * nd
    return padding + padding


def _tuple(value, nd: int) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value] * nd


def conv(graph, module, args, kwargs, out):
    nd = len(module.kernel_size)
    if module.padding_mode != "zeros":
        _refuse(module, f"padding_mode={module.padding_mode!r}")
    if module.padding == "same":
        pads = []
        for k, d in zip(module.kernel_size, module.dilation):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        pads = [p[0] for p in pads] + [p[1] for p in pads]
    elif module.padding == "valid":
        pads = [0] * (2 * nd)
    else:
        pads = _pair_pads(module.padding, nd)
    inputs = [graph.name(args[0]), graph.name(module.weight)]
    if module.bias is not None:
        inputs.append(graph.name(module.bias))
    graph.emit(out, "Conv", inputs, kernel_shape=list(module.kernel_size), pads=pads,
               strides=list(module.stride), dilations=list(module.dilation),
               group=module.groups)


def max_pool(graph, module, args, kwargs, out):
    if module.return_indices:
        _refuse(module, "return_indices=True")
    nd = 1 if type(module).__name__.endswith("1d") else 2
    graph.emit(out, "MaxPool", [graph.name(args[0])],
               kernel_shape=_tuple(module.kernel_size, nd), strides=_tuple(module.stride, nd),
               pads=_pair_pads(module.padding, nd), dilations=_tuple(module.dilation, nd),
               ceil_mode=int(module.ceil_mode))


def avg_pool(graph, module, args, kwargs, out):
    if getattr(module, "divisor_override", None):
        _refuse(module, "divisor_override")
    nd = 1 if type(module).__name__.endswith("1d") else 2
    graph.emit(out, "AveragePool", [graph.name(args[0])],
               kernel_shape=_tuple(module.kernel_size, nd), strides=_tuple(module.stride, nd),
               pads=_pair_pads(module.padding, nd), ceil_mode=int(module.ceil_mode),
               count_include_pad=int(module.count_include_pad))


def adaptive_avg_pool(graph, module, args, kwargs, out):
    """Output size 1: GlobalAveragePool. Otherwise, when the input divides evenly, an
    average pool whose window is input/output (fixed by the traced input's size)."""
    x = args[0]
    spatial, wanted = x.shape[2:], out.shape[2:]
    if all(w == 1 for w in wanted):
        graph.emit(out, "GlobalAveragePool", [graph.name(x)])
        return
    if any(s % w for s, w in zip(spatial, wanted)):
        _refuse(module, f"an input of {tuple(spatial)} that output {tuple(wanted)} does not "
                        "divide")
    kernel = [s // w for s, w in zip(spatial, wanted)]
    graph.emit(out, "AveragePool", [graph.name(x)], kernel_shape=kernel, strides=kernel)


def batch_norm(graph, module, args, kwargs, out):
    # y = (x - running mean) / √(running var + eps) · weight + bias  (inference)
    if module.running_mean is None:
        _refuse(module, "track_running_stats=False (it normalises by the batch's own "
                        "statistics)")
    features, dtype = module.num_features, args[0].dtype
    weight = graph.name(module.weight) if module.weight is not None else \
        graph.constant(numpy.ones(features, dtype), "bn_scale")
    bias = graph.name(module.bias) if module.bias is not None else \
        graph.constant(numpy.zeros(features, dtype), "bn_bias")
    graph.emit(out, "BatchNormalization",
               [graph.name(args[0]), weight, bias, graph.name(module.running_mean),
                graph.name(module.running_var)], epsilon=float(module.eps))


def layer_norm(graph, module, args, kwargs, out):
    # y = (x - mean) / √(var + eps) · weight + bias over the last len(normalized_shape) axes
    shape, dtype = tuple(module.normalized_shape), args[0].dtype
    weight = getattr(module, "weight", None)
    bias = getattr(module, "bias", None)
    inputs = [graph.name(args[0]),
              graph.name(weight) if weight is not None
              else graph.constant(numpy.ones(shape, dtype), "ln_scale"),
              graph.name(bias) if bias is not None
              else graph.constant(numpy.zeros(shape, dtype), "ln_bias")]
    graph.emit(out, "LayerNormalization", inputs, axis=-len(shape), epsilon=float(module.eps))


def embedding(graph, module, args, kwargs, out):
    # y[…] = weight[ids[…]]
    if getattr(module, "max_norm", None) is not None:
        _refuse(module, "max_norm")
    ids = graph.node("Cast", [graph.name(args[0])], to=7)  # int64
    graph.emit(out, "Gather", [graph.name(module.weight), ids], axis=0)


def embedding_bag(graph, module, args, kwargs, out):
    """Bags of equal length (N, L): gather the rows, zero the padding ones, then sum,
    mean over the non-padding count (an empty bag gives zeros), or max."""
    ids = args[0]
    offsets = args[1] if len(args) > 1 else kwargs.get("offsets")
    weights = args[2] if len(args) > 2 else kwargs.get("per_sample_weights")
    if ids.ndim != 2 or offsets is not None or weights is not None:
        _refuse(module, "offsets or per_sample_weights (export bags as a 2-D (N, L) input)")
    if module.max_norm is not None:
        _refuse(module, "max_norm")
    dtype = module.weight.dtype
    id_name = graph.node("Cast", [graph.name(ids)], to=7)
    rows = graph.node("Gather", [graph.name(module.weight), id_name], axis=0)  # (N, L, D)
    if module.padding_idx is None:
        kind = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax"}[module.mode]
        graph.bind(out, graph.reduce(kind, rows, [1], False))
        return
    if module.mode == "max":
        _refuse(module, "mode='max' and padding_idx")
    pad = graph.constant(numpy.asarray(module.padding_idx, numpy.int64), "padding_idx")
    keep = graph.node("Cast", [graph.node("Not", [graph.node("Equal", [id_name, pad])])],
                      to=onnx_dtype(dtype))                                       # (N, L)
    kept = graph.node("Mul", [rows, graph.node("Unsqueeze", [keep, graph.ints([2], "axes")])])
    total = graph.reduce("ReduceSum", kept, [1], False)                            # (N, D)
    if module.mode == "sum":
        graph.alias(out, total)
        return
    count = graph.reduce("ReduceSum", keep, [1], True)                             # (N, 1)
    one = graph.constant(numpy.asarray(1, dtype), "one")
    graph.emit(out, "Div", [total, graph.node("Max", [count, one])])


def flatten(graph, module, args, kwargs, out):
    x = args[0]
    start, end = module.start_dim % x.ndim, module.end_dim % x.ndim
    if end == x.ndim - 1 and start <= 1:
        name = graph.node("Flatten", [graph.name(x)], axis=start)
        graph.alias(out, name if start == 1 else graph.node(
            "Reshape", [name, graph.ints([-1])]))
        return
    shape = [0] * start + [-1] + list(x.shape[end + 1:])
    graph.emit(out, "Reshape", [graph.name(x), graph.ints(shape)])

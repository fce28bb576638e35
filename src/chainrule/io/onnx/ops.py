"""ONNX nodes for chainrule's ops, as met in a model's own forward code (`x.relu()`,
`a + b`, `x.transpose(1, 2)`, `torch.cat`, `x.max(dim=1)`). Layers with parameters and
options (Conv, LSTM, attention, ...) are written whole by layers.py instead.

Each converter takes (graph, op, inputs, params, out): the op class, its input tensors,
the keyword parameters it was applied with and the tensor it returned, and adds the nodes
that compute `out` from the inputs' names.
"""
from __future__ import annotations

import numpy

from .errors import ExportError
from .graph import onnx_dtype

SIMPLE = {  # op class name -> ONNX operator of the same meaning, one input
    "Relu": "Relu", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Exp": "Exp", "Log": "Log",
    "Sqrt": "Sqrt", "Abs": "Abs", "Neg": "Neg", "Erf": "Erf", "Clone": "Identity",
}
BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
          "MatMul": "MatMul"}


def convert_op(graph, op: str, inputs, params: dict, out) -> None:
    names = [graph.name(t) for t in inputs]
    if op in SIMPLE:
        graph.emit(out, SIMPLE[op], names)
    elif op in BINARY:
        graph.emit(out, BINARY[op], names)
    elif op in CONVERTERS:
        CONVERTERS[op](graph, names, params, out, inputs)
    else:
        raise ExportError(f"onnx export: op {op} has no ONNX mapping (supported ops: "
                          f"{', '.join(sorted([*SIMPLE, *BINARY, *CONVERTERS]))})")


def _linear(graph, names, params, out, inputs):
    # y = x Wᵀ + b: Gemm for a batch of rows, else MatMul by the transposed weight
    x, weight = names[0], names[1]
    if inputs[0].ndim == 2:
        graph.emit(out, "Gemm", names, transB=1)
        return
    y = graph.node("MatMul", [x, graph.node("Transpose", [weight], perm=[1, 0])])
    if len(names) > 2:
        graph.emit(out, "Add", [y, names[2]])
    else:
        graph.alias(out, y)


def _reshape(graph, names, params, out, inputs):
    """Written so that a dynamic batch (or sequence) axis stays dynamic: inserting or
    removing a 1 is Unsqueeze/Squeeze; otherwise leading axes that keep their size are
    copied from the input (0 in ONNX's shape) and only the rest are fixed numbers."""
    before, after = tuple(inputs[0].shape), tuple(out.shape)
    changed = _one_inserted(before, after)
    if changed is not None:
        graph.emit(out, "Unsqueeze", [names[0], graph.ints([changed], "axes")])
        return
    changed = _one_inserted(after, before)
    if changed is not None:
        graph.emit(out, "Squeeze", [names[0], graph.ints([changed], "axes")])
        return
    kept = 0
    while kept < min(len(before), len(after)) - 1 and before[kept] == after[kept]:
        kept += 1
    shape = [0] * kept + list(after[kept:])
    graph.emit(out, "Reshape", [names[0], graph.ints(shape)])


def _one_inserted(short: tuple, long: tuple):
    """The axis where `long` is `short` with one 1 inserted, or None."""
    if len(long) != len(short) + 1:
        return None
    for axis in range(len(long)):
        if long[axis] == 1 and long[:axis] + long[axis + 1:] == short:
            return axis
    return None


def _index(graph, names, params, out, inputs):
    """x[key] for keys of ints, slices, None and ...: Gather (an int drops its axis),
    Slice, Unsqueeze, one axis after the other. Array and mask keys have no mapping."""
    key = params.get("key", ())
    key = key if isinstance(key, tuple) else (key,)
    if not all(k is None or k is Ellipsis or isinstance(k, (int, slice))
               and not isinstance(k, bool) for k in key):
        raise ExportError("onnx export: op Index with array or mask keys has no ONNX "
                          "mapping (only ints, slices, None and ...)")
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (inputs[0].ndim - consumed) + key[at + 1:]
    name, axis = names[0], 0
    for k in key:
        if k is None:
            name = graph.node("Unsqueeze", [name, graph.ints([axis], "axes")])
            axis += 1
        elif isinstance(k, int):
            index = graph.constant(numpy.asarray(k, numpy.int64), "index")
            name = graph.node("Gather", [name, index], axis=axis)
        else:
            if k != slice(None):
                name = _slice(graph, name, k, axis)
            axis += 1
    graph.emit(out, "Identity", [name])


def _slice(graph, name: str, k: slice, axis: int) -> str:
    # an omitted bound is the end of the axis in the step's direction
    step = 1 if k.step is None else k.step
    last = numpy.iinfo(numpy.int64)
    start = k.start if k.start is not None else (0 if step > 0 else last.max)
    stop = k.stop if k.stop is not None else (last.max if step > 0 else last.min)
    return graph.node("Slice", [name, graph.ints([start], "starts"), graph.ints([stop], "ends"),
                                graph.ints([axis], "axes"), graph.ints([step], "steps")])


def _permute(graph, names, params, out, inputs):
    graph.emit(out, "Transpose", names, perm=list(params["axes"]))


def _cat(graph, names, params, out, inputs):
    graph.emit(out, "Concat", names, axis=params.get("dim", 0) % out.ndim)


def _stack(graph, names, params, out, inputs):
    axis = params.get("dim", 0) % out.ndim
    axes = graph.ints([axis], "axes")
    graph.emit(out, "Concat", [graph.node("Unsqueeze", [n, axes]) for n in names], axis=axis)


def _reduce(kind: str):
    def convert(graph, names, params, out, inputs):
        dim, ndim = params.get("dim"), inputs[0].ndim
        axes = list(range(ndim)) if dim is None else \
            [d % ndim for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        graph.bind(out, graph.reduce(kind, names[0], axes, params.get("keepdim", False)))
    return convert


def _extreme(graph, names, params, out, inputs):
    kind = "ReduceMax" if params.get("largest", True) else "ReduceMin"
    graph.emit(out, kind, [names[0]], keepdims=0)


def _extreme_along(graph, names, params, out, inputs):
    """`x.max(dim)`: the gather at the argmax is the maximum along dim."""
    kind = "ReduceMax" if params.get("largest", True) else "ReduceMin"
    graph.bind(out, graph.reduce(kind, names[0], [params["dim"] % inputs[0].ndim], True))


def _softmax(kind: str):
    def convert(graph, names, params, out, inputs):
        graph.emit(out, kind, names, axis=params.get("dim", -1) % max(inputs[0].ndim, 1))
    return convert


def _leaky_relu(graph, names, params, out, inputs):
    graph.emit(out, "LeakyRelu", names, alpha=float(params.get("negative_slope", 0.01)))


def _gelu(approximate: str):
    def convert(graph, names, params, out, inputs):
        # Gelu is an ONNX operator from opset 20; before that x·½(1 + erf(x/√2))
        if graph.opset >= 20:
            graph.emit(out, "Gelu", names, approximate=approximate)
            return
        if approximate != "none":
            raise ExportError("onnx export: GELU(approximate='tanh') needs opset_version "
                              ">= 20")
        dtype = inputs[0].dtype
        half = graph.constant(numpy.asarray(0.5, dtype), "half")
        scaled = graph.node("Mul", [names[0], graph.constant(
            numpy.asarray(1 / numpy.sqrt(2), dtype), "inv_sqrt2")])
        one = graph.constant(numpy.asarray(1, dtype), "one")
        cdf = graph.node("Mul", [graph.node("Add", [graph.node("Erf", [scaled]), one]), half])
        graph.emit(out, "Mul", [names[0], cdf])
    return convert


def _log_sigmoid(graph, names, params, out, inputs):
    graph.emit(out, "Log", [graph.node("Sigmoid", names)])


def _clamp(graph, names, params, out, inputs):
    dtype = inputs[0].dtype
    bounds = ["" if params.get(k) is None else graph.constant(numpy.asarray(params[k], dtype), k)
              for k in ("lo", "hi")]
    graph.emit(out, "Clip", [names[0], *bounds])


def _cast(graph, names, params, out, inputs):
    graph.emit(out, "Cast", names, to=onnx_dtype(params["dtype"]))


CONVERTERS = {
    "Linear": _linear, "Reshape": _reshape, "Permute": _permute, "Cat": _cat, "Index": _index,
    "Stack": _stack, "Sum": _reduce("ReduceSum"), "Mean": _reduce("ReduceMean"),
    "Extreme": _extreme, "ExtremeAlong": _extreme_along,
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "LeakyRelu": _leaky_relu, "Gelu": _gelu("none"), "GeluTanh": _gelu("tanh"),
    "LogSigmoid": _log_sigmoid, "Clamp": _clamp, "Cast": _cast,
}

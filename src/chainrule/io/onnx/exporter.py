"""`cr.onnx.export(model, args, "model.onnx")`: a chainrule model as an ONNX file.

    cr.onnx.export(model, cr.randn(1, 1, 28, 28), "cnn.onnx", input_names=["image"],
                   output_names=["logits"], dynamic_axes={"image": {0: "batch"},
                                                          "logits": {0: "batch"}})

The model runs once on the example input (in eval mode, without gradients) while a tracer
watches: each known layer (Conv, LSTM, MultiheadAttention, ...) is written whole from its
parameters and options (layers.py, recurrent.py, attention.py), and every op called
outside such layers -- in a model's own forward: `x.relu()`, `a + b`, `x.max(dim=1)` -- is
written by ops.py. An op or layer with no mapping stops the export with an error naming
it. The graph is built with `onnx.helper` and checked with `onnx.checker` before it is
saved; parameters become initializers named by their state-dict keys.

The trace follows this one input, so Python control flow that depends on the numbers is
frozen as it ran; shapes not named in `dynamic_axes` are fixed to the example's.
"""
from __future__ import annotations

import os

import onnx
from onnx import helper

from ... import autograd, nn
from ...autograd.hooks import OpHook
from ...tensor import Tensor
from . import layers
from .attention import multihead_attention
from .errors import ExportError
from .graph import Graph, onnx_dtype
from .ops import convert_op
from .recurrent import recurrent

__all__ = ["export", "ExportError", "DEFAULT_OPSET", "MIN_OPSET"]

DEFAULT_OPSET = 18
MIN_OPSET = 17   # LayerNormalization

LAYERS = [  # (module class, converter); checked in order with isinstance
    (nn.Conv1d, layers.conv), (nn.Conv2d, layers.conv),
    (nn.MaxPool1d, layers.max_pool), (nn.MaxPool2d, layers.max_pool),
    (nn.AvgPool1d, layers.avg_pool), (nn.AvgPool2d, layers.avg_pool),
    (nn.AdaptiveAvgPool2d, layers.adaptive_avg_pool),
    (nn.BatchNorm1d, layers.batch_norm), (nn.BatchNorm2d, layers.batch_norm),
    (nn.LayerNorm, layers.layer_norm),
    (nn.EmbeddingBag, layers.embedding_bag), (nn.Embedding, layers.embedding),
    (nn.Flatten, layers.flatten),
    (nn.RNNBase, recurrent),
    (nn.MultiheadAttention, multihead_attention),
]


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version: int | None = None, verbose: bool = False):
    """Write `model` as ONNX to `f` (a path or a binary file); returns the ModelProto.

    args: the example input, a Tensor or a tuple of Tensors. input_names/output_names:
    the graph's names for them (default input_0..., output_0...). dynamic_axes:
    {name: {axis: "label"}} or {name: [axis, ...]} for axes that vary (the batch).
    opset_version: 17 up to what the installed onnx knows (default 18)."""
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ExportError(f"onnx export: opset_version {opset} is not supported (use "
                          f"{MIN_OPSET} to {newest})")
    inputs = (args,) if isinstance(args, Tensor) else tuple(args)
    if not all(isinstance(t, Tensor) for t in inputs):
        raise ExportError("onnx export: args must be a Tensor or a tuple of Tensors, got "
                          + ", ".join(type(t).__name__ for t in inputs))
    input_names = _names(input_names, len(inputs), "input")
    parameter_names = {id(t): name for name, t in
                       [*model.named_parameters(), *model.named_buffers()]}
    graph = Graph(opset, parameter_names)
    for name in [*input_names, *(output_names or [])]:
        graph.reserve(name)
    for tensor, name in zip(inputs, input_names):
        graph.bind(tensor, name)
    training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with _Tracer(graph, model), autograd.no_grad():
            result = model(*inputs)
    finally:
        for module, mode in training:
            module.training = mode
    outputs = [t for t in _flat(result) if isinstance(t, Tensor)]
    output_names = _names(output_names, len(outputs), "output")
    for tensor, name in zip(outputs, output_names):
        graph.node("Identity", [graph.name(tensor)], [name])
    dynamic = _dynamic(dynamic_axes, [*input_names, *output_names])
    opset_ids = [helper.make_opsetid("", opset)]
    nodes, needed = _needed(graph.nodes, output_names)
    proto = helper.make_model(
        helper.make_graph(
            nodes, type(model).__name__,
            [_value_info(n, t, dynamic) for n, t in zip(input_names, inputs)],
            [_value_info(n, t, dynamic) for n, t in zip(output_names, outputs)],
            [t for name, t in graph.initializers.items() if name in needed]),
        opset_imports=opset_ids, producer_name="chainrule",
        ir_version=helper.find_min_ir_version_for(opset_ids))  # readable by older runtimes
    onnx.checker.check_model(proto, full_check=True)
    if verbose:
        print(helper.printable_graph(proto.graph))
    if isinstance(f, (str, os.PathLike)):
        onnx.save_model(proto, os.fspath(f))
    else:
        f.write(proto.SerializeToString())
    return proto


class _Tracer(OpHook):
    """While active (an op hook plus forward hooks on the converted layers): ops applied
    outside converted layers are written to the graph, and each converted layer is written
    whole after it runs (the ops inside it are not)."""

    def __init__(self, graph: Graph, model):
        self.graph = graph
        self.model = model
        self.depth = 0            # > 0 while inside a converted layer
        self._params: dict = {}   # id(op node) -> its parameters, until it has run
        self._handles: list = []

    def before_forward(self, node, inputs, params) -> None:
        self._params[id(node)] = params

    def after_forward(self, node, inputs, output) -> None:
        params = self._params.pop(id(node), {})
        if self.depth == 0:
            convert_op(self.graph, type(node).__name__, inputs, params, output)

    def __enter__(self):
        super().__enter__()
        for module in self.model.modules():
            convert = next((c for kind, c in LAYERS if isinstance(module, kind)), None)
            if convert is not None:
                self._handles += [module.register_forward_pre_hook(self._enter_layer),
                                  module.register_forward_hook(self._layer_done(convert),
                                                               with_kwargs=True)]
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        return super().__exit__(*exc)

    def _enter_layer(self, module, args) -> None:
        self.depth += 1

    def _layer_done(self, convert):
        def hook(module, args, kwargs, output):
            self.depth -= 1
            if self.depth == 0:
                convert(self.graph, module, args, kwargs, output)
        return hook


def _needed(nodes: list, outputs: list) -> tuple:
    """The nodes the outputs depend on, in order, and every value they read: what the
    trace wrote but the model never used (an LSTM's final state it ignores) is left out."""
    needed, kept = set(outputs), []
    for node in reversed(nodes):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(node.input)
    return kept[::-1], needed


def _names(names, count: int, prefix: str) -> list:
    names = list(names or [])
    if len(names) > count:
        raise ExportError(f"onnx export: {len(names)} {prefix}_names for {count} {prefix}s")
    return names + [f"{prefix}_{i}" for i in range(len(names), count)]


def _flat(result):
    if isinstance(result, (tuple, list)):
        for item in result:
            yield from _flat(item)
    else:
        yield result


def _dynamic(dynamic_axes, known: list) -> dict:
    """{name: {axis: label}} from PyTorch's two spellings."""
    dynamic = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in known:
            raise ExportError(f"onnx export: dynamic_axes names {name!r}, which is not an "
                              f"input or output ({', '.join(known)})")
        dynamic[name] = dict(axes) if isinstance(axes, dict) else \
            {axis: f"{name}_dim{axis}" for axis in axes}
    return dynamic


def _value_info(name: str, tensor: Tensor, dynamic: dict):
    axes = dynamic.get(name, {})
    shape = [axes.get(i, size) for i, size in enumerate(tensor.shape)]
    return helper.make_tensor_value_info(name, onnx_dtype(tensor.dtype), shape)

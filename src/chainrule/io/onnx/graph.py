"""The ONNX graph being written: value names, initializers and nodes.

Every chainrule tensor met while tracing gets a name in the graph: the model's inputs
are graph inputs, its parameters and buffers initializers named by their state-dict keys
("0.weight"), anything else the trace did not produce a constant; each converted op or
layer adds nodes whose outputs are bound to the tensors it returned.
"""
from __future__ import annotations

import warnings

import numpy
import onnx
from onnx import helper, numpy_helper

from ...tensor import Tensor
from .errors import ExportError


class ConstantWarning(UserWarning):
    """A tensor the trace did not make became a constant of the graph."""


class Graph:
    def __init__(self, opset: int, parameter_names: dict):
        self.opset = opset
        self.nodes: list = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.parameter_names = parameter_names   # id(tensor) -> state-dict key
        self._names: dict[int, str] = {}         # id(tensor) -> value name
        self._alive: list = []                   # keeps traced tensors' ids unique
        self._used: set[str] = set()

    # --- names ---------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        name, n = hint, 0
        while name in self._used:
            n += 1
            name = f"{hint}_{n}"
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Keep `name` (a graph input or output) from being given to another value."""
        if name in self._used:
            raise ExportError(f"onnx export: the name {name!r} is given twice")
        self._used.add(name)

    def bind(self, tensor: Tensor, name: str) -> None:
        self._alive.append(tensor)
        self._names[id(tensor)] = name

    def knows(self, tensor: Tensor) -> bool:
        return id(tensor) in self._names

    def name(self, tensor: Tensor) -> str:
        """The value name of `tensor`: traced, a parameter, or else a constant."""
        if id(tensor) not in self._names:
            hint = self.parameter_names.get(id(tensor))
            if hint is None and tensor.numel() > 1:
                warnings.warn(f"onnx export: a tensor of shape {tuple(tensor.shape)} that no "
                              "traced op made enters the graph as a constant (computed "
                              "outside chainrule's ops: a comparison such as ids == 0, "
                              ".numpy(), ...); if it depends on the input, pass it as an "
                              "input instead", ConstantWarning, stacklevel=2)
            self.bind(tensor, self.constant(tensor.numpy(), hint or "const"))
        return self._names[id(tensor)]

    def constant(self, array, hint: str = "const") -> str:
        name = self.fresh(hint)
        self.initializers[name] = numpy_helper.from_array(numpy.array(array, order="C"), name)
        return name

    def ints(self, values, hint: str = "shape") -> str:
        """A constant int64 vector (shapes, axes, pads given as inputs)."""
        return self.constant(numpy.asarray(values, dtype=numpy.int64), hint)

    # --- nodes ---------------------------------------------------------------------------
    def node(self, op_type: str, inputs, outputs=1, hint: str | None = None, **attributes):
        """Add one node; returns its output names (a str when it has one output).
        `outputs` is a count or a list of names; an empty input name means "absent"."""
        if isinstance(outputs, int):
            outputs = [self.fresh(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), list(outputs),
                                           name=self.fresh(f"{op_type}_node"), **attributes))
        return outputs[0] if len(outputs) == 1 else outputs

    def emit(self, tensor: Tensor, op_type: str, inputs, **attributes) -> str:
        """A one-output node whose result is `tensor`."""
        name = self.node(op_type, inputs, **attributes)
        self.bind(tensor, name)
        return name

    def reduce(self, kind: str, x: str, axes, keepdims: bool, outputs=1) -> str:
        """ReduceSum/Mean/Max/Min over `axes`: given as an input from opset 18 on (13 for
        ReduceSum), as an attribute before."""
        axes = [int(a) for a in axes]
        if kind == "ReduceSum" or self.opset >= 18:
            return self.node(kind, [x, self.ints(axes, "axes")], outputs,
                             keepdims=int(keepdims))
        return self.node(kind, [x], outputs, axes=axes, keepdims=int(keepdims))

    def alias(self, tensor: Tensor, name: str) -> None:
        """`tensor` is the value `name` (an op that changed nothing)."""
        self.bind(tensor, name)


def onnx_dtype(dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(numpy.dtype(dtype))

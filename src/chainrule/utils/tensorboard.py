"""`chainrule.utils.tensorboard.SummaryWriter`, at PyTorch's `torch.utils.tensorboard` path.

The event files are written by tensorboardX (`pip install 'chainrule[tensorboard]'`); this
writer is tensorboardX's own, except that a chainrule tensor given to any `add_*` method
(`writer.add_scalar("loss", loss)`, `add_histogram("w", layer.weight)`) is handed over as
the NumPy array it holds, since tensorboardX reads only NumPy arrays and PyTorch tensors.
"""
from __future__ import annotations

import functools

from chainrule.autograd.grad_mode import no_grad
from chainrule.autograd.hooks import OpHook
from chainrule.tensor import Tensor

try:
    import tensorboardX
except ModuleNotFoundError as err:
    raise ModuleNotFoundError(
        "chainrule.utils.tensorboard needs tensorboardX, which writes the event files: "
        "pip install 'chainrule[tensorboard]'", name=err.name) from err

from tensorboardX.proto import event_pb2  # noqa: E402  (after the check that it is there)
from tensorboardX.proto.attr_value_pb2 import AttrValue  # noqa: E402
from tensorboardX.proto.graph_pb2 import GraphDef  # noqa: E402
from tensorboardX.proto.node_def_pb2 import NodeDef  # noqa: E402
from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto  # noqa: E402
from tensorboardX.proto.versions_pb2 import VersionDef  # noqa: E402


def _as_numpy(value):
    """A tensor's array; the values of a dict (add_scalars' {tag: value}) likewise."""
    if isinstance(value, dict):
        return {key: _as_numpy(item) for key, item in value.items()}
    return value.detach().cpu().numpy() if isinstance(value, Tensor) else value


def _tensors_as_numpy(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        return method(*map(_as_numpy, args), **{k: _as_numpy(v) for k, v in kwargs.items()})
    return call


class SummaryWriter(tensorboardX.SummaryWriter):
    """tensorboardX's SummaryWriter, taking chainrule tensors wherever it takes arrays, and
    drawing chainrule models with `add_graph`."""

    def __getattribute__(self, name):
        attribute = super().__getattribute__(name)
        if name.startswith("add_") and name != "add_graph" and callable(attribute):
            return _tensors_as_numpy(attribute)
        return attribute

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The ops of `model(input_to_model)` as a graph for TensorBoard's GRAPHS tab (what
        tensorboardX gets from PyTorch's tracer): a node per op applied, scoped by the module
        it ran in (`Net/Linear[fc1]/aten::linear_4`), linked to what it read (the input,
        the parameters, earlier ops' results)."""
        graph = trace_graph(model, input_to_model)
        if verbose:
            print(graph)
        event = event_pb2.Event(graph_def=graph.SerializeToString())
        self._get_file_writer().add_event(event)


class _GraphRecorder(OpHook):
    """Names each op's result after its node, so that later ops can point at it."""

    def __init__(self, names: dict):
        self.names = names      # id(tensor) -> the node that made it
        self.kept = []          # the tensors named (kept alive: their ids stay theirs)
        self.scope = []         # the modules running, outermost first
        self.nodes = []

    def leave(self, *_) -> None:
        """A forward hook closing the module's scope (returning None: the output stays)."""
        self.scope.pop()

    def after_forward(self, node, inputs, output) -> None:
        op = f"aten::{type(node).__name__.lower()}"
        name = "/".join(self.scope + [f"{op}_{len(self.nodes)}"])
        self.nodes.append(_node(name, op, [self.names[id(t)] for t in inputs
                                           if id(t) in self.names], output.shape))
        self.names[id(output)] = name
        self.kept.append(output)


def _node(name: str, op: str, inputs: list, shape) -> NodeDef:
    dims = [TensorShapeProto.Dim(size=int(n)) for n in shape]
    shapes = AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))
    return NodeDef(name=name, op=op, input=inputs, attr={"_output_shapes": shapes})


def trace_graph(model, inputs) -> GraphDef:
    """The GraphDef of one forward pass of `model` on `inputs` (a tensor or a tuple)."""
    inputs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    top = type(model).__name__
    names = {id(x): f"input/input.{i}" for i, x in enumerate(inputs)}
    names.update({id(p): f"{top}/{name}" for name, p in model.named_parameters()})
    nodes = [_node(name, "IO Node" if name.startswith("input/") else "prim::GetAttr", [],
                   t.shape) for t in list(inputs) + list(model.parameters())
             for name in [names[id(t)]]]
    recorder = _GraphRecorder(names)
    handles = [module.register_forward_pre_hook(_enter(recorder, top, path, module))
               for path, module in model.named_modules()]
    handles += [module.register_forward_hook(recorder.leave) for _, module in model.named_modules()]
    with no_grad(), recorder:
        output = model(*inputs)
    for handle in handles:
        handle.remove()
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    nodes += recorder.nodes + [_node(f"output/output.{i}", "IO Node", [names[id(t)]], t.shape)
                               for i, t in enumerate(outputs) if id(t) in names]
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


def _enter(recorder, top: str, path: str, module):
    """A forward pre-hook opening the module's scope: `Net`, then `Linear[fc1]`."""
    label = top if not path else f"{type(module).__name__}[{path.rsplit('.', 1)[-1]}]"

    def enter(*_) -> None:
        recorder.scope.append(label)
    return enter


__all__ = ["SummaryWriter"]

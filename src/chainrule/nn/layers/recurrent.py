"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's parameters.

A recurrent layer reads a sequence one step at a time, carrying a hidden state h (and, for
the LSTM, a cell state c) from each step to the next; the same weights serve every step.
Parameter names, shapes, gate order (LSTM i, f, g, o; GRU r, z, n) and initialisation
U(-1/√hidden, 1/√hidden) are PyTorch's, so a PyTorch checkpoint loads unchanged.

Each layer and direction runs as one fused graph node (`ops/recurrent.py`), whose backward
is backpropagation through time in closed form; an LSTM with projections (proj_size > 0)
runs step by step from the ops instead.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ... import backend, creation
from ...composites import functions as ops
from ...composites.node_names import named
from ...ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, run_packed

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(batch: int, hidden: int, like: Tensor) -> Tensor:
    return Tensor._wrap(backend.xp(like.array).zeros((batch, hidden), dtype=like.dtype))


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters per layer and direction, the
    loop over layers, initial states, batch_first and unbatched inputs."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             f"probability of an element being zeroed, got {dropout!r}")
        if not isinstance(proj_size, int) or isinstance(proj_size, bool) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, "
                          f"so non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        state_size = proj_size or hidden_size    # h is projected down to proj_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else state_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, state_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(
                        creation.empty(*shape, dtype=dtype, device=device)))
                    names.append(name + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch code that calls it (cuDNN weight packing)."""

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    # --- forward -----------------------------------------------------------------------
    def forward(self, input: Tensor, hx=None):  # noqa: A002 - PyTorch's name
        if isinstance(input, PackedSequence):     # each length group run on its own
            return run_packed(self, input, hx)
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected input of 2 (unbatched) or 3 "
                             f"dimensions, got shape {tuple(input.shape)}")
        x = input
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input.size(-1) must be equal to "
                             f"input_size. Expected {self.input_size}, got {x.shape[-1]}")
        if x.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}: the input sequence is empty "
                             f"(shape {tuple(input.shape)})")
        states = self._initial_states(hx, x, batched)
        output, finals = self._run_layers(x, states)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        finals = tuple(ops.stack(f, 0) for f in finals)
        if not batched:
            finals = tuple(f.squeeze(1) for f in finals)
        return output, (finals if self.mode == "LSTM" else finals[0])

    def _initial_states(self, hx, x, batched):
        """(h0, [c0]) as lists of (B, H) tensors per layer and direction."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        names = ("h0", "c0") if self.mode == "LSTM" else ("h0",)
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        if hx is None:
            return tuple([_zeros(x.shape[1], size, x)] * count for _, size in zip(names, sizes))
        given = hx if self.mode == "LSTM" else (hx,)
        if self.mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h0, c0)")
        states = []
        for name, state, size in zip(names, given, sizes):
            expected = (count, x.shape[1], size)
            if not batched:
                if state.ndim != 2:
                    raise RuntimeError(f"{type(self).__name__}: for unbatched 2-D input, "
                                       f"{name} should also be 2-D but got {state.ndim}-D")
                state = state.unsqueeze(1)
            if tuple(state.shape) != expected:
                raise RuntimeError(f"{type(self).__name__}: expected {name} of size "
                                   f"{expected}, got {tuple(state.shape)}")
            states.append([state[k] for k in range(count)])
        return tuple(states)

    def _run_layers(self, x, states):
        directions = 2 if self.bidirectional else 1
        finals = tuple([] for _ in states)
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, training=True)
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [getattr(self, n) for n in self._all_weights[k]]
                seq, last = self._run_one(x, [s[k] for s in states], weights, direction == 1)
                outputs.append(seq)
                for store, value in zip(finals, last):
                    store.append(value)
            x = outputs[0] if directions == 1 else ops.cat(outputs, 2)
        return x, finals

    def _run_one(self, x, states, weights, reverse):
        """One layer, one direction: (output sequence, (h_n, [c_n]))."""
        steps = x.shape[0]
        last = 0 if reverse else steps - 1
        if self.proj_size:
            return _projected_lstm(x, states, weights, reverse)
        if self.mode == "LSTM":
            out = LSTMSequence.apply(x, *states, *weights, reverse=reverse)
            # (PyTorch's CPU LSTM runs each layer as one MkldnnRnnLayer node)
            return named(out[:steps], "MkldnnRnnLayerBackward0"), (out[last], out[steps])
        if self.mode == "GRU":
            out = GRUSequence.apply(x, *states, *weights, reverse=reverse)
        else:
            out = RNNSequence.apply(x, *states, *weights, reverse=reverse,
                                    nonlinearity="relu" if self.mode == "RNN_RELU" else "tanh")
        return named(out, "StackBackward0"), (out[last],)  # (PyTorch stacks the steps)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


def _projected_lstm(x, states, weights, reverse):
    """An LSTM with projections (proj_size > 0), one step at a time from the ops: the state
    h_t = W_hr (σ(o) ⊙ tanh(c_t)) is projected down from the cell's width."""
    w_ih, w_hh, *biases, w_hr = weights
    b_ih, b_hh = biases or (None, None)
    h, c = states
    outputs = []
    for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
        gates = F.linear(x[t], w_ih, b_ih) + F.linear(h, w_hh, b_hh)
        i, f, g, o = gates.chunk(4, 1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = F.linear(ops.sigmoid(o) * ops.tanh(c), w_hr)
        outputs.append(h)
    return ops.stack(outputs[::-1] if reverse else outputs, 0), (h, c)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) (or relu).

    forward(input, h0=None) → (output, h_n); input (T, B, I), or (B, T, I) with batch_first,
    or (T, I) unbatched; output holds h_t of the last layer for every step (both directions
    concatenated), h_n (num_layers·directions, B, H) the last state of every layer.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory. Each step, from gates i, f, g, o (PyTorch's order):

        c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g);   h_t = σ(o) ⊙ tanh(c_t)

    forward(input, (h0, c0)=None) → (output, (h_n, c_n)); shapes as `RNN`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit. Each step, from gates r, z, n (PyTorch's order):

        n = tanh(x W_inᵀ + b_in + σ(r) ⊙ (h W_hnᵀ + b_hn));   h_t = (1 - σ(z)) ⊙ n + σ(z) ⊙ h_{t-1}

    forward(input, h0=None) → (output, h_n); shapes as `RNN`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# --- cells: one time step ------------------------------------------------------------------
class RNNCellBase(Module):
    """One step of a recurrent layer: parameters weight_ih, weight_hh, bias_ih, bias_hh."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        size = gates * hidden_size
        self.weight_ih = Parameter(creation.empty(size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty(size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(size, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _weights(self):
        if self.bias:
            return (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (self.weight_ih, self.weight_hh)

    def _prepare(self, input, hx):  # noqa: A002
        """(x as (B, I), list of states as (B, H), batched?)."""
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input to be 1-D or 2-D but "
                             f"received {input.ndim}-D tensor")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input has {input.shape[-1]} features, "
                             f"expected input_size={self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        count = 2 if isinstance(self, LSTMCell) else 1
        if hx is None:
            states = [_zeros(x.shape[0], self.hidden_size, x)] * count
        else:
            states = list(hx) if count == 2 else [hx]
            states = [s if batched else s.unsqueeze(0) for s in states]
            for s in states:
                if tuple(s.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(f"{type(self).__name__}: hidden state has shape "
                                       f"{tuple(s.shape)}, expected "
                                       f"{(x.shape[0], self.hidden_size)}")
        return x, states, batched

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        return text


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu); forward(input, hx=None) → h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        # Composed from Linear nodes, so it can be differentiated twice.
        x, (h,), batched = self._prepare(input, hx)
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh,
                                                                    self.bias_hh)
        out = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return out if batched else out[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; forward(input, (h, c)=None) → (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):  # noqa: A002
        x, states, batched = self._prepare(input, hx)
        out = LSTMSequence.apply(x.unsqueeze(0), *states, *self._weights())  # (2, B, H): h', c'
        if not batched:
            return out[0, 0], out[1, 0]
        return out[0], out[1]


class GRUCell(RNNCellBase):
    """One GRU step; forward(input, h=None) → h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, states, batched = self._prepare(input, hx)
        out = GRUSequence.apply(x.unsqueeze(0), *states, *self._weights())  # (1, B, H)
        return out[0] if batched else out[0, 0]

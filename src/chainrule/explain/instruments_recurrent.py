"""Per-example gradients of the recurrent layers (RNN, LSTM, GRU), from their per-step pieces.

A fused recurrent op computes, on its way back through time, every step's gate gradient
dPₜ (B, G·H); the weight gradients are then sums over steps and examples:

    dL/dW_ih = Σ_t dPₜᵀ xₜ      dL/dW_hh = Σ_t dPₜᵀ hₜ₋₁      dL/db = Σ_t Σ_i dPₜ,ᵢ

Summing over the steps only, per example i, gives each example's share. The op keeps the
gate gradients when asked (`keep_step_gradients`), so this costs one einsum per weight and
no second backward.
"""
from __future__ import annotations

from .. import backend
from ..nn.layers.recurrent import RNNBase
from ..ops.recurrent import GRUSequence, LSTMSequence, RNNSequence
from ..tensor import Tensor

SEQUENCE_OPS = (LSTMSequence, GRUSequence, RNNSequence)


class RecurrentTap:
    """Set up on a recurrent module's forward (its output and input); after backward,
    `shares()` gives {parameter name: (B, *shape)} like per_example_gradients."""

    def __init__(self, module: RNNBase, inputs, output):
        self.module = module
        self.batch_first = module.batch_first
        names = {id(p): name for name, p in module.named_parameters()}
        stop = inputs.grad_fn if inputs is not None else None
        self.nodes = []  # (node, [parameter name per input])
        for node in _nodes_between(output, stop):
            if isinstance(node, SEQUENCE_OPS):
                node.keep_step_gradients = True
                self.nodes.append((node, [names.get(id(t)) for t in node.inputs]))

    def shares(self) -> dict:
        shares = {}
        for node, names in self.nodes:
            pieces = node.__dict__.get("step_gradients")
            if pieces is None:
                continue
            d_x, d_h, x, hs, h0 = pieces
            m = backend.xp(d_x)
            h_prev = m.concatenate([h0[None], hs[:-1]]) if not node.reverse else \
                m.concatenate([hs[1:], h0[None]])
            w_ih, w_hh = [n for n in names if n and "weight" in n]
            shares[w_ih] = m.einsum("tbg,tbi->bgi", d_x, x)
            shares[w_hh] = m.einsum("tbg,tbh->bgh", d_h, h_prev)
            biases = [n for n in names if n and "bias" in n]
            if biases:
                shares[biases[0]] = d_x.sum(0)
                shares[biases[1]] = d_h.sum(0)
        return shares


def _nodes_between(output, stop) -> list:
    """The graph nodes from the module's outputs back to (not beyond) its input's node."""
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    stack, seen = [t.grad_fn for t in _tensors(outputs) if t.grad_fn is not None], set()
    found = []
    while stack:
        node = stack.pop()
        if node is stop or id(node) in seen or node.inputs is None:
            continue
        seen.add(id(node))
        found.append(node)
        stack += [t.grad_fn for t in node.inputs if t.grad_fn is not None]
    return found


def _tensors(values):
    for value in values:
        if isinstance(value, (tuple, list)):
            yield from _tensors(value)
        elif isinstance(value, Tensor):
            yield value

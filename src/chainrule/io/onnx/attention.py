"""MultiheadAttention as plain ONNX operators (MatMul, Reshape, Transpose, Softmax):

    q, k, v = x_q Wqᵀ + bq, x_k Wkᵀ + bk, x_v Wvᵀ + bv          (N, ·, E)
    each cut into h heads of d = E/h:                         (N, h, ·, d)
    out = softmax(q kᵀ / √d) v, heads joined, out_proj        (N, L, E)

Reshapes copy the batch and sequence axes from their input (0 in ONNX's shape), so both
stay dynamic. key_padding_mask and attn_mask (bool or float tensors: graph inputs, or
constants) are added to the scores; bias_k/bias_v and add_zero_attn are refused.
"""
from __future__ import annotations

import math

import numpy

from ...creation import as_tensor
from ...tensor import Tensor
from .errors import ExportError

ARGUMENTS = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask",
             "average_attn_weights", "is_causal")


def multihead_attention(graph, module, args, kwargs, out):
    call = dict(zip(ARGUMENTS, args), **kwargs)
    if module.bias_k is not None or module.add_zero_attn:
        raise ExportError("onnx export: MultiheadAttention with add_bias_kv or add_zero_attn "
                          "has no ONNX mapping here")
    query, key, value = call["query"], call["key"], call["value"]
    if query.ndim != 3:
        raise ExportError("onnx export: MultiheadAttention on unbatched (2-D) inputs has no "
                          "ONNX mapping here (add a batch axis)")
    e, heads, d = module.embed_dim, module.num_heads, module.head_dim
    prefix = graph.parameter_names.get(id(module.out_proj.weight), "attn").rsplit(".", 2)[0]

    def batch_first(tensor):
        name = graph.name(tensor)
        return name if module.batch_first else graph.node("Transpose", [name], perm=[1, 0, 2])

    inputs: dict = {}
    for t in (query, key, value):  # each tensor once (self-attention passes one thrice)
        if id(t) not in inputs:
            inputs[id(t)] = batch_first(t)
    weights, biases = _projections(module)
    q, k, v = (_affine(graph, inputs[id(t)], w, b, f"{prefix}.{part}")
               for t, w, b, part in zip((query, key, value), weights, biases, "qkv"))

    def split_heads(name, perm):  # (N, S, E) -> (N, S, h, d) -> perm
        return graph.node("Transpose", [graph.node("Reshape", [name, graph.ints(
            [0, 0, heads, d])])], perm=perm)

    dtype = query.dtype
    scale = graph.constant(numpy.asarray(1 / math.sqrt(d), dtype), "inv_sqrt_d")
    q = graph.node("Mul", [split_heads(q, [0, 2, 1, 3]), scale])          # (N, h, L, d)
    scores = graph.node("MatMul", [q, split_heads(k, [0, 2, 3, 1])])     # (N, h, L, S)
    for mask in _masks(graph, module, call, dtype):
        scores = graph.node("Add", [scores, mask])
    attention = graph.node("Softmax", [scores], axis=-1)
    mixed = graph.node("MatMul", [attention, split_heads(v, [0, 2, 1, 3])])  # (N, h, L, d)
    joined = graph.node("Reshape", [graph.node("Transpose", [mixed], perm=[0, 2, 1, 3]),
                                    graph.ints([0, 0, e])])               # (N, L, E)
    result = _affine(graph, joined, module.out_proj.weight.numpy(),
                     None if module.out_proj.bias is None else module.out_proj.bias.numpy(),
                     f"{prefix}.out_proj")
    if not module.batch_first:
        result = graph.node("Transpose", [result], perm=[1, 0, 2])
    output, attention_weights = out
    graph.alias(output, result)
    if attention_weights is not None:
        averaged = call.get("average_attn_weights", True)
        graph.alias(attention_weights, graph.reduce("ReduceMean", attention, [1], False)
                    if averaged else attention)


def _masks(graph, module, call: dict, dtype) -> list:
    """The masks as values to add to the scores (N, h, L, S): True (masked out) -> -inf,
    False -> 0, a float mask as it is. key_padding_mask (N, S) -> (N, 1, 1, S); attn_mask
    (L, S) broadcasts, (N·h, L, S) -> (N, h, L, S)."""
    masks = []
    padding = call.get("key_padding_mask")
    if padding is not None:
        masks.append(graph.node("Unsqueeze", [_additive(graph, padding, dtype),
                                              graph.ints([1, 2], "axes")]))
    attn = call.get("attn_mask")
    if attn is not None:
        name = _additive(graph, attn, dtype)
        if attn.ndim == 3:
            name = graph.node("Reshape", [name, graph.ints([-1, module.num_heads,
                                                            *attn.shape[1:]])])
        masks.append(name)
    return masks


def _additive(graph, mask, dtype) -> str:
    if not isinstance(mask, Tensor):  # a list or array: a constant
        mask = as_tensor(numpy.asarray(mask))
    name = graph.name(mask)
    if mask.dtype.kind == "b":
        return graph.node("Where", [name, graph.constant(numpy.asarray(-numpy.inf, dtype),
                                                         "minus_inf"),
                                    graph.constant(numpy.asarray(0, dtype), "zero")])
    if mask.dtype.kind != "f":
        raise ExportError(f"onnx export: MultiheadAttention mask of dtype {mask.dtype} "
                          "(use bool or float)")
    return name


def _projections(module):
    """(Wq, Wk, Wv) and (bq, bk, bv) as arrays (biases None without bias)."""
    e = module.embed_dim
    if module.in_proj_weight is not None:
        w = module.in_proj_weight.numpy()
        weights = (w[:e], w[e:2 * e], w[2 * e:])
    else:
        weights = tuple(p.numpy() for p in (module.q_proj_weight, module.k_proj_weight,
                                            module.v_proj_weight))
    if module.in_proj_bias is None:
        return weights, (None, None, None)
    b = module.in_proj_bias.numpy()
    return weights, (b[:e], b[e:2 * e], b[2 * e:])


def _affine(graph, x: str, weight, bias, hint: str) -> str:
    # y = x Wᵀ + b
    y = graph.node("MatMul", [x, graph.constant(weight.T, hint + ".weight_T")])
    return y if bias is None else graph.node("Add", [y, graph.constant(bias, hint + ".bias")])

"""Multi-head attention, with PyTorch's parameters, masks and return values.

Every query position looks at every key position, scores them by a dot product, turns the
scores into weights with a softmax, and takes the weighted mean of the values:

    Attention(Q, K, V) = softmax(Q Kᵀ / √d + mask) V

With h heads the embedding is cut into h slices of d = embed_dim / h numbers, each slice
attends on its own, and an output projection mixes the heads back together. The layer is
composed from ops (linear, matmul, softmax), so its gradient needs no code of its own.
"""
from __future__ import annotations

import math

from ... import backend, creation
from ...backend import xp
from ...composites import functions as ops
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear

__all__ = ["MultiheadAttention"]


def additive_mask(mask, dtype, name: str):
    """A mask as something to add to the scores: True (masked out) → -inf, False → 0; a
    float mask is added as it is. Returns a tensor (constant unless the mask is learned)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = creation.tensor(mask)
    if mask.dtype == backend.bool_:
        return Tensor._wrap(xp(mask.array).where(mask.array, -math.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, "
                        f"got {mask.dtype}")
    return mask


class MultiheadAttention(Module):
    """MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) → (attn_output, attn_weights):
    query (L, N, E), key (S, N, kdim), value (S, N, vdim) — (N, L, E) etc. with batch_first,
    or unbatched (L, E); attn_output like query; attn_weights (N, L, S) averaged over heads,
    (N, num_heads, L, S) with average_attn_weights=False, None with need_weights=False.

    key_padding_mask (N, S): True (or -inf) marks keys to ignore. attn_mask (L, S) or
    (N·num_heads, L, S): True (or -inf) forbids a query from looking at a key; a float
    mask is added to the scores.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def empty(*shape):
            return Parameter(creation.empty(*shape, dtype=dtype, device=device))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # As PyTorch: Xavier for the input projections, zero biases; out_proj.weight keeps
        # Linear's default.
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # --- forward -----------------------------------------------------------------------
    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        batched = query.ndim == 3
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: query should be unbatched 2-D or batched "
                             f"3-D, got shape {tuple(query.shape)}")
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must have the same "
                             f"number of dimensions, got {query.ndim}, {key.ndim} and "
                             f"{value.ndim}")
        if query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: was expecting embedding dimension of "
                             f"{self.embed_dim}, but got {query.shape[-1]}")
        q, k, v = self._project(query, key, value, batched)  # each (N, ·, E), batch first
        batch, heads, d = q.shape[0], self.num_heads, self.head_dim
        mask = self._merged_mask(attn_mask, key_padding_mask, batched, batch, q.dtype)
        if self.bias_k is not None:  # one learned key/value appended to every sequence
            k = _append(k, self.bias_k.expand(batch, 1, self.embed_dim))
            v = _append(v, self.bias_v.expand(batch, 1, self.embed_dim))
            mask = _pad_last(mask)

        def heads_first(t):  # (N, S, E) → (N, h, S, d)
            return t.reshape(batch, t.shape[1], heads, d).permute(0, 2, 1, 3)

        q, k, v = heads_first(q), heads_first(k), heads_first(v)
        if self.add_zero_attn:  # one all-zero key/value appended to every sequence
            zeros = Tensor._wrap(backend.xp(k.array).zeros((batch, heads, 1, d), dtype=k.dtype))
            k, v = _append(k, zeros, 2), _append(v, zeros, 2)
            mask = _pad_last(mask)
        # scores = (Q / √d) Kᵀ + mask;  weights = softmax over the keys
        scores = (q * (1.0 / math.sqrt(d))) @ k.transpose(-1, -2)  # (N, h, L, S)
        if mask is not None:
            scores = scores + mask
        weights = scores.softmax(-1)
        weights = F.dropout(weights, self.dropout, self.training)
        out = (weights @ v).permute(0, 2, 1, 3).reshape(batch, q.shape[2], self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        return out, (weights if batched else weights[0])

    def _project(self, query, key, value, batched):
        """q, k, v projected and laid out batch first: (N, L, E), (N, S, E), (N, S, E)."""
        e = self.embed_dim
        self_attention = query is key and key is value
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:
            query = query.transpose(0, 1)
            key = query if self_attention else key.transpose(0, 1)
            value = query if self_attention else value.transpose(0, 1)
        b = self.in_proj_bias
        if self._qkv_same_embed_dim and self_attention:
            qkv = F.linear(query, self.in_proj_weight, b)  # one matmul for all three
            return qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = (None,) * 3 if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return tuple(F.linear(x, w, bb) for x, w, bb in zip((query, key, value), weights, biases))

    def _merged_mask(self, attn_mask, key_padding_mask, batched, batch, dtype):
        """attn_mask and key_padding_mask as one additive mask broadcastable to (N, h, L, S)."""
        attn = additive_mask(attn_mask, dtype, "attn_mask")
        padding = additive_mask(key_padding_mask, dtype, "key_padding_mask")
        if attn is not None and attn.ndim == 3:  # (N·h, L, S), or (h, L, S) unbatched
            attn = attn.reshape(batch, self.num_heads, attn.shape[-2], attn.shape[-1])
        if padding is not None:
            if not batched:
                padding = padding.unsqueeze(0)
            padding = padding.reshape(batch, 1, 1, padding.shape[-1])
        if attn is None:
            return padding
        return attn if padding is None else attn + padding


def _append(t: Tensor, extra: Tensor, dim: int = 1) -> Tensor:
    return ops.cat([t, extra], dim)


def _pad_last(mask):
    """One more key, never masked: a zero column at the end of the mask."""
    if mask is None:
        return None
    zeros = Tensor._wrap(backend.xp(mask.array).zeros(mask.shape[:-1] + (1,), dtype=mask.dtype))
    return _append(mask, zeros, mask.ndim - 1)

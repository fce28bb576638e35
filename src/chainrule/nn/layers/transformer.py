"""The Transformer encoder: self-attention and a feed-forward network, each wrapped in a
residual connection and layer normalisation (PyTorch's TransformerEncoderLayer).

Post-norm (the original paper, `norm_first=False`):
    x = norm1(x + dropout(self_attn(x)));   x = norm2(x + dropout(ff(x)))
Pre-norm (`norm_first=True`, steadier to train deep):
    x = x + dropout(self_attn(norm1(x)));   x = x + dropout(ff(norm2(x)))
with ff(x) = linear2(dropout(activation(linear1(x)))).
"""
from __future__ import annotations

import copy

from ...tensor import Tensor
from .. import functional as F
from ..containers import ModuleList
from ..module import Module
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder"]


class _AttentionLayer(Module):
    """What encoder and decoder layers share: self-attention `self_attn` (for a decoder,
    cross-attention `multihead_attn` next), the feed-forward network linear1 -> activation
    -> dropout -> linear2, and one LayerNorm `norm<i>` and one Dropout `dropout<i>` per
    sublayer (2 for an encoder layer, 3 for a decoder layer), registered in PyTorch's order."""

    def __init__(self, sublayers: int, d_model: int, nhead: int, dim_feedforward: int,
                 dropout: float, activation, layer_norm_eps: float, batch_first: bool,
                 norm_first: bool, bias: bool, device, dtype):
        super().__init__()
        where = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **where)
        if sublayers == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                     bias=bias, batch_first=batch_first,
                                                     **where)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **where)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **where)
        self.norm_first = norm_first
        for i in range(1, sublayers + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **where))
        for i in range(1, sublayers + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _feed_forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerEncoderLayer(_AttentionLayer):
    """TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True).

    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False): src (S, N, E),
    (N, S, E) with batch_first, or unbatched (S, E); the output has src's shape. Masks as
    in `MultiheadAttention` (src_mask is its attn_mask).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__(2, d_model, nhead, dim_feedforward, dropout, activation,
                         layer_norm_eps, batch_first, norm_first, bias, device, dtype)

    def forward(self, src: Tensor, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _ff_block(self, x):
        return self.dropout2(self._feed_forward(x))


class TransformerEncoder(Module):
    """A stack of `num_layers` copies of `encoder_layer` (each with its own parameters,
    all starting equal, as PyTorch), then an optional final `norm`.

    forward(src, mask=None, src_key_padding_mask=None, is_causal=None). PyTorch's
    nested-tensor fast path (`enable_nested_tensor`) is accepted and ignored: padded
    positions are computed like any other instead of being set to zero.
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask=None, src_key_padding_mask=None,
                is_causal: bool | None = None) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        if self.norm is not None:
            x = self.norm(x)
        return x


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")

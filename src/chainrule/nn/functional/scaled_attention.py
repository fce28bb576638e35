"""`scaled_dot_product_attention`: softmax(Q Kᵀ · scale + mask) V, as PyTorch's function
(the math path, composed of matmul, softmax and dropout, so its gradient follows)."""
from __future__ import annotations

import math

from ...backend import xp
from ...tensor import Tensor
from .activation import softmax
from .dropout import dropout

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    attn_mask: a bool mask (True = may attend) or a float one added to the scores;
    is_causal: position i attends to positions <= i (with no attn_mask); enable_gqa: key and
    value with fewer heads (dim -3) than the query, each shared by a group of query heads.
    """
    length, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        repeat = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, repeat), _repeat_heads(value, repeat)
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
        allowed = xp(query.array).tril(xp(query.array).ones((length, source), dtype=bool))
        scores = scores + Tensor._wrap(xp(scores.array).where(allowed, 0.0, -math.inf).astype(scores.dtype))
    elif attn_mask is not None:
        mask = attn_mask.array if isinstance(attn_mask, Tensor) else xp(query.array).asarray(attn_mask)
        if mask.dtype == bool:
            scores = scores + Tensor._wrap(xp(scores.array).where(mask, 0.0, -math.inf).astype(scores.dtype))
        else:
            scores = scores + attn_mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def _repeat_heads(x: Tensor, repeat: int) -> Tensor:
    """(..., H, S, E) -> (..., H·repeat, S, E), each head repeated `repeat` times in a row."""
    *lead, heads, s, e = x.shape
    return x.unsqueeze(-3).expand(*lead, heads, repeat, s, e).reshape(*lead, heads * repeat, s, e)

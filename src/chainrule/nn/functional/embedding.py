"""Embeddings: integer ids in, rows of a learned table out (a lookup whose gradient is a
scatter-add into the rows that were read)."""
from __future__ import annotations

from ... import backend
from ...backend import xp
from ...ops.embedding import Embedding, EmbeddingBag, EmbeddingBagMax
from ...tensor import Tensor

__all__ = ["embedding", "embedding_bag"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """weight[input]: for ids of any shape (*), rows of shape (*, embedding_dim). Rows at
    `padding_idx` get no gradient. With `sparse=True` the weight's gradient holds only the
    rows that were read (a RowSparseTensor, see chainrule.sparse), which SGD and Adagrad
    accept."""
    _unsupported("embedding", max_norm, scale_grad_by_freq)
    ids = _ids(input, "embedding")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-D table (num_embeddings, "
                         f"embedding_dim), got shape {tuple(weight.shape)}")
    padding_idx = _padding_index(padding_idx, weight.shape[0], "embedding")
    _check_range(ids, weight.shape[0], "embedding")
    return Embedding.apply(weight, indices=ids, padding_idx=padding_idx, sparse=sparse)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without materialising the rows'
    gradient per token: one (num_bags, embedding_dim) row per bag.

    input (B, L): B bags of L ids each (offsets must be None). input (n,) with offsets
    (B,): bag b holds input[offsets[b]:offsets[b+1]] (with include_last_offset, offsets
    has B+1 entries, the last one n). Ids equal to `padding_idx` are left out of every bag
    (and of the mean's count); an empty bag gives zeros. per_sample_weights (same shape as
    input, mode='sum' only) scales each row before the sum. `sparse` as in `embedding`
    (sum and mean only).
    """
    _unsupported("embedding_bag", max_norm, scale_grad_by_freq)
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of 'sum', 'mean' or 'max', got "
                         f"{mode!r}")
    if mode == "max" and sparse:
        raise ValueError("embedding_bag: max mode does not support sparse weights")
    ids = _ids(input, "embedding_bag")
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight must be a 2-D table (num_embeddings, "
                         f"embedding_dim), got shape {tuple(weight.shape)}")
    rows = weight.shape[0]
    padding_idx = _padding_index(padding_idx, rows, "embedding_bag")
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"embedding_bag: per_sample_weights is only supported for "
                             f"mode='sum' (got mode={mode!r})")
        if per_sample_weights.shape != ids.shape:
            raise ValueError(f"embedding_bag: per_sample_weights has shape "
                             f"{tuple(per_sample_weights.shape)} but input has shape {tuple(ids.shape)}; "
                             "they must be the same")
        if per_sample_weights.dtype != weight.dtype:
            per_sample_weights = per_sample_weights.to(weight.dtype)
    _check_range(ids, rows, "embedding_bag")
    valid = None
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated as a mini-batch of fixed length sequences")
        bags = ids
    elif ids.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag: a 1-D input needs offsets (the start of each "
                             "bag); pass a 2-D input (B, L) for bags of equal length")
        bags, valid, slots = _bags_from_offsets(ids, offsets, include_last_offset)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[slots]
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {ids.ndim}")
    if padding_idx is not None:
        not_padding = bags != padding_idx
        valid = not_padding if valid is None else valid & not_padding
    if valid is not None and bool(valid.all()):
        valid = None
    if mode == "max":
        return EmbeddingBagMax.apply(weight, ids=bags, valid=valid)
    extra = () if per_sample_weights is None else (per_sample_weights,)
    return EmbeddingBag.apply(weight, *extra, ids=bags, valid=valid, mean=mode == "mean",
                              sparse=sparse)


def _bags_from_offsets(ids, offsets, include_last_offset):
    """A 1-D id list cut at `offsets` as a padded (B, L) matrix, the mask of real slots,
    and the position in `ids` of each slot (0 where empty)."""
    starts = offsets.array if isinstance(offsets, Tensor) else xp(ids).asarray(offsets)
    if starts.ndim != 1 or starts.dtype.kind not in "iu":
        raise ValueError(f"embedding_bag: offsets has to be a 1-D tensor of integers, got "
                         f"shape {tuple(starts.shape)} and dtype {starts.dtype}")
    n = ids.shape[0]
    starts = starts.astype(backend.int64)
    if include_last_offset:
        if starts.shape[0] < 1:
            raise ValueError("embedding_bag: with include_last_offset, offsets needs at "
                             "least one entry")
        ends = starts[1:]
        starts = starts[:-1]
    else:
        ends = xp(ids).append(starts[1:], n)
    if starts.shape[0] and int(starts[0]) != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in "
                         f"the mini-batch has to start from position 0. However, got "
                         f"{int(starts[0])}")
    lengths = ends - starts
    if starts.shape[0] and (int(lengths.min()) < 0 or int(ends.max()) > n):
        raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the "
                         f"input length {n}, got {starts.tolist()}")
    width = int(lengths.max()) if lengths.size else 0
    column = xp(ids).arange(width)
    valid = column < lengths[:, None]
    slots = xp(ids).where(valid, starts[:, None] + column, 0)
    bags = ids[slots] if n else xp(ids).zeros(slots.shape, dtype=ids.dtype)
    return bags, valid, slots


def _ids(input, name: str):  # noqa: A002
    ids = input.array if isinstance(input, Tensor) else backend.xp(input).asarray(input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected a tensor of integer ids (int64 or int32), got "
                        f"{ids.dtype}")
    return ids


def _check_range(ids, rows: int, name: str) -> None:
    if backend.device_of(ids) != "cpu" or ids.size == 0:
        return  # (on a GPU the check would wait for the device)
    lowest, highest = int(ids.min()), int(ids.max())
    if lowest < 0 or highest >= rows:
        bad = lowest if lowest < 0 else highest
        raise IndexError(f"{name}: index {bad} is out of range for a table of {rows} rows "
                         f"(valid ids: 0 to {rows - 1})")


def _padding_index(padding_idx, rows: int, name: str):
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{name}: padding_idx={padding_idx} must be within "
                         f"num_embeddings={rows}")
    return padding_idx % rows


def _unsupported(name: str, max_norm, scale_grad_by_freq) -> None:
    if max_norm is not None:
        raise NotImplementedError(f"{name}: max_norm is not supported")
    if scale_grad_by_freq:
        raise NotImplementedError(f"{name}: scale_grad_by_freq is not supported")

"""Embedding lookups. The forward reads rows of a table W; the backward adds gradient rows
back into a zero table at the same row ids (a scatter-add), touching only the rows used.

    y[t] = W[id_t]          dL/dW[v] = Σ_{t: id_t = v} dL/dy[t]

Ids repeat (a frequent word appears many times in a batch), so the scatter must add, not
assign: a sparse matrix product does it (kernels/segments.py). EmbeddingBag reduces each
bag of rows (sum, mean or max) in the same op, so its backward scatters the bag's
gradient, scaled, once per token. With `sparse=True` the backward stops before the
spread into a full table and returns the summed rows with their ids (a RowSparseTensor,
see chainrule.sparse), so an optimizer can update those rows alone.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp
from ..kernels.segments import scatter_rows, sum_rows
from ..sparse import RowSparseTensor
from .indexing import IndexAdd
from .reduction import Sum
from .shape import Reshape


class Embedding(Op):
    # y[i…] = W[ids[i…]];  dL/dW = scatter-add of dL/dy rows at ids (padding_idx rows: 0)
    # With `sparse`, dL/dW comes as the summed rows alone (a RowSparseTensor).
    def forward(ctx, weight, indices=None, padding_idx=None, sparse=False):
        ctx.indices = indices
        ctx.table_shape = weight.shape
        ctx.padding_idx = padding_idx
        ctx.sparse = sparse
        return weight.take(indices, axis=0)

    def backward(ctx, grad):
        ids = ctx.indices.reshape(-1)
        keep = None
        if ctx.padding_idx is not None:
            keep = ids != ctx.padding_idx
            ids = ids[keep]
        if ctx.building_graph or grad.ndim < 3 or grad.strides[-2] != 0:
            rows = Reshape.call(grad, shape=(ctx.indices.size, grad.shape[-1]))
            if ctx.sparse and not ctx.building_graph:
                return (_sparse_gradient(ctx.table_shape, ids, rows if keep is None else rows[keep]),)
            return (ScatterRows.call(rows, ids=ids, num_rows=ctx.table_shape[0], keep=keep),)
        # The gradient repeats along the last id axis (a sum or mean over it came next: a
        # bag of words): each token adds its bag's one row, as in EmbeddingBag.
        length, width = grad.shape[-2:]
        bag_rows = grad[..., 0, :].reshape(-1, width)
        source = xp(ids).arange(bag_rows.shape[0]).repeat(length)
        source = source if keep is None else source[keep]
        if ctx.sparse:
            return (_sparse_gradient(ctx.table_shape, ids, bag_rows, source),)
        return (ScatterRows.call(bag_rows, ids=ids, num_rows=ctx.table_shape[0], source=source),)


class ScatterRows(Op):
    # Z = zeros(V, D) with Z[ids_t] += c_t·x[source_t] for every token t;
    # dL/dx[s] = Σ_{t: source_t = s} c_t·dL/dZ[ids_t]   (a gather, summed per source row)
    # `keep` (a mask over x's rows) drops rows first; `source`/`coef` default to "row t
    # of the kept rows" and 1.
    def forward(ctx, x, ids=None, num_rows=0, keep=None, source=None, coef=None):
        ctx.shape, ctx.ids, ctx.keep, ctx.source, ctx.coef = x.shape, ids, keep, source, coef
        values = x if keep is None else x[keep]
        return scatter_rows(num_rows, ids, values, source, coef)

    def backward(ctx, grad):
        rows = Embedding.call(grad, indices=ctx.ids)
        if ctx.coef is not None:
            rows = rows * ctx.coef[:, None]
        if ctx.source is not None:
            return (IndexAdd.call(rows, shape=ctx.shape, key=ctx.source),)
        if ctx.keep is not None:
            return (IndexAdd.call(rows, shape=ctx.shape, key=xp(ctx.ids).flatnonzero(ctx.keep)),)
        return (rows,)


class EmbeddingBag(Op):
    # out[b] = Σ_{t ∈ bag b} c_t·W[id_t]  with c_t = 1 ('sum'), per_sample_weights[t]
    # ('sum'), or 1/|bag b| ('mean');  bags are rows of a (B, L) id matrix, `valid`
    # masking the slots that count (padding_idx, ends of shorter bags).
    #   dL/dW[v] = Σ_{t: id_t = v} c_t·dL/dout[bag_t],   dL/dc_t = dL/dout[bag_t]·W[id_t]
    def forward(ctx, weight, *per_sample, ids=None, valid=None, mean=False, sparse=False):
        rows = weight.take(ids, axis=0)  # (B, L, D)
        bags, width = ids.shape
        # Each bag's sum is a (1, L) @ (L, D) product with its token coefficients, which
        # BLAS runs faster than a sum over the middle axis; slots that do not count get 0.
        token_weights = scale = None
        if per_sample:
            token_weights = per_sample[0] if valid is None else per_sample[0] * valid
            ctx.rows = rows
            coefficients = token_weights
        else:
            if mean:  # 1/|bag| (an empty bag's sum stays 0)
                if valid is None:
                    scale = weight.dtype.type(1.0 / max(width, 1))
                else:
                    counts = xp(weight).maximum(valid.sum(axis=1), 1).astype(weight.dtype)
                    scale = (1.0 / counts)[:, None]
            if valid is None:
                coefficients = xp(weight).full((bags, width), 1 if scale is None else scale,
                                               dtype=weight.dtype)
            else:
                coefficients = valid.astype(weight.dtype)
                if scale is not None:
                    coefficients *= scale
        summed = (coefficients[:, None, :] @ rows)[:, 0, :]
        ctx.table_shape, ctx.ids, ctx.valid, ctx.scale = weight.shape, ids, valid, scale
        ctx.token_weights, ctx.sparse = token_weights, sparse
        ctx.save_for_backward(weight)
        return summed

    def backward(ctx, grad):
        ids, valid, scale, token_weights = ctx.ids, ctx.valid, ctx.scale, ctx.token_weights
        bags = ids.shape[0]
        grad_w = grad_c = None
        if ctx.needs_grad(0):
            scaled = grad if scale is None else grad * scale
            width = ids.shape[1]
            if valid is None:
                tokens_ids = ids.reshape(-1)
                source = xp(ids).arange(bags).repeat(width)
            else:
                kept = xp(ids).flatnonzero(valid.reshape(-1))
                tokens_ids = ids.reshape(-1)[kept]
                source = kept // width
            coef = None
            if token_weights is not None:
                coef = token_weights.reshape(-1)
                coef = coef if valid is None else coef[kept]
            if ctx.sparse and not ctx.building_graph:
                grad_w = _sparse_gradient(ctx.table_shape, tokens_ids, scaled, source, coef)
            else:
                grad_w = ScatterRows.call(scaled, ids=tokens_ids, num_rows=ctx.table_shape[0],
                                          source=source, coef=coef)
        if len(ctx.inputs) > 1 and ctx.needs_grad(1):
            # dL/dc_t = dL/dout[bag_t] · W[id_t]   (zero on slots that do not count)
            rows = Embedding.call(ctx.saved[0], indices=ids) if ctx.building_graph else ctx.rows
            grad_c = Sum.call(rows * Reshape.call(grad, shape=(bags, 1, grad.shape[-1])), dim=2)
            if valid is not None:
                grad_c = grad_c * valid
        return grad_w, grad_c


class EmbeddingBagMax(Op):
    # out[b, d] = max_{t ∈ bag b} W[id_t, d]  (0 for an empty bag);
    #   dL/dW[v, d] = Σ_b dL/dout[b, d] where bag b's maximum in column d came from row v
    def forward(ctx, weight, ids=None, valid=None):
        rows = weight.take(ids, axis=0)  # (B, L, D)
        if valid is not None:
            rows[~valid] = -xp(weight).inf
        position = rows.argmax(axis=1)  # (B, D): which slot won, first on ties
        out = xp(weight).take_along_axis(rows, position[:, None, :], axis=1)[:, 0, :]
        winner = xp(weight).take_along_axis(ids, position, axis=1)  # (B, D) row ids
        columns = xp(weight).broadcast_to(xp(weight).arange(weight.shape[1]), winner.shape)
        ctx.key = (winner.reshape(-1), columns.reshape(-1))  # where each output came from
        ctx.shape = weight.shape
        ctx.nonempty = None
        if valid is not None:
            nonempty = valid.any(axis=1)
            if not bool(nonempty.all()):
                ctx.nonempty = nonempty[:, None]
                out = xp(weight).where(ctx.nonempty, out, 0)
        return out

    def backward(ctx, grad):
        if ctx.nonempty is not None:
            grad = grad * ctx.nonempty
        flat = Reshape.call(grad, shape=(grad.shape[0] * grad.shape[1],))
        return (IndexAdd.call(flat, shape=ctx.shape, key=ctx.key),)


def _sparse_gradient(table_shape, ids, values, source=None, coef=None) -> RowSparseTensor:
    """The table's gradient as its summed rows alone (see `scatter_rows`)."""
    if ids.size == 0:
        return RowSparseTensor.no_rows(table_shape, values)
    if source is None:
        return RowSparseTensor(*sum_rows(table_shape[0], ids, values, source, coef), table_shape)
    # One small row per bag: the gradient keeps the tokens (copies: the caller's arrays may
    # change before they are read) and sums them when read; plain SGD adds them to the
    # table's rows directly.
    return RowSparseTensor.of_tokens(ids.copy(), values.copy(), table_shape, source,
                                     None if coef is None else coef.copy())

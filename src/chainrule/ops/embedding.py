"""Embedding lookups. The forward reads rows of a table W; the backward adds gradient rows
back into a zero table at the same row ids (a scatter-add), touching only the rows used.

    y[t] = W[id_t]          dL/dW[v] = Σ_{t: id_t = v} dL/dy[t]

Ids repeat (a frequent word appears many times in a batch), so the scatter must add, not
assign. NumPy's unbuffered `add.at` does that but is slow for rows; `scatter_rows` below
sorts the ids once and adds in rounds instead (see its note). EmbeddingBag reduces each
bag of rows (sum, mean or max) in the same op, so its backward scatters the bag's
gradient, scaled, once per token. With `sparse=True` the backward stops before the
spread into a full table and returns the summed rows with their ids (a RowSparseTensor,
see chainrule.sparse), so an optimizer can update those rows alone.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import device_of, xp
from ..sparse import RowSparseTensor
from .indexing import IndexAdd
from .reduction import Sum
from .rows import add_rows
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
        rows = Reshape.call(grad, shape=(ctx.indices.size, grad.shape[-1]))
        if ctx.sparse and not _is_tensor(grad):
            return (_sparse_gradient(ctx.table_shape, ids, rows if keep is None else rows[keep]),)
        return (ScatterRows.call(rows, ids=ids, num_rows=ctx.table_shape[0], keep=keep),)


class ScatterRows(Op):
    # Z = zeros(V, D) with Z[ids_t] += c_t·x[source_t] for every token t;
    # dL/dx[s] = Σ_{t: source_t = s} c_t·dL/dZ[ids_t]   (a gather, summed per source row)
    # `keep` (a mask over x's rows) drops rows first; `source`/`coef` default to "row t
    # of the kept rows" and 1.
    def forward(ctx, x, ids=None, num_rows=0, keep=None, source=None, coef=None):
        ctx.params = (x.shape, ids, keep, source, coef)
        values = x if keep is None else x[keep]
        return scatter_rows(num_rows, ids, values, source, coef)

    def backward(ctx, grad):
        shape, ids, keep, source, coef = ctx.params
        rows = Embedding.call(grad, indices=ids)
        if coef is not None:
            rows = rows * coef[:, None]
        if source is not None:
            return (IndexAdd.call(rows, shape=shape, key=source),)
        if keep is not None:
            return (IndexAdd.call(rows, shape=shape, key=xp(ids).flatnonzero(keep)),)
        return (rows,)


class EmbeddingBag(Op):
    # out[b] = Σ_{t ∈ bag b} c_t·W[id_t]  with c_t = 1 ('sum'), per_sample_weights[t]
    # ('sum'), or 1/|bag b| ('mean');  bags are rows of a (B, L) id matrix, `valid`
    # masking the slots that count (padding_idx, ends of shorter bags).
    #   dL/dW[v] = Σ_{t: id_t = v} c_t·dL/dout[bag_t],   dL/dc_t = dL/dout[bag_t]·W[id_t]
    def forward(ctx, weight, *per_sample, ids=None, valid=None, mean=False, sparse=False):
        module = xp(weight)
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
                    counts = module.maximum(valid.sum(axis=1), 1).astype(weight.dtype)
                    scale = (1.0 / counts)[:, None]
            if valid is None:
                coefficients = module.full((bags, width), 1 if scale is None else scale,
                                           dtype=weight.dtype)
            else:
                coefficients = valid.astype(weight.dtype)
                if scale is not None:
                    coefficients *= scale
        summed = (coefficients[:, None, :] @ rows)[:, 0, :]
        ctx.layout = (weight.shape, ids, valid, scale, token_weights, bags, sparse)
        ctx.save_for_backward(weight)
        return summed

    def backward(ctx, grad):
        table_shape, ids, valid, scale, token_weights, bags, sparse = ctx.layout
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
            if sparse and not _is_tensor(grad):
                grad_w = _sparse_gradient(table_shape, tokens_ids, scaled, source, coef)
            else:
                grad_w = ScatterRows.call(scaled, ids=tokens_ids, num_rows=table_shape[0],
                                          source=source, coef=coef)
        if len(ctx.inputs) > 1 and ctx.needs_grad(1):
            # dL/dc_t = dL/dout[bag_t] · W[id_t]   (zero on slots that do not count)
            rows = ctx.rows if not _is_tensor(grad) else Embedding.call(ctx.saved[0], indices=ids)
            grad_c = Sum.call(rows * Reshape.call(grad, shape=(bags, 1, grad.shape[-1])), dim=2)
            if valid is not None:
                grad_c = grad_c * valid
        return grad_w, grad_c


class EmbeddingBagMax(Op):
    # out[b, d] = max_{t ∈ bag b} W[id_t, d]  (0 for an empty bag);
    #   dL/dW[v, d] = Σ_b dL/dout[b, d] where bag b's maximum in column d came from row v
    def forward(ctx, weight, ids=None, valid=None):
        module = xp(weight)
        rows = weight.take(ids, axis=0)  # (B, L, D)
        if valid is not None:
            rows[~valid] = -module.inf
        position = rows.argmax(axis=1)  # (B, D): which slot won, first on ties
        out = module.take_along_axis(rows, position[:, None, :], axis=1)[:, 0, :]
        winner = module.take_along_axis(ids, position, axis=1)  # (B, D) row ids
        columns = module.broadcast_to(module.arange(weight.shape[1]), winner.shape)
        ctx.key = (winner.reshape(-1), columns.reshape(-1))  # where each output came from
        ctx.shape = weight.shape
        ctx.nonempty = None
        if valid is not None:
            nonempty = valid.any(axis=1)
            if not bool(nonempty.all()):
                ctx.nonempty = nonempty[:, None]
                out = module.where(ctx.nonempty, out, 0)
        return out

    def backward(ctx, grad):
        if ctx.nonempty is not None:
            grad = grad * ctx.nonempty
        flat = Reshape.call(grad, shape=(grad.shape[0] * grad.shape[1],))
        return (IndexAdd.call(flat, shape=ctx.shape, key=ctx.key),)


def _is_tensor(value) -> bool:
    return hasattr(value, "grad_fn")


def _sparse_gradient(table_shape, ids, values, source=None, coef=None) -> RowSparseTensor:
    """The table's gradient as its summed rows alone (see `scatter_rows`)."""
    if ids.size == 0:
        return RowSparseTensor.no_rows(table_shape, values)
    if device_of(values) != "cpu" or source is None:
        return RowSparseTensor(*sum_rows(table_shape[0], ids, values, source, coef), table_shape)
    # An EmbeddingBag's rows come from one small row per bag: the gradient keeps the plan
    # and copies of those rows and weights (the caller's arrays may change before the
    # sums are read), and the sums are done when first needed (see RowSums).
    plan = RowSums(table_shape[0], ids, source, None if coef is None else coef.copy())
    return RowSparseTensor.summed_later(plan.distinct, plan, values.copy(), table_shape)


# --- the scatter-add of rows -------------------------------------------------------------
# NumPy's `add.at(Z, ids, rows)` handles repeated ids but runs one row at a time (about
# 1 µs a row). Instead: sort the token ids once (a radix sort when ids fit in 16 bits);
# the k-th occurrence of each id then forms "round k", in which no id repeats, so one
# vectorised `Z[ids] += rows` per round is exact. Only the first few rounds are done so:
# the remaining occurrences belong to a few frequent ids (real text is Zipfian), which are
# summed per id in one go — as a small matrix product when the rows come from a small
# source (EmbeddingBag: one gradient row per bag), else with `add.reduceat` over the
# sorted tokens. On a GPU, CuPy's `add.at` is an atomic kernel and is used directly.
_ROUNDS = 4
_PRODUCT_LIMIT = 1 << 22  # largest (frequent ids × source rows) matrix built


def scatter_rows(num_rows, ids, values, source=None, coef=None):
    """zeros((num_rows, D)) with row ids[t] += coef[t]·values[source[t]] for every t
    (source[t] = t and coef[t] = 1 when not given)."""
    module = xp(values)
    if ids.size == 0:
        return module.zeros((num_rows, values.shape[-1]), dtype=values.dtype)
    # The sums come in a compact table, one row per distinct id plus a zero row, spread
    # to the full table by one `take` (cheaper than zeros + setitem).
    distinct, sums = sum_rows(num_rows, ids, values, source, coef, zero_row=True)
    position = module.full(num_rows, distinct.size, dtype=module.intp)
    position[distinct] = module.arange(distinct.size)
    return sums.take(position, axis=0)


def sum_rows(num_rows, ids, values, source=None, coef=None, zero_row=False):
    """The distinct ids (all below num_rows), ascending, and for each one Σ coef[t]·values[source[t]] over the
    tokens t with that id (one row per id; with `zero_row`, one more row of zeros)."""
    module = xp(values)
    if device_of(values) != "cpu":
        distinct, slot = module.unique(ids, return_inverse=True)
        sums = module.zeros((distinct.size + zero_row, values.shape[-1]), dtype=values.dtype)
        module.add.at(sums, slot.reshape(-1), _token_rows(values, source, coef,
                                                           module.arange(ids.size)))
        return distinct, sums
    plan = RowSums(num_rows, ids, source, coef)
    return plan.distinct, plan.sums(values, zero_row)


class RowSums:
    """How the tokens' rows add up into one row per distinct id, worked out once from
    the ids (the rounds of the note above); `sums(values)` then adds up any values laid
    out that way. A sparse gradient keeps the plan and its small source of values, so
    that SGD can add the sums straight into the table's rows (`add_into`)."""

    def __init__(self, num_rows, ids, source=None, coef=None):
        module = xp(ids)
        runs = _sorted_runs(num_rows, ids, module)
        order, sorted_ids, starts, segment, repeats, repeat_run = runs
        self.distinct = sorted_ids.take(starts)
        self.source, self.coef = source, coef
        self.first = order.take(starts)  # round 0: each id's first token
        self.rounds = []  # round k ≥ 1: (rows of the sums, tokens), each id's (k+1)-th token
        for k in range(1, _ROUNDS):
            chosen = repeats[repeat_run == k]
            if chosen.size == 0:
                break
            self.rounds.append((segment.take(chosen), order.take(chosen)))
        deep = repeats[repeat_run >= _ROUNDS]
        self.deep = (order.take(deep), segment.take(deep)) if deep.size else None

    def sums(self, values, zero_row=False):
        """One row per distinct id (and a row of zeros after them with `zero_row`)."""
        module = xp(values)
        k = self.distinct.size
        total = module.empty((k + zero_row, values.shape[-1]), dtype=values.dtype)
        if zero_row:
            total[k] = 0
        self._rows(values, self.first, out=total[:k])
        self._add_rest(total, values)
        return total

    def add_into(self, total, values) -> None:
        """total += sums(values), for a (distinct ids, D) array."""
        total += self._rows(values, self.first)
        self._add_rest(total, values)

    def _rows(self, values, tokens, out=None):
        return _token_rows(values, self.source, self.coef, tokens, out)

    def _add_rest(self, total, values) -> None:
        for rows, tokens in self.rounds:
            add_rows(total, rows, self._rows(values, tokens))
        if self.deep is not None:
            self._add_frequent(total, values, *self.deep)

    def _add_frequent(self, total, values, tokens, rows) -> None:
        """The tokens past the rounds (all of a few frequent ids), summed per id."""
        module = xp(values)
        new = module.empty(rows.size, dtype=bool)
        new[0] = True
        module.not_equal(rows[1:], rows[:-1], out=new[1:])
        starts = module.flatnonzero(new)
        frequent = rows.take(starts)
        sources = values.shape[0]
        if self.source is not None and frequent.size * sources <= _PRODUCT_LIMIT:
            # total[frequent] += M @ values, M[h, s] = Σ coef over id h's tokens from row s
            local = module.cumsum(new) - 1
            counts = module.bincount(
                local * sources + self.source.take(tokens),
                weights=None if self.coef is None else self.coef.take(tokens),
                minlength=frequent.size * sources)
            matrix = counts.reshape(frequent.size, sources).astype(values.dtype)
            add_rows(total, frequent, matrix @ values)
        else:
            add_rows(total, frequent,
                     module.add.reduceat(self._rows(values, tokens), starts, axis=0))


def _token_rows(values, source, coef, tokens, out=None):
    """coef[t]·values[source[t]] for the given tokens t (source[t] = t, coef 1 if None)."""
    where = tokens if source is None else source.take(tokens)
    # (mode="clip" only because NumPy copies through a buffer with out= otherwise; the
    # positions are in range)
    picked = xp(values).take(values, where, axis=0, out=out, mode="clip")
    if coef is not None:
        picked *= coef.take(tokens)[:, None]
    return picked


def _sorted_runs(num_rows, ids, module):
    """Tokens sorted by id: the order, the sorted ids, the position of each id's first
    occurrence, each sorted token's id number (0, 1… over the distinct ids, its row in
    the sums), and the positions of the repeats (tokens after their id's first) with
    each one's place in its id's run (1, 2…)."""
    n = ids.size
    key = ids.astype(module.uint16) if num_rows <= 65536 else ids
    order = module.argsort(key, kind="stable")
    sorted_ids = ids.take(order)
    first = module.empty(n, dtype=bool)
    first[0] = True
    module.not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    starts = module.flatnonzero(first)
    segment = module.cumsum(first) - 1
    repeats = module.flatnonzero(~first)
    repeat_run = repeats - starts.take(segment.take(repeats))
    return order, sorted_ids, starts, segment, repeats, repeat_run

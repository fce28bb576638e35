"""Sums of rows by id: the scatter-add under embedding gradients and sparse updates.

    Z[v] = Σ_{t: ids_t = v} coef_t · values[source_t]

NumPy's `add.at(Z, ids, rows)` handles repeated ids but runs one row at a time (about
1 µs a row). Instead: sort the token ids once (a radix sort when ids fit in 16 bits);
the k-th occurrence of each id then forms "round k", in which no id repeats, so one
vectorised `Z[ids] += rows` per round is exact. Only the first few rounds are done so:
the remaining occurrences belong to a few frequent ids (real text is Zipfian), which are
summed per id in one go — as a small matrix product when the rows come from a small
source (EmbeddingBag: one gradient row per bag), else with `add.reduceat` over the
sorted tokens. On a GPU, CuPy's `add.at` is an atomic kernel and is used directly.
"""
from __future__ import annotations

from ..backend import device_of, xp
from .rows import add_rows

_ROUNDS = 4
_PRODUCT_LIMIT = 1 << 22  # largest (frequent ids × source rows) matrix built


def scatter_rows(num_rows, ids, values, source=None, coef=None):
    """zeros((num_rows, D)) with row ids[t] += coef[t]·values[source[t]] for every t
    (source[t] = t and coef[t] = 1 when not given)."""
    if ids.size == 0:
        return xp(values).zeros((num_rows, values.shape[-1]), dtype=values.dtype)
    # The sums come in a compact table, one row per distinct id plus a zero row, spread
    # to the full table by one `take` (cheaper than zeros + setitem).
    distinct, sums = sum_rows(num_rows, ids, values, source, coef, zero_row=True)
    position = xp(values).full(num_rows, distinct.size, dtype=xp(values).intp)
    position[distinct] = xp(values).arange(distinct.size)
    return sums.take(position, axis=0)


def sum_rows(num_rows, ids, values, source=None, coef=None, zero_row=False):
    """The distinct ids (all below num_rows), ascending, and for each one Σ coef[t]·values[source[t]] over the
    tokens t with that id (one row per id; with `zero_row`, one more row of zeros)."""
    if device_of(values) != "cpu":
        distinct, slot = xp(values).unique(ids, return_inverse=True)
        sums = xp(values).zeros((distinct.size + zero_row, values.shape[-1]), dtype=values.dtype)
        xp(values).add.at(sums, slot.reshape(-1), _token_rows(values, source, coef,
                                                              xp(values).arange(ids.size)))
        return distinct, sums
    plan = RowSums(num_rows, ids, source, coef)
    return plan.distinct, plan.sums(values, zero_row)


class RowSums:
    """How the tokens' rows add up into one row per distinct id, worked out once from
    the ids (the rounds of the note above); `sums(values)` then adds up any values laid
    out that way. A sparse gradient keeps the plan and its small source of values, so
    that SGD can add the sums straight into the table's rows (`add_into`)."""

    def __init__(self, num_rows, ids, source=None, coef=None):
        runs = _sorted_runs(num_rows, ids)
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
        k = self.distinct.size
        total = xp(values).empty((k + zero_row, values.shape[-1]), dtype=values.dtype)
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
        new = xp(values).empty(rows.size, dtype=bool)
        new[0] = True
        xp(values).not_equal(rows[1:], rows[:-1], out=new[1:])
        starts = xp(values).flatnonzero(new)
        frequent = rows.take(starts)
        sources = values.shape[0]
        if self.source is not None and frequent.size * sources <= _PRODUCT_LIMIT:
            # total[frequent] += M @ values, M[h, s] = Σ coef over id h's tokens from row s
            local = xp(values).cumsum(new) - 1
            counts = xp(values).bincount(
                local * sources + self.source.take(tokens),
                weights=None if self.coef is None else self.coef.take(tokens),
                minlength=frequent.size * sources)
            matrix = counts.reshape(frequent.size, sources).astype(values.dtype)
            add_rows(total, frequent, matrix @ values)
        else:
            add_rows(total, frequent,
                     xp(values).add.reduceat(self._rows(values, tokens), starts, axis=0))


def _token_rows(values, source, coef, tokens, out=None):
    """coef[t]·values[source[t]] for the given tokens t (source[t] = t, coef 1 if None)."""
    where = tokens if source is None else source.take(tokens)
    # (mode="clip" only because NumPy copies through a buffer with out= otherwise; the
    # positions are in range)
    picked = xp(values).take(values, where, axis=0, out=out, mode="clip")
    if coef is not None:
        picked *= coef.take(tokens)[:, None]
    return picked


def _sorted_runs(num_rows, ids):
    """Tokens sorted by id: the order, the sorted ids, the position of each id's first
    occurrence, each sorted token's id number (0, 1… over the distinct ids, its row in
    the sums), and the positions of the repeats (tokens after their id's first) with
    each one's place in its id's run (1, 2…)."""
    n = ids.size
    key = ids.astype(xp(ids).uint16) if num_rows <= 65536 else ids
    order = xp(ids).argsort(key, kind="stable")
    sorted_ids = ids.take(order)
    first = xp(ids).empty(n, dtype=bool)
    first[0] = True
    xp(ids).not_equal(sorted_ids[1:], sorted_ids[:-1], out=first[1:])
    starts = xp(ids).flatnonzero(first)
    segment = xp(ids).cumsum(first) - 1
    repeats = xp(ids).flatnonzero(~first)
    repeat_run = repeats - starts.take(segment.take(repeats))
    return order, sorted_ids, starts, segment, repeats, repeat_run

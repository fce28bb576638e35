"""PyTorch's shape functions (composites/shape.py) and einsum, against PyTorch and
finite differences."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

CASES = [
    case("split", lambda m, x: m.split(x, 2, 1)[1] * 2, (3, 5)),
    case("split-sizes", lambda m, x: x.split([1, 3], 0)[1], (4, 2)),
    case("chunk", lambda m, x: m.chunk(x, 3, 1)[2], (2, 7)),
    case("tensor_split", lambda m, x: m.tensor_split(x, 3, 0)[0], (7, 2)),
    case("unbind", lambda m, x: m.unbind(x, 1)[1] * m.unbind(x, 1)[0], (3, 2)),
    case("narrow", lambda m, x: x.narrow(1, 1, 2), (3, 4)),
    case("flip", lambda m, x: m.flip(x, [0, 1]), (3, 4)),
    case("fliplr", lambda m, x: m.fliplr(x), (3, 4)),
    case("roll", lambda m, x: m.roll(x, 1, 1), (3, 4)),
    case("roll-many", lambda m, x: x.roll((2, -1), (0, 1)), (3, 4)),
    case("roll-flat", lambda m, x: m.roll(x, 5), (3, 4)),
    case("rot90", lambda m, x: m.rot90(x, 1, (0, 1)), (3, 4)),
    case("tril", lambda m, x: m.tril(x), (4, 4)),
    case("triu-offset", lambda m, x: x.triu(1), (2, 4, 3)),
    case("tril-negative", lambda m, x: m.tril(x, -1), (3, 5)),
    case("repeat", lambda m, x: x.repeat(2, 3), (2, 3)),
    case("repeat-new-dims", lambda m, x: x.repeat(2, 1, 2), (3,)),
    case("tile", lambda m, x: m.tile(x, (2,)), (2, 3)),
    case("repeat_interleave", lambda m, x: m.repeat_interleave(x, 2, 0), (3, 2)),
    case("repeat_interleave-counts", lambda m, x: x.repeat_interleave(
        m.tensor([1, 0, 3]), dim=1), (2, 3)),
    case("movedim", lambda m, x: m.movedim(x, 0, -1), (2, 3, 4)),
    case("unflatten", lambda m, x: x.unflatten(1, (2, 3)), (4, 6)),
    case("diag-vector", lambda m, x: m.diag(x, 1), (3,)),
    case("diag-matrix", lambda m, x: m.diag(x, -1), (4, 3)),
    case("diagonal", lambda m, x: m.diagonal(x, 0, 1, 2), (2, 3, 3)),
    case("diag_embed", lambda m, x: m.diag_embed(x), (2, 3)),
    case("trace", lambda m, x: m.trace(x), (3, 3)),
    case("mm", lambda m, a, b: m.mm(a, b), (2, 3), (3, 4)),
    case("bmm", lambda m, a, b: a.bmm(b), (2, 2, 3), (2, 3, 4)),
    case("mv", lambda m, a, b: m.mv(a, b), (2, 3), (3,)),
    case("dot", lambda m, a, b: m.dot(a, b), (4,), (4,)),
    case("outer", lambda m, a, b: m.outer(a, b), (3,), (4,)),
    case("inner", lambda m, a, b: m.inner(a, b), (2, 3), (4, 3)),
    case("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2), (4,), (2, 3), (3, 4)),
    case("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b), (2, 2, 4), (2, 2, 3), (2, 3, 4)),
    case("addr", lambda m, c, a, b: m.addr(c, a, b), (3, 4), (3,), (4,)),
    case("cross", lambda m, a, b: m.cross(a, b, dim=1), (2, 3), (2, 3)),
    case("kron", lambda m, a, b: m.kron(a, b), (2, 3), (2, 2)),
    case("tensordot", lambda m, a, b: m.tensordot(a, b, dims=([1, 2], [0, 1])), (2, 3, 4),
         (3, 4, 2)),
    case("hstack", lambda m, a, b: m.hstack([a, b]), (2, 3), (2, 1)),
    case("vstack", lambda m, a, b: m.vstack([a, b]), (3,), (2, 3)),
    case("column_stack", lambda m, a, b: m.column_stack([a, b]), (3,), (3, 2)),
    case("meshgrid", lambda m, a, b: m.meshgrid(a, b, indexing="ij")[0] *
         m.meshgrid(a, b, indexing="xy")[1].t(), (3,), (4,)),
    case("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b)[0] *
         m.broadcast_tensors(a, b)[1], (3, 1), (4,)),
    case("einsum-matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b), (2, 3), (3, 4)),
    case("einsum-batched", lambda m, a, b: m.einsum("bhqd,bhkd->bhqk", a, b), (2, 2, 3, 4),
         (2, 2, 5, 4)),
    case("einsum-implicit-sum", lambda m, a, b: m.einsum("ij,j", a, b), (2, 3), (3,)),
    case("einsum-only-in-one", lambda m, a, b: m.einsum("ij,k->ik", a, b), (2, 3), (4,)),
    case("einsum-ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
         (2, 2, 3), (2, 3, 4)),
    case("einsum-three", lambda m, a, b, c: m.einsum("i,ij,j->", a, b, c), (2,), (2, 3), (3,)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


def test_split_pieces_and_errors_match_torch():
    x = numpy.arange(10.0)
    ours, theirs = cr.split(cr.tensor(x), 3), torch.split(torch.tensor(x), 3)
    assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]
    assert [p.shape for p in cr.chunk(cr.tensor(x), 4)] == \
        [tuple(p.shape) for p in torch.chunk(torch.tensor(x), 4)]
    with pytest.raises(RuntimeError, match="split"):
        cr.split(cr.tensor(x), [3, 3])
    with pytest.raises(RuntimeError, match="mm"):
        cr.mm(cr.ones(3), cr.ones(3, 2))
    with pytest.raises(NotImplementedError, match="repeated"):
        cr.einsum("ii->i", cr.ones(2, 2))

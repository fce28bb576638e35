"""Embedding and EmbeddingBag (ops/embedding.py, the functional forms and the layers)
against PyTorch: rows, bags, gradients of the table (only the rows used), padding_idx,
finite differences, and the scatter-add that the backward is built on."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import (  # tests/ops
    case,
    op_table_tests,
)

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels.segments import scatter_rows, sum_rows

GEN = numpy.random.default_rng(3)
IDS = numpy.array([[1, 4, 4, 0], [9, 4, 2, 2]])  # repeats within and across rows
IDS_3D = GEN.integers(0, 10, (2, 3, 2))
FLAT = numpy.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
OFFSETS = numpy.array([0, 2, 2, 7])  # bags of 2, 0 (empty), 5 and 3 ids


NOT_A_DERIVATIVE = "padding_idx's row is read by the forward but gets no gradient"


def emb(m, w, ids=IDS, **kwargs):
    return m.nn.functional.embedding(m.tensor(ids), w, **kwargs)


def bag(m, w, ids=IDS, offsets=None, **kwargs):
    offsets = None if offsets is None else m.tensor(offsets)
    return m.nn.functional.embedding_bag(m.tensor(ids), w, offsets, **kwargs)


CASES = [
    case("embedding", lambda m, w: emb(m, w), (10, 3)),
    case("embedding-1d", lambda m, w: emb(m, w, FLAT), (10, 4)),
    case("embedding-3d", lambda m, w: emb(m, w, IDS_3D), (10, 2)),
    # the padding row is read but, by definition, gets no gradient: not a derivative
    case("embedding-padding", lambda m, w: emb(m, w, padding_idx=4), (10, 3),
         no_gradcheck=NOT_A_DERIVATIVE),
    case("embedding-padding-negative", lambda m, w: emb(m, w, padding_idx=-1), (10, 3),
         no_gradcheck=NOT_A_DERIVATIVE),
    case("bag-mean", lambda m, w: bag(m, w), (10, 3)),
    case("bag-sum", lambda m, w: bag(m, w, mode="sum"), (10, 3)),
    case("bag-max", lambda m, w: bag(m, w, mode="max"), (10, 3), domain="distinct"),
    case("bag-mean-padding", lambda m, w: bag(m, w, padding_idx=2), (10, 3)),
    case("bag-offsets-mean", lambda m, w: bag(m, w, FLAT, OFFSETS), (10, 3)),
    case("bag-offsets-sum-padding", lambda m, w: bag(m, w, FLAT, OFFSETS, mode="sum",
                                                     padding_idx=1), (10, 3)),
    case("bag-offsets-max-padding", lambda m, w: bag(m, w, FLAT, OFFSETS, mode="max",
                                                     padding_idx=5), (10, 3),
         domain="distinct"),
    case("bag-include-last-offset", lambda m, w: bag(
        m, w, FLAT, numpy.array([0, 3, 3, 10]), include_last_offset=True), (10, 2)),
]
PER_SAMPLE = [  # the gradient reaches per_sample_weights too
    case("bag-per-sample-weights", lambda m, w, p: bag(m, w, mode="sum",
                                                       per_sample_weights=p), (10, 3), (2, 4)),
    case("bag-offsets-per-sample-weights-padding", lambda m, w, p: bag(
        m, w, FLAT, OFFSETS, mode="sum", per_sample_weights=p, padding_idx=3), (10, 3),
         (10,)),
]
MODULES = [
    case("Embedding", lambda m, w: m.nn.Embedding.from_pretrained(w, freeze=False)(
        m.tensor(IDS)), (10, 3)),
    case("EmbeddingBag", lambda m, w: m.nn.EmbeddingBag.from_pretrained(
        w, freeze=False, mode="sum", padding_idx=0)(m.tensor(FLAT), m.tensor(OFFSETS)),
         (10, 3)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES, first_order=PER_SAMPLE)


def test_layers_from_pretrained_match_torch() -> None:
    w = GEN.standard_normal((10, 3)).astype(numpy.float32)
    for case_ in MODULES:
        cw, tw = cr.tensor(w), torch.tensor(w)
        got, expected = case_.run(cr, [cw]), case_.run(torch, [tw])
        numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=1e-6)


# --- padding_idx, initialisation, the layers ---------------------------------------------
@pytest.mark.parametrize("layer", ["Embedding", "EmbeddingBag"])
def test_padding_row_starts_at_zero_and_gets_no_gradient(layer) -> None:
    cr.manual_seed(0)
    ours = getattr(cr.nn, layer)(20, 5, padding_idx=3)
    assert (ours.weight.numpy()[3] == 0).all()
    theirs = getattr(torch.nn, layer)(20, 5, padding_idx=3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
    ids_ = numpy.array([[3, 1, 3, 7], [3, 3, 3, 3], [2, 3, 2, 5]])
    out, expected = ours(cr.tensor(ids_)), theirs(torch.tensor(ids_))
    numpy.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-6)
    upstream = GEN.standard_normal(tuple(expected.shape)).astype(numpy.float32)
    out.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    grad = ours.weight.grad.numpy()
    assert (grad[3] == 0).all()
    numpy.testing.assert_allclose(grad, theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-7)
    unused = numpy.setdiff1d(numpy.arange(20), ids_)
    assert (grad[unused] == 0).all()  # only the rows read get a gradient


def test_default_initialisation_is_standard_normal() -> None:
    cr.manual_seed(1)
    for layer in (cr.nn.Embedding(2000, 50), cr.nn.EmbeddingBag(2000, 50)):
        w = layer.weight.numpy()
        assert w.dtype == numpy.float32 and w.shape == (2000, 50)
        assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
        assert layer.weight.requires_grad


def test_layers_match_torch_structure() -> None:
    pairs = [(cr.nn.Embedding(7, 3), torch.nn.Embedding(7, 3)),
             (cr.nn.Embedding(7, 3, padding_idx=-2), torch.nn.Embedding(7, 3, padding_idx=-2)),
             (cr.nn.EmbeddingBag(7, 3), torch.nn.EmbeddingBag(7, 3)),
             (cr.nn.EmbeddingBag(7, 3, mode="max", padding_idx=0),
              torch.nn.EmbeddingBag(7, 3, mode="max", padding_idx=0))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert cr.nn.Embedding(7, 3, padding_idx=-2).padding_idx == 5


def test_from_pretrained_freezes_and_copies() -> None:
    w = cr.randn(4, 2)
    layer = cr.nn.Embedding.from_pretrained(w)
    assert not layer.weight.requires_grad
    assert layer(cr.tensor([1])).tolist() == [w.tolist()[1]]
    w.array[1] = 0
    assert layer.weight.numpy()[1].any()  # a copy
    assert cr.nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    assert not cr.nn.EmbeddingBag.from_pretrained(w).weight.requires_grad


def test_embedding_bag_with_empty_bags_and_all_padding_gives_zeros() -> None:
    w = cr.randn(6, 3, requires_grad=True)
    out = F.embedding_bag(cr.tensor([2, 2, 1]), w, cr.tensor([0, 0, 2, 3]), padding_idx=2)
    expected = torch.nn.functional.embedding_bag(torch.tensor([2, 2, 1]),
                                                 torch.tensor(w.numpy()),
                                                 torch.tensor([0, 0, 2, 3]), padding_idx=2)
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    assert (out.numpy()[[0, 1, 3]] == 0).all()  # empty, all padding, empty
    out.sum().backward()
    assert w.grad.numpy()[1].tolist() == [1.0, 1.0, 1.0] and (w.grad.numpy()[2] == 0).all()


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_frequent_ids_scatter_like_torch(mode) -> None:
    """Zipf-distributed ids: some repeat hundreds of times (the backward's frequent path)."""
    generator = numpy.random.default_rng(4)
    tokens = numpy.minimum(generator.zipf(1.3, (64, 40)) - 1, 299)
    w = generator.standard_normal((300, 8)).astype(numpy.float32)
    for ours, theirs in [((lambda cw: F.embedding_bag(cr.tensor(tokens), cw, mode=mode)),
                          (lambda tw: torch.nn.functional.embedding_bag(
                              torch.tensor(tokens), tw, mode=mode))),
                         ((lambda cw: F.embedding(cr.tensor(tokens), cw)),
                          (lambda tw: torch.nn.functional.embedding(torch.tensor(tokens), tw)))]:
        cw, tw = cr.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        out, expected = ours(cw), theirs(tw)
        numpy.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5,
                                      atol=1e-5)
        upstream = generator.standard_normal(tuple(expected.shape)).astype(numpy.float32)
        out.backward(cr.tensor(upstream))
        expected.backward(torch.tensor(upstream))
        numpy.testing.assert_allclose(cw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("num_rows, tokens, sources, weighted", [
    (50, 2000, None, False),  # many repeats of each id
    (50, 2000, 13, True),  # rows from a small source (one per bag), weighted
    (100_000, 500, None, True),  # a table much larger than the tokens: ids sorted
    (7, 3, 2, False),
])
def test_scatter_rows_equals_numpy_add_at(num_rows, tokens, sources, weighted) -> None:
    generator = numpy.random.default_rng(num_rows + tokens)
    row_ids = numpy.minimum(generator.zipf(1.2, tokens) - 1, num_rows - 1)
    values = generator.standard_normal((sources or tokens, 4))
    source = generator.integers(0, sources, tokens) if sources else None
    coef = generator.random(tokens) if weighted else None
    expected = numpy.zeros((num_rows, 4))
    picked = values if source is None else values[source]
    numpy.add.at(expected, row_ids, picked * (coef[:, None] if weighted else 1))
    got = scatter_rows(num_rows, row_ids, values, source, coef)
    numpy.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert scatter_rows(num_rows, row_ids[:0], values, None, None).shape == (num_rows, 4)
    distinct, sums = sum_rows(num_rows, row_ids, values, source, coef)
    numpy.testing.assert_array_equal(distinct, numpy.unique(row_ids))
    numpy.testing.assert_allclose(sums, expected[distinct], rtol=1e-12, atol=1e-12)


def test_scatter_rows_keeps_the_dtype_and_owns_its_result() -> None:
    values = numpy.arange(6, dtype="float16").reshape(3, 2)
    got = scatter_rows(4, numpy.array([2, 0, 2]), values)
    assert got.dtype == numpy.float16 and got.base is None  # (the engine keeps it uncopied)
    numpy.testing.assert_array_equal(got, [[2, 3], [0, 0], [4, 6], [0, 0]])


# --- errors ------------------------------------------------------------------------------
def test_errors_name_the_problem() -> None:
    w = cr.randn(5, 2)
    with pytest.raises(TypeError, match="integer ids"):
        F.embedding(cr.tensor([1.0, 2.0]), w)
    with pytest.raises(IndexError, match="index 5 is out of range for a table of 5 rows"):
        F.embedding(cr.tensor([0, 5]), w)
    with pytest.raises(IndexError, match="index -1"):
        F.embedding_bag(cr.tensor([[0, -1]]), w)
    with pytest.raises(ValueError, match="padding_idx"):
        cr.nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(cr.tensor([[0, 1]]), w, cr.tensor([0]))
    with pytest.raises(ValueError, match="needs offsets"):
        F.embedding_bag(cr.tensor([0, 1]), w)
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(cr.tensor([0, 1]), w, cr.tensor([1]))
    with pytest.raises(ValueError, match="only supported for mode='sum'"):
        F.embedding_bag(cr.tensor([[0, 1]]), w, per_sample_weights=cr.ones(1, 2))
    with pytest.raises(ValueError, match="mode"):
        cr.nn.EmbeddingBag(5, 2, mode="median")
    with pytest.raises(NotImplementedError, match="max_norm"):
        F.embedding(cr.tensor([0]), w, max_norm=1.0)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 4])
@pytest.mark.parametrize("reduce", ["mean", "sum"])
def test_embedding_then_mean_over_the_ids_is_a_bag_of_words(sparse, padding_idx, reduce):
    """Embedding followed by .mean(1) (or .sum(1)) takes the bag path in backward (the
    gradient repeats along the id axis): the same SGD step (which adds a sparse gradient's
    tokens before they are summed) and the same table gradient as PyTorch."""
    table = GEN.standard_normal((10, 3))
    ids = numpy.array([[1, 4, 4, 0, 4], [9, 4, 2, 2, 7], [3, 3, 3, 3, 3]])
    weights = GEN.standard_normal((3, 3))
    grads, tables = [], []
    for m in (cr, torch):
        layer = m.nn.Embedding(10, 3, padding_idx=padding_idx, sparse=sparse)
        with m.no_grad():
            layer.weight.copy_(m.tensor(table))
        out = getattr(layer(m.tensor(ids)), reduce)(1)
        (out * m.tensor(weights)).sum().backward()
        m.optim.SGD(layer.parameters(), lr=0.5).step()
        tables.append(layer.weight.detach().numpy())
        grads.append(layer.weight.grad.to_dense().numpy() if sparse else
                     layer.weight.grad.numpy())
    numpy.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(tables[0], tables[1], rtol=1e-5, atol=1e-6)
    assert numpy.abs(tables[0] - table).max() > 0.1  # the step moved the rows read

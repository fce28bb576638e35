"""Row-sparse gradients (chainrule/sparse.py) from Embedding and EmbeddingBag with
sparse=True, against PyTorch's sparse COO gradients: the rows and values, accumulation
over several backward passes, mixing with dense gradients, the optimizers that take them
(step for step) and those that refuse them, zero_grad and clipping."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.sparse import RowSparseTensor

GEN = numpy.random.default_rng(5)
TABLE = GEN.standard_normal((12, 3))
IDS = numpy.array([[1, 4, 4, 0], [9, 4, 2, 2], [7, 7, 7, 7]])  # repeats within and across bags
FLAT = numpy.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
OFFSETS = numpy.array([0, 2, 2, 7])


def _weights(m, dtype="float32"):
    data = TABLE.astype(dtype)
    return m.nn.Parameter(m.tensor(data)) if m is cr else torch.nn.Parameter(torch.tensor(data))


LOOKUPS = {
    "embedding": lambda m, w: m.nn.functional.embedding(m.tensor(IDS), w, sparse=True),
    "embedding-padding": lambda m, w: m.nn.functional.embedding(
        m.tensor(IDS), w, padding_idx=4, sparse=True),
    "bag-mean": lambda m, w: m.nn.functional.embedding_bag(m.tensor(IDS), w, sparse=True),
    "bag-sum-padding": lambda m, w: m.nn.functional.embedding_bag(
        m.tensor(IDS), w, mode="sum", padding_idx=7, sparse=True),
    "bag-offsets": lambda m, w: m.nn.functional.embedding_bag(
        m.tensor(FLAT), w, m.tensor(OFFSETS), sparse=True),
    "bag-weighted": lambda m, w: m.nn.functional.embedding_bag(
        m.tensor(IDS), w, mode="sum", sparse=True, per_sample_weights=m.tensor(
            numpy.linspace(-1, 2, IDS.size, dtype="float32").reshape(IDS.shape))),
}


def _loss(out):
    return (out * out).sum()  # a gradient that differs per row and column


def _torch_rows(grad):
    """torch's sparse gradient, coalesced: (row ids, values)."""
    grad = grad.coalesce()
    return grad.indices()[0].numpy(), grad.values().numpy()


@pytest.mark.parametrize("name", list(LOOKUPS))
def test_sparse_gradient_has_the_rows_and_values_of_torch(name) -> None:
    lookup = LOOKUPS[name]
    w, tw = _weights(cr), _weights(torch)
    _loss(lookup(cr, w)).backward()
    _loss(lookup(torch, tw)).backward()
    assert w.grad.is_sparse and isinstance(w.grad, RowSparseTensor)
    rows, values = _torch_rows(tw.grad)
    numpy.testing.assert_array_equal(w.grad.indices().numpy()[0], rows)
    numpy.testing.assert_allclose(w.grad.values().numpy(), values, rtol=1e-5, atol=1e-6)
    assert w.grad.values().dtype == numpy.float32
    numpy.testing.assert_allclose(w.grad.to_dense().numpy(), tw.grad.to_dense().numpy(),
                                  rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(LOOKUPS))
def test_sparse_and_dense_gradients_are_the_same_numbers(name) -> None:
    """sparse=True changes the gradient's layout, not its value (float64)."""
    w = _weights(cr, "float64")
    _loss(LOOKUPS[name](cr, w)).backward()
    sparse = w.grad.to_dense().numpy()
    w.grad = None
    _loss(_dense_twin(name, w)).backward()
    assert not w.grad.is_sparse
    numpy.testing.assert_allclose(sparse, w.grad.numpy(), rtol=1e-12, atol=1e-12)


def _dense_twin(name, w):
    """LOOKUPS[name] called with sparse=False."""
    original = cr.nn.functional.embedding, cr.nn.functional.embedding_bag

    def dense(function):
        return lambda *args, **kwargs: function(*args, **{**kwargs, "sparse": False})

    cr.nn.functional.embedding, cr.nn.functional.embedding_bag = map(dense, original)
    try:
        return LOOKUPS[name](cr, w)
    finally:
        cr.nn.functional.embedding, cr.nn.functional.embedding_bag = original


def test_gradients_accumulate_like_torch() -> None:
    """sparse + sparse stays sparse; sparse + dense (the table also used directly) is dense,
    in either order."""
    w, tw = _weights(cr), _weights(torch)
    for m, p in ((cr, w), (torch, tw)):
        _loss(LOOKUPS["bag-mean"](m, p)).backward()
        _loss(LOOKUPS["embedding"](m, p)).backward()
    assert w.grad.is_sparse
    rows, values = _torch_rows(tw.grad)
    numpy.testing.assert_array_equal(w.grad.indices().numpy()[0], rows)
    numpy.testing.assert_allclose(w.grad.values().numpy(), values, rtol=1e-5)
    for p in (w, tw):
        (p.sum() * 3).backward()
    assert not w.grad.is_sparse and not tw.grad.is_sparse
    numpy.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5)
    # dense first, then sparse: dense
    w.grad = None
    _loss(LOOKUPS["embedding"](cr, w)).backward()
    sparse_alone = w.grad.to_dense().numpy()
    w.grad = None
    (w * 2).sum().backward()
    _loss(LOOKUPS["embedding"](cr, w)).backward()
    assert not w.grad.is_sparse
    numpy.testing.assert_allclose(w.grad.numpy(), 2 + sparse_alone, rtol=1e-6)


def test_a_computed_table_gets_a_dense_gradient_through_its_op() -> None:
    w, tw = _weights(cr), _weights(torch)
    _loss(LOOKUPS["bag-mean"](cr, w * 2)).backward()
    _loss(LOOKUPS["bag-mean"](torch, tw * 2)).backward()
    assert not w.grad.is_sparse
    numpy.testing.assert_allclose(w.grad.numpy(), tw.grad.to_dense().numpy(), rtol=1e-5)


def test_autograd_grad_returns_the_sparse_gradient_and_create_graph_a_dense_one() -> None:
    w = _weights(cr, "float64")
    (g,) = cr.autograd.grad(_loss(LOOKUPS["embedding"](cr, w)), [w])
    assert g.is_sparse
    (g2,) = cr.autograd.grad(_loss(LOOKUPS["embedding"](cr, w)), [w], create_graph=True)
    assert not g2.is_sparse
    numpy.testing.assert_allclose(g.to_dense().numpy(), g2.detach().numpy(), rtol=1e-12)
    # the dense one is differentiable: d/dw Σ g2 = d/dw Σ_t 2·w[id_t] summed per row
    # (and the table's sparse lookup sends this second pass a sparse gradient again)
    (hessian_row_sums,) = cr.autograd.grad(g2.sum(), [w])
    assert hessian_row_sums.is_sparse
    counts = numpy.bincount(IDS.reshape(-1), minlength=TABLE.shape[0])
    numpy.testing.assert_allclose(hessian_row_sums.to_dense().numpy(),
                                  numpy.repeat(2.0 * counts[:, None], 3, axis=1))


OPTIMIZERS = {
    "sgd": lambda m, p: m.optim.SGD(p, lr=0.1),
    "sgd-maximize": lambda m, p: m.optim.SGD(p, lr=0.1, maximize=True),
    "sgd-momentum": lambda m, p: m.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.2),
    "sgd-nesterov": lambda m, p: m.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adagrad": lambda m, p: m.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's sparse invariant-check notice
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_step_like_torch_on_sparse_gradients(name) -> None:
    results = []
    for m in (cr, torch):
        bag = m.nn.EmbeddingBag(12, 3, mode="mean", sparse=True)
        with (cr.no_grad() if m is cr else torch.no_grad()):
            bag.weight.data[...] = (TABLE.astype("float32") if m is cr
                                    else torch.tensor(TABLE.astype("float32")))
        opt = OPTIMIZERS[name](m, bag.parameters())
        for k in range(4):  # different rows each step: rows not in a step stay or coast
            opt.zero_grad()
            _loss(bag(m.tensor(IDS[:, k:k + 2]))).backward()
            opt.step()
        results.append(bag.weight.detach().numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda p: cr.optim.Adam(p), "Adam does not support sparse gradients"),
    (lambda p: cr.optim.AdamW(p), "AdamW does not support sparse gradients"),
    (lambda p: cr.optim.RMSprop(p), "RMSprop does not support sparse gradients"),
    (lambda p: cr.optim.SGD(p, lr=0.1, weight_decay=0.1), "weight_decay=0.1 is not compatible"),
    (lambda p: cr.optim.Adagrad(p, weight_decay=0.1), "weight_decay=0.1 is not compatible"),
])
def test_optimizers_that_cannot_take_sparse_gradients_say_so(make, message) -> None:
    w = _weights(cr)
    before = w.numpy().copy()
    _loss(LOOKUPS["embedding"](cr, w)).backward()
    with pytest.raises(RuntimeError, match=message):
        make([w]).step()
    numpy.testing.assert_array_equal(w.numpy(), before)  # nothing was changed


def test_zero_grad_without_none_leaves_an_empty_sparse_gradient() -> None:
    bag = cr.nn.EmbeddingBag(12, 3, sparse=True)
    opt = cr.optim.SGD(bag.parameters(), lr=0.1)
    for zero in (lambda: opt.zero_grad(set_to_none=False),
                 lambda: bag.zero_grad(set_to_none=False)):
        _loss(bag(cr.tensor(IDS))).backward()
        zero()
        g = bag.weight.grad
        assert g.is_sparse and g._nnz() == 0 and g.shape == (12, 3)
        assert g.values().shape == (0, 3) and g.dtype == numpy.float32
        numpy.testing.assert_array_equal(g.to_dense().numpy(), numpy.zeros((12, 3)))
        before = bag.weight.numpy().copy()
        opt.step()  # an empty gradient moves nothing
        numpy.testing.assert_array_equal(bag.weight.numpy(), before)


def test_clipping_sees_and_scales_the_stored_rows() -> None:
    w, dense = _weights(cr), _weights(cr)
    _loss(LOOKUPS["bag-mean"](cr, w)).backward()
    dense.grad = w.grad.to_dense()
    norm = cr.nn.utils.clip_grad_norm_([w], 0.5)
    expected = cr.nn.utils.clip_grad_norm_([dense], 0.5)
    assert norm.item() == pytest.approx(expected.item(), rel=1e-6)
    assert w.grad.is_sparse
    numpy.testing.assert_allclose(w.grad.to_dense().numpy(), dense.grad.numpy(), rtol=1e-6)
    cr.nn.utils.clip_grad_value_([w], 0.01)
    assert w.grad.is_sparse and float(numpy.abs(w.grad.values().numpy()).max()) <= 0.01


def test_max_mode_refuses_sparse_like_torch() -> None:
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        cr.nn.functional.embedding_bag(cr.tensor(IDS), _weights(cr), mode="max", sparse=True)


def test_training_with_sparse_or_dense_gradients_gives_the_same_weights() -> None:
    """The W4 network, a few SGD steps: only the layout of the gradient differs."""
    finals = []
    ids = GEN.integers(0, 300, (16, 20))
    labels = cr.tensor(GEN.integers(0, 2, 16))
    for sparse in (True, False):
        cr.manual_seed(0)
        bag = cr.nn.EmbeddingBag(300, 8, mode="mean", sparse=sparse, dtype=cr.float64)
        linear = cr.nn.Linear(8, 2, dtype=cr.float64)
        start = bag.weight.numpy().copy()
        opt = cr.optim.SGD(list(bag.parameters()) + list(linear.parameters()), lr=0.5)
        for k in range(5):
            opt.zero_grad()
            loss = cr.nn.functional.cross_entropy(linear(bag(cr.tensor(ids[:, k:k + 10]))),
                                                  labels)
            loss.backward()
            opt.step()
        finals.append(bag.weight.numpy())
    assert numpy.abs(finals[0] - finals[1]).max() < 1e-12
    moved = numpy.abs(finals[0] - start).max(axis=1) > 1e-6
    numpy.testing.assert_array_equal(moved, numpy.isin(numpy.arange(300), ids[:, :14]))


def test_row_sparse_tensor_sums_and_checks_its_parts() -> None:
    a = RowSparseTensor.from_rows(numpy.array([3, 1, 3]), numpy.ones((3, 2)), (5, 2))
    numpy.testing.assert_array_equal(a.indices().numpy(), [[1, 3]])
    numpy.testing.assert_array_equal(a.values().numpy(), [[1, 1], [2, 2]])
    b = RowSparseTensor(numpy.array([0, 3]), numpy.full((2, 2), 10.0), (5, 2))
    total = a + b
    assert total.is_sparse
    numpy.testing.assert_array_equal(total.to_dense().numpy(),
                                     a.to_dense().numpy() + b.to_dense().numpy())
    mixed = numpy.ones((5, 2)) + a
    assert isinstance(mixed, numpy.ndarray)
    numpy.testing.assert_array_equal(mixed, 1 + a.to_dense().numpy())
    with pytest.raises(ValueError, match="do not describe rows of shape"):
        RowSparseTensor(numpy.array([0, 1]), numpy.ones((3, 2)), (5, 2))
    assert "nnz=2" in repr(a) and a.size() == (5, 2) and a.ndim == 2 and a.device == "cpu"


def test_layers_carry_the_flag() -> None:
    assert repr(cr.nn.Embedding(10, 3, sparse=True)) == repr(torch.nn.Embedding(10, 3,
                                                                               sparse=True))
    assert cr.nn.EmbeddingBag(10, 3, sparse=True).sparse


@pytest.mark.parametrize("name", ["bag-mean", "bag-sum-padding", "bag-offsets", "bag-weighted"])
def test_sgd_adds_a_bags_sums_unread_as_if_they_had_been_read(name) -> None:
    """An EmbeddingBag's sparse gradient is summed when first read; plain SGD adds the
    sums straight into the rows without reading them. Both give the same step."""
    tables = []
    for read_first in (False, True):
        w = _weights(cr, "float64")
        _loss(LOOKUPS[name](cr, w)).backward()
        if read_first:
            w.grad.values()
        cr.optim.SGD([w], lr=0.3).step()
        tables.append(w.numpy())
    numpy.testing.assert_allclose(tables[0], tables[1], rtol=1e-14, atol=1e-14)
    assert numpy.abs(tables[0] - TABLE).max() > 1e-3  # the step moved the rows


def test_a_sparse_gradient_does_not_change_with_the_arrays_it_came_from() -> None:
    """The sums are done late; the gradient that fed them may be changed in between."""
    w = _weights(cr, "float64")
    seed = numpy.ones((IDS.shape[0], 3))
    out = cr.nn.functional.embedding_bag(cr.tensor(IDS), w, mode="sum", sparse=True)
    out.backward(seed)
    seed[...] = 100.0
    counts = numpy.bincount(IDS.reshape(-1), minlength=TABLE.shape[0])
    numpy.testing.assert_array_equal(w.grad.to_dense().numpy(),
                                     numpy.repeat(counts[:, None], 3, axis=1).astype(float))


def test_accumulating_many_sparse_gradients_sums_each_row() -> None:
    """Gradient accumulation over several batches without zero_grad: the stored rows are
    the union of the batches' rows, each holding the sum over all of them."""
    w = _weights(cr, "float64")
    gen = numpy.random.default_rng(7)
    expected = numpy.zeros_like(TABLE)
    for _ in range(5):
        ids = gen.integers(0, TABLE.shape[0], (3, 4))
        cr.nn.functional.embedding_bag(cr.tensor(ids), w, mode="sum", sparse=True).sum().backward()
        numpy.add.at(expected, ids.reshape(-1), 1.0)
    assert w.grad.is_sparse
    numpy.testing.assert_array_equal(w.grad.indices().numpy()[0], numpy.flatnonzero(expected[:, 0]))
    numpy.testing.assert_allclose(w.grad.to_dense().numpy(), expected, rtol=1e-14)
    empty = RowSparseTensor.no_rows((4, 2), numpy.zeros(1))
    assert (empty + empty)._nnz() == 0


def test_checks_and_pictures_read_a_sparse_gradient_densely() -> None:
    """gradcheck, trace and the graph's gradient norms spread a sparse gradient out."""
    w = _weights(cr, "float64")
    assert cr.autograd.gradcheck(lambda t: _loss(LOOKUPS["bag-mean"](cr, t)), (w,))
    loss = _loss(LOOKUPS["bag-sum-padding"](cr, w))
    traced = cr.explain.trace(loss, w)
    (g,) = cr.autograd.grad(loss, [w], retain_graph=True)
    numpy.testing.assert_allclose(traced.gradient, g.to_dense().numpy())
    assert traced.agrees_with_engine
    graph = cr.explain.draw(loss, grads=True)
    assert f"{numpy.linalg.norm(g.to_dense().numpy()):.3g}" in graph


def test_anomaly_mode_checks_a_sparse_gradient_and_names_the_op() -> None:
    w = _weights(cr, "float64")
    with cr.autograd.detect_anomaly():
        _loss(LOOKUPS["bag-mean"](cr, w)).backward()  # finite: no complaint
        assert w.grad.is_sparse
        out = LOOKUPS["bag-mean"](cr, w)
        with pytest.raises(RuntimeError, match="EmbeddingBag"):
            out.backward(numpy.full(out.shape, numpy.inf))


@pytest.mark.parametrize("weighted", [False, True])
def test_late_sums_of_a_frequent_id_match_torch(weighted) -> None:
    """An id read many times, within a bag and across bags: SGD's step (the tokens added
    into the table unsummed) and the read values both match torch."""
    ids = numpy.array([[3, 3, 3, 3, 3, 3], [3, 1, 3, 3, 5, 3], [3, 3, 2, 3, 3, 3]])
    coef = numpy.linspace(0.5, 2.0, ids.size, dtype="float32").reshape(ids.shape)
    results = []
    for m in (cr, torch):
        w = _weights(m)
        extra = {"per_sample_weights": m.tensor(coef)} if weighted else {}
        _loss(m.nn.functional.embedding_bag(m.tensor(ids), w, mode="sum", sparse=True,
                                            **extra)).backward()
        m.optim.SGD([w], lr=0.01).step()
        results.append(w.detach().numpy())
    numpy.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    assert numpy.abs(results[0][3] - TABLE[3]).max() > 1e-3

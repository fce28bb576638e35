"""Making tensors as PyTorch does (chainrule/creation.py, chainrule/random.py): dtypes,
keyword arguments, `generator=`, the random distributions and the window functions."""
import numpy
import pytest
import torch

import chainrule as cr


def test_dtypes_of_factories_match_torch():
    for make in (lambda m: m.full((2,), 3), lambda m: m.full((2,), 3.0),
                 lambda m: m.full((2,), True), lambda m: m.arange(3),
                 lambda m: m.arange(0, 1, 0.25), lambda m: m.zeros(2, dtype=m.long),
                 lambda m: m.randint(5, (3,)), lambda m: m.randperm(4),
                 lambda m: m.tril_indices(3, 3), lambda m: m.scalar_tensor(2),
                 lambda m: m.ones_like(m.zeros(2, dtype=m.float64)),
                 lambda m: m.randn_like(m.zeros(2, dtype=m.float64)),
                 lambda m: m.empty_like(m.zeros(2), dtype=m.int32)):
        ours, theirs = make(cr), make(torch)
        assert ours.dtype == theirs.numpy().dtype and ours.shape == tuple(theirs.shape)


def test_values_of_deterministic_factories_match_torch():
    for make in (lambda m: m.linspace(0, 1, 5), lambda m: m.logspace(0, 2, 3),
                 lambda m: m.logspace(0, 3, 4, base=2), lambda m: m.eye(2, 3),
                 lambda m: m.tril_indices(4, 3, -1), lambda m: m.triu_indices(3, 4, 1),
                 lambda m: m.full((2, 2), 7), lambda m: m.hann_window(6),
                 lambda m: m.hamming_window(5, periodic=False), lambda m: m.blackman_window(4),
                 lambda m: m.bartlett_window(7), lambda m: m.kaiser_window(5)):
        numpy.testing.assert_allclose(make(cr).numpy(), make(torch).numpy(), rtol=1e-6,
                                      atol=1e-7)
    assert cr.range(1, 4, 0.5).tolist() == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]


def test_shapes_as_ints_tuples_or_sizes_and_ignored_keywords():
    assert cr.zeros(2, 3).shape == cr.zeros((2, 3)).shape == cr.zeros([2, 3]).shape == (2, 3)
    assert cr.ones(cr.Size([4])).shape == (4,)
    assert cr.randn(2, 2, layout=None, pin_memory=False).shape == (2, 2)
    with pytest.raises(TypeError, match="zeros.*colour"):
        cr.zeros(2, colour="red")


def test_tensor_copies_and_from_numpy_shares():
    array = numpy.ones(3, dtype=numpy.float32)
    copied, shared = cr.tensor(array), cr.from_numpy(array)
    array[0] = 5
    assert copied.tolist()[0] == 1.0 and shared.tolist()[0] == 5.0
    assert cr.as_tensor(shared) is shared


def test_generator_streams_are_independent_and_reproducible():
    g1, g2 = cr.Generator().manual_seed(7), cr.Generator().manual_seed(7)
    cr.manual_seed(0)
    a = cr.randn(3, generator=g1)
    cr.randn(5)  # the global stream moves; g2 does not
    assert a.tolist() == cr.randn(3, generator=g2).tolist()
    assert g1.initial_seed() == 7
    state = g1.get_state()
    first = cr.rand(2, generator=g1)
    g1.set_state(state)
    assert cr.rand(2, generator=g1).tolist() == first.tolist()
    cr.manual_seed(3)
    x = cr.rand(2)
    cr.default_generator.manual_seed(3)
    assert cr.rand(2).tolist() == x.tolist() and cr.initial_seed() == 3
    for draw in (lambda g: cr.randint(0, 10, (4,), generator=g),
                 lambda g: cr.randperm(6, generator=g),
                 lambda g: cr.multinomial(cr.ones(5), 3, generator=g),
                 lambda g: cr.normal(0.0, 1.0, (3,), generator=g),
                 lambda g: cr.bernoulli(cr.full((4,), 0.5), generator=g),
                 lambda g: cr.poisson(cr.ones(3), generator=g),
                 lambda g: cr.empty(3).uniform_(generator=g)):
        assert draw(cr.Generator().manual_seed(1)).tolist() == \
            draw(cr.Generator().manual_seed(1)).tolist()


def test_distributions_have_the_right_moments():
    cr.manual_seed(0)
    n = 20000
    assert abs(float(cr.normal(cr.full((n,), 2.0), 3.0).mean()) - 2.0) < 0.1
    assert abs(float(cr.bernoulli(cr.full((n,), 0.3)).mean()) - 0.3) < 0.02
    assert abs(float(cr.poisson(cr.full((n,), 4.0)).mean()) - 4.0) < 0.1
    assert abs(float(cr.binomial(cr.full((n,), 10.0), cr.full((n,), 0.2)).mean()) - 2.0) < 0.1
    counts = cr.bincount(cr.multinomial(cr.tensor([1.0, 3.0]), n, replacement=True))
    assert abs(counts.tolist()[1] / n - 0.75) < 0.02
    picks = cr.multinomial(cr.ones(2, 6), 6)
    assert sorted(picks[0].tolist()) == list(range(6))  # without replacement: a permutation
    with pytest.raises(RuntimeError, match="without replacement"):
        cr.multinomial(cr.ones(3), 4)
    with pytest.raises(RuntimeError, match="invalid"):
        cr.multinomial(cr.tensor([1.0, -1.0]), 1)


def test_new_methods_and_init_functions():
    x = cr.zeros(2, dtype=cr.float64)
    for made in (x.new_zeros(3), x.new_ones((2, 2)), x.new_full((2,), 4), x.new_empty(1),
                 x.new_tensor([1, 2])):
        assert made.dtype == cr.float64 and made.device == x.device
    w = cr.empty(4, 6)
    cr.nn.init.orthogonal_(w, gain=2.0)
    numpy.testing.assert_allclose((w @ w.t()).numpy(), 4 * numpy.eye(4), atol=1e-5)
    cr.nn.init.trunc_normal_(w, std=5.0, a=-1.0, b=1.0)
    assert float(w.abs().max()) <= 1.0
    k = cr.empty(3, 3, 3, 3)
    cr.nn.init.dirac_(k)
    tk = torch.empty(3, 3, 3, 3)
    torch.nn.init.dirac_(tk)
    numpy.testing.assert_array_equal(k.numpy(), tk.numpy())
    assert cr.nn.init.eye_(cr.empty(2, 3)).tolist() == torch.nn.init.eye_(torch.empty(2, 3)).tolist()
    assert cr.nn.utils.skip_init(cr.nn.Linear, 3, 2).weight.shape == (2, 3)


def test_legacy_constructors():
    for name in ("FloatTensor", "LongTensor", "DoubleTensor", "ByteTensor", "BoolTensor"):
        ours, theirs = getattr(cr, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        assert ours.dtype == theirs.numpy().dtype and ours.tolist() == theirs.tolist()
    assert cr.FloatTensor(2, 3).shape == (2, 3)
    assert cr.ones(2).type(cr.LongTensor).dtype == cr.long
    assert cr.ones(2).type("torch.DoubleTensor").dtype == cr.double


def test_sparse_init_zeroes_the_same_count_per_column_as_torch():
    for m in (cr, torch):
        w = m.nn.init.sparse_(m.empty(10, 6), sparsity=0.25, std=0.5)
        zeros_per_column = (w == 0).sum(0).tolist()
        assert zeros_per_column == [3] * 6          # ⌈0.25 · 10⌉ in every column
        assert 0.1 < float(w[w != 0].std()) < 1.5
        assert m.nn.init.sparse is not None
    with pytest.raises(ValueError):
        cr.nn.init.sparse_(cr.empty(2, 3, 4), 0.1)

"""Python operators PyTorch gives tensors (% // ^ << >> unary +, reflected and in-place
forms), integer remainder and fmod, and max/min with a dim as (values, indices)."""
import numpy
import pytest
import torch

import chainrule as cr

INTS = numpy.array([7, -3, 0, 12])
FLOATS = numpy.array([7.5, -3.25, 0.5, 12.0])


def both(array):
    return cr.tensor(array), torch.tensor(array)


@pytest.mark.parametrize("expression", [
    lambda x: x % 3, lambda x: x % -4, lambda x: -7 % (x + 20), lambda x: x // 2,
    lambda x: x // -5, lambda x: 100 // (x + 20), lambda x: x ^ 5, lambda x: 6 ^ x,
    lambda x: x << 2, lambda x: 1 << (x % 4), lambda x: x >> 1, lambda x: 3 & x,
    lambda x: 8 | x, lambda x: +x], ids=range(14))
def test_integer_operators_as_torch(expression):
    ours, theirs = both(INTS)
    got, want = expression(ours), expression(theirs)
    assert got.dtype == want.numpy().dtype
    numpy.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("expression", [
    lambda x: x % 2, lambda x: x % -1.5, lambda x: 7.0 % (x + 20), lambda x: x // 2,
    lambda x: 7.5 // (x + 20), lambda x: +x], ids=range(6))
def test_float_operators_as_torch(expression):
    ours, theirs = both(FLOATS)
    numpy.testing.assert_allclose(expression(ours).numpy(), expression(theirs).numpy())


def test_in_place_operators_as_torch():
    results = []
    for m in (cr, torch):
        z = m.tensor(INTS)
        z //= 2
        z %= 5
        z ^= 1
        z <<= 2
        z >>= 1
        z &= 6
        z |= 8
        w = m.tensor(FLOATS)
        w **= 2
        w //= 3
        results.append((z.tolist(), w.tolist()))
    assert results[0] == results[1]


def test_integer_remainder_and_fmod_stay_integers_as_torch():
    for function in ("remainder", "fmod"):
        ours, theirs = both(INTS)
        got = getattr(cr, function)(ours, -3)
        want = getattr(torch, function)(theirs, -3)
        assert got.dtype == numpy.int64 and got.tolist() == want.tolist()


def test_max_and_min_with_a_dim_give_values_and_indices_as_torch():
    array = numpy.random.default_rng(0).standard_normal((3, 4))
    ours, theirs = both(array)
    for name in ("max", "min"):
        got = getattr(cr, name)(ours, 1)
        want = getattr(torch, name)(theirs, 1)
        numpy.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        assert got.indices.tolist() == want.indices.tolist()
        values, indices = getattr(ours, name)(dim=0, keepdim=True)
        assert values.shape == (1, 4) and indices.shape == (1, 4)

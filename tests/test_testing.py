"""`torch.testing` (chainrule/testing.py): assert_close passes and fails as PyTorch's, with
PyTorch's messages; make_tensor draws in its range."""
import pytest
import torch

import chainrule as cr

PAIRS = {
    "one element off": lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 2.5, 3.0])),
    "dtypes differ": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0], dtype=m.float64)),
    "shapes differ": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0, 3.0])),
    "python floats": lambda m: (1.0, 1.5),
    "integers": lambda m: (m.tensor([[1, 2], [3, 4]]), m.tensor([[1, 2], [3, 5]])),
    "in a list": lambda m: ([m.tensor(1.0)], [m.tensor(2.0)]),
    "in a dict": lambda m: ({"a": m.tensor(1.0)}, {"a": m.tensor(1.5)}),
    "within float32's tolerance": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.000001])),
    "float64 within 1e-7": lambda m: (m.tensor([1.0], dtype=m.float64),
                                      m.tensor([1.00000005], dtype=m.float64)),
}


def _outcome(m, name, **options):
    try:
        m.testing.assert_close(*PAIRS[name](m), **options)
    except AssertionError as error:
        return str(error)
    return "close"


@pytest.mark.parametrize("name", PAIRS)
def test_outcome_and_message_match_pytorch(name):
    assert _outcome(cr, name) == _outcome(torch, name)


def test_tolerances_and_nan_options():
    nan = [1.0, float("nan")]
    assert _outcome(cr, "one element off", rtol=0.0, atol=0.6) == "close"
    cr.testing.assert_close(cr.tensor(nan), cr.tensor(nan), equal_nan=True)
    with pytest.raises(AssertionError, match="not close"):
        cr.testing.assert_close(cr.tensor(nan), cr.tensor(nan))
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol'"):
        cr.testing.assert_close(1.0, 1.0, rtol=0.1)
    with pytest.raises(AssertionError, match="^custom$"):
        cr.testing.assert_close(1.0, 2.0, msg="custom")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_make_tensor_draws_in_its_range(dtype):
    t = cr.testing.make_tensor(50, 4, dtype=getattr(cr, dtype), low=2, high=5)
    assert t.shape == (50, 4) and t.dtype == getattr(cr, dtype)
    if dtype != "bool":
        assert bool((t >= 2).all()) and bool((t < 5).all())

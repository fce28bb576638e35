"""`Tensor.data` as PyTorch's: a tensor sharing the storage, outside the graph."""
import numpy
import torch

import chainrule as cr


def _pair():
    values = [1.0, -2.0, 3.0]
    return cr.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


def test_data_is_an_untracked_tensor_sharing_storage():
    p, _ = _pair()
    d = p.data
    assert isinstance(d, cr.Tensor) and not d.requires_grad and d.grad_fn is None
    d[0] = 5.0
    assert p.tolist() == [5.0, -2.0, 3.0]
    assert p.data.numpy() is not None and numpy.shares_memory(p.data.numpy(), p.numpy())


def test_manual_sgd_through_data_matches_torch():
    ours, theirs = _pair()
    for p in (ours, theirs):
        for _ in range(3):
            (p * p).sum().backward()
            p.data -= 0.1 * p.grad
            p.data.add_(1.0)
            p.grad.zero_()
    numpy.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)


def test_copy_and_assign_through_data():
    p, q = _pair()
    p.data.copy_(cr.tensor([0.0, 0.0, 1.0]))
    assert p.tolist() == [0.0, 0.0, 1.0] and p.requires_grad
    p.data = cr.tensor([7.0, 8.0, 9.0])
    assert p.tolist() == [7.0, 8.0, 9.0] and p.requires_grad and p.is_leaf
    p.data.mul_(2)
    assert p.tolist() == [14.0, 16.0, 18.0]


def test_array_is_the_raw_array():
    p, _ = _pair()
    assert isinstance(p.array, numpy.ndarray) and p.array is p.data.array


def test_number_conversions_and_format():
    loss = cr.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss:+.2f}" == "+0.12"
    assert float(loss) == float(torch.tensor(0.123456)) and int(cr.tensor(3.9)) == 3
    assert ["a", "b", "c"][cr.tensor(2)] == "c"
    assert numpy.asarray(cr.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert f"{cr.tensor([1.0, 2.0])}" == str(cr.tensor([1.0, 2.0]))
    try:
        ["a"][cr.tensor(0.0)]
    except TypeError as err:
        assert "integer" in str(err)
    else:
        raise AssertionError("a float tensor must not index a list")

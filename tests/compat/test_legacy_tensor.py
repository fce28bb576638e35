"""`cr.Tensor(...)` as PyTorch's legacy constructor `torch.Tensor(...)`: data become the
default float dtype, sizes give an uninitialised tensor, nothing gives an empty one."""
import numpy
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("data", [[1, 2, 3], [[1.5, 2.0]], [True, False], (4, 5),
                                  numpy.arange(4), numpy.ones((2, 2)), [[1, 2], [3, 4]]])
def test_data_become_the_default_float_dtype(data):
    ours, theirs = cr.Tensor(data), torch.Tensor(data)
    assert ours.dtype == theirs.numpy().dtype == numpy.float32
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_sizes_give_an_uninitialised_tensor_and_nothing_an_empty_one():
    for sizes in [(2, 3), (4,), (1, 0, 2)]:
        assert cr.Tensor(*sizes).shape == tuple(torch.Tensor(*sizes).shape)
        assert cr.Tensor(*sizes).dtype == numpy.float32
    assert cr.Tensor().shape == tuple(torch.Tensor().shape) == (0,)
    for name in ("FloatTensor", "LongTensor", "BoolTensor"):
        ours, theirs = getattr(cr, name)(), getattr(torch, name)()
        assert ours.shape == tuple(theirs.shape) == (0,) and ours.dtype.name in str(theirs.dtype)
    assert cr.FloatTensor(2, 3).dtype == numpy.float32 and cr.LongTensor(2).dtype == numpy.int64


def test_an_array_of_the_default_dtype_and_a_tensor_are_shared():
    array = numpy.zeros(3, dtype=numpy.float32)
    t = cr.Tensor(array)
    array[0] = 7.0
    assert t[0].item() == 7.0                     # torch.Tensor(ndarray) shares it too
    longs = cr.tensor([1, 2])
    assert cr.Tensor(longs).dtype == numpy.int64  # a tensor is taken as it is, like torch


def test_the_default_dtype_follows_set_default_dtype():
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.Tensor([1, 2]).dtype == numpy.float64
        assert cr.Tensor(2).dtype == numpy.float64
    finally:
        cr.set_default_dtype(cr.float32)


def test_a_lone_number_is_refused_as_in_torch():
    with pytest.raises(TypeError):
        torch.Tensor(2.5)
    with pytest.raises(TypeError, match=r"Tensor\(\).*float"):
        cr.Tensor(2.5)


def test_chainrule_keywords_still_choose_dtype_and_gradient():
    t = cr.Tensor(numpy.ones(2), dtype=cr.float64, requires_grad=True)
    assert t.dtype == numpy.float64 and t.requires_grad and t.is_leaf
    assert cr.Tensor([1, 2], dtype=cr.int64).dtype == numpy.int64


def test_isinstance_of_a_legacy_type_asks_for_its_dtype_as_torch():
    for make in (lambda m: m.FloatTensor([1]), lambda m: m.tensor([1]),
                 lambda m: m.tensor([1.0], dtype=m.float64), lambda m: m.zeros(2).bool()):
        ours, theirs = make(cr), make(torch)
        for name in ("FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor"):
            assert isinstance(ours, getattr(cr, name)) == isinstance(theirs,
                                                                     getattr(torch, name))


def test_new_is_the_legacy_constructor_with_the_tensors_dtype():
    for m in (cr, torch):
        x = m.zeros(2, dtype=m.float64)
        assert tuple(x.new(2, 3).shape) == (2, 3) and x.new(2, 3).dtype == x.dtype
        assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new([1, 2]).dtype == x.dtype
        assert tuple(x.new().shape) == (0,)
        assert tuple(x.new(x.size()).shape) == (2,)


def test_float32_matmul_precision_is_recorded_as_torch():
    for m in (cr, torch):
        assert m.get_float32_matmul_precision() == "highest"
        m.set_float32_matmul_precision("high")
        assert m.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="not one of"):
            m.set_float32_matmul_precision("low")
        assert m.get_float32_matmul_precision() == "high"
        m.set_float32_matmul_precision("highest")


@pytest.mark.filterwarnings("ignore")  # PyTorch deprecates set_default_tensor_type
def test_set_default_tensor_type_sets_the_default_dtype_as_pytorch():
    try:
        for t in ("DoubleTensor", "FloatTensor"):
            cr.set_default_tensor_type(getattr(cr, t))
            torch.set_default_tensor_type(getattr(torch, t))
            assert str(cr.tensor([1.5]).dtype) == \
                str(torch.tensor([1.5]).dtype).replace("torch.", "")
        cr.set_default_tensor_type("torch.DoubleTensor")
        assert cr.get_default_dtype() == cr.float64
        with pytest.raises(TypeError, match="floating-point"):
            cr.set_default_tensor_type(cr.LongTensor)
    finally:
        cr.set_default_tensor_type(cr.FloatTensor)
        torch.set_default_dtype(torch.float32)

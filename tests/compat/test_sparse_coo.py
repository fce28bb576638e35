"""Sparse COO tensors held densely (composites/sparse_coo.py): pytorch/examples' gcn and gat
build Cora's adjacency matrix with torch.sparse_coo_tensor and x.to_sparse(), and stopped
there; the same numbers and gradients as PyTorch's sparse tensors."""
import numpy
import pytest
import torch

import chainrule as cr

INDEX = numpy.array([[0, 1, 1, 2], [1, 0, 0, 2]])  # (1, 0) twice: the values add up
VALUES = numpy.array([1.0, 2.0, 3.0, 4.0], dtype=numpy.float32)


def test_sparse_coo_tensor_is_pytorchs_dense_matrix():
    ours = cr.sparse_coo_tensor(INDEX, cr.tensor(VALUES), (3, 4))
    theirs = torch.sparse_coo_tensor(INDEX, torch.tensor(VALUES), (3, 4), check_invariants=True).to_dense()
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.shape == (3, 4) and ours.dtype == cr.float32


def test_size_dtype_and_self_loops_as_gcn_builds_them():
    ours = cr.eye(3) + cr.sparse_coo_tensor(INDEX, cr.ones(4), (3, 3), dtype=cr.int64)
    theirs = torch.eye(3) + torch.sparse_coo_tensor(INDEX, torch.ones(4), (3, 3), check_invariants=True,
                                                    dtype=torch.int64)
    numpy.testing.assert_array_equal(ours.numpy(), theirs.to_dense().numpy())
    inferred = cr.sparse_coo_tensor(INDEX, cr.tensor(VALUES))
    theirs = torch.sparse_coo_tensor(INDEX, torch.tensor(VALUES), check_invariants=True)
    assert inferred.shape == tuple(theirs.shape)


def test_gradient_reaches_the_values_as_in_pytorch():
    ours = cr.tensor(VALUES, requires_grad=True)
    (cr.sparse_coo_tensor(INDEX, ours, (3, 3)) @ cr.arange(6.0).reshape(3, 2)).sum().backward()
    theirs = torch.tensor(VALUES, requires_grad=True)
    torch.sparse.mm(torch.sparse_coo_tensor(INDEX, theirs, (3, 3), check_invariants=True),
                    torch.arange(6.0).reshape(3, 2)).sum().backward()
    numpy.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_to_sparse_to_dense_and_spmm_keep_the_numbers():
    x = numpy.random.default_rng(0).random((3, 3), dtype=numpy.float32)
    sparse = cr.tensor(x).to_sparse()
    assert not sparse.is_sparse  # held densely, and says so
    product = cr.spmm(sparse, cr.tensor(x)).to_dense()
    expected = torch.spmm(torch.tensor(x).to_sparse(), torch.tensor(x)).to_dense()
    numpy.testing.assert_allclose(product.numpy(), expected.numpy(), rtol=1e-6)
    assert cr.tensor(x).to_sparse_coo().shape == (3, 3)


def test_indices_that_do_not_match_the_values_fail_in_one_line():
    with pytest.raises(ValueError, match="sparse_coo_tensor: indices of shape"):
        cr.sparse_coo_tensor(INDEX, cr.ones(3), (3, 3))


@pytest.mark.parametrize("name", ["empty", "zeros", "ones", "rand", "randn"])
def test_factories_take_the_shape_by_keyword(name):
    """gat: nn.Parameter(torch.empty(size=(in_features, n_hidden * n_heads)))."""
    assert getattr(cr, name)(size=(2, 3)).shape == tuple(getattr(torch, name)(size=(2, 3)).shape)

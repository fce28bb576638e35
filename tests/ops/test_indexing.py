"""Indexing and gather (ops/indexing.py): the gradient of a read is a scatter-add, so
repeated indices accumulate."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

from .harness import (
    case,
    op_table_tests,
)

S = (4, 5)

CASES = [
    case("int", lambda m, x: x[1] ** 2, S),
    case("int-negative", lambda m, x: x[-1] ** 2, S),
    case("int-int", lambda m, x: x[2, -3] * x, S),
    case("slice", lambda m, x: x[:, 1:3] ** 2, S),
    case("slice-step", lambda m, x: x[1:, ::2] ** 2, S),
    case("ellipsis", lambda m, x: x[..., 0] ** 2, (2, 3, 4)),
    case("none", lambda m, x: x[None, :, 1] ** 2, S),
    case("int-list-repeated", lambda m, x: x[[0, 0, 2, 0]] ** 2, S),
    case("int-lists-repeated-pairs", lambda m, x: x[[0, 1, 0, 0], [1, 1, 1, 4]] ** 2, S),
    case("int-array-2d", lambda m, x: x[m.tensor([[0, 1], [1, 1]])] ** 2, S),
    case("tensor-key-repeated", lambda m, x: x[m.tensor([3, 0, 3, 3])] * 2, S),
    case("tensor-key-and-slice", lambda m, x: x[m.tensor([0, 2, 2]), 1:4] ** 2, S),
    case("slice-and-int-list", lambda m, x: x[1:3, [4, 0, 4]] ** 2, S),
    case("negative-int-list", lambda m, x: x[[-1, -1, 0]] ** 2, S),
    case("bool-mask", lambda m, x: x[x > 0] ** 2, S, kinks=(0,)),
    case("bool-mask-rows", lambda m, x: x[m.tensor([True, False, True, True])] ** 2, S),
    case("bool-list", lambda m, x: x[[True, False, True, False]] ** 2, S),
    case("chained", lambda m, x: x[1:][:, 2][[0, 0, 1]] ** 2, S),
    case("read-twice", lambda m, x: x[0] * x[:, 0][:, None], S),
    # gather: out[i][j] = x[i][index[i][j]] (dim=1), repeated indices accumulate
    case("gather-dim1", lambda m, x: m.gather(x, 1, m.tensor([[0, 0, 4], [1, 3, 3],
                                                               [2, 2, 2], [4, 0, 1]])) ** 2, S),
    case("gather-dim0", lambda m, x: x.gather(0, m.tensor([[3, 0, 0, 1, 1]])) ** 2, S),
    case("gather-dim-neg", lambda m, x: m.gather(x, -1, m.tensor([[1], [0], [4], [4]])) ** 2,
         S),
    case("gather-smaller-index", lambda m, x: m.gather(x, 1, m.tensor([[0, 2], [1, 1]])) ** 2,
         S),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


def test_repeated_indices_accumulate_exact_counts() -> None:
    x = cr.zeros(3, requires_grad=True)
    x[[0, 2, 0, 0, 2]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 2.0]


def test_gradient_of_a_slice_lands_in_place_with_zeros_elsewhere() -> None:
    x = cr.zeros(2, 4, requires_grad=True)
    x[1, 1:3].sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]]


def test_index_a_non_grad_tensor_builds_no_graph() -> None:
    y = cr.arange(6).reshape(2, 3)[:, 1]
    assert y.tolist() == [1, 4] and y.grad_fn is None


def test_setitem_on_a_leaf_that_requires_grad_is_refused_except_under_no_grad() -> None:
    x = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation"):
        x[0] = 1.0
    with cr.no_grad():
        x[0] = 1.0  # as PyTorch: how an initializer writes into a weight
    assert x.tolist() == [1.0, 0.0, 0.0] and x.is_leaf and x.requires_grad
    y = cr.zeros(3)
    y[cr.tensor([0, 2])] = 5.0
    assert y.tolist() == [5.0, 0.0, 5.0]


def test_gather_index_values_match_torch() -> None:
    x = numpy.arange(12.0).reshape(3, 4)
    index = [[3, 3, 0], [1, 2, 2], [0, 0, 0]]
    got = cr.gather(cr.tensor(x), 1, cr.tensor(index))
    assert got.tolist() == torch.gather(torch.tensor(x), 1, torch.tensor(index)).tolist()


def _decoder_outputs(m):
    """bentrevett's seq2seq: `outputs = zeros(...)`, then `outputs[t] = output` each step."""
    w = m.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    h = m.tensor([1.0, -0.5])
    outputs = m.zeros(3, 2)
    for t in range(3):
        h = m.tanh(w @ h)
        outputs[t] = h
    outputs[1:, 0] = outputs[1:, 0] * 3  # a non-leaf written again, in place
    (outputs ** 2).sum().backward()
    return outputs.detach().numpy(), w.grad.numpy(), outputs.requires_grad


def _autoregressive(m):
    """nflib's IAF: each step reads the whole tensor (x.clone()) and then writes one column,
    so earlier steps must keep the node x had when they read it."""
    z = m.tensor([[0.3, -1.2], [0.8, 0.1]])
    w = m.tensor([[0.4, -0.3, 0.2, 0.1], [0.5, 0.6, -0.7, 0.3]], requires_grad=True)
    x = m.zeros_like(z)
    for i in range(2):
        s, t = (x.clone() @ w).split(2, dim=1)
        x[:, i] = (z[:, i] - t[:, i]) * m.exp(-s[:, i])
    (x ** 2).sum().backward()
    return x.detach().numpy(), w.grad.numpy()


@pytest.mark.parametrize("program", [_decoder_outputs, _autoregressive])
def test_setitem_inside_the_graph_carries_gradients_as_pytorch(program) -> None:
    for ours, theirs in zip(program(cr), program(torch)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-6)

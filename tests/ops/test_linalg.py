"""matmul (ops/linalg.py, with 1-D promotion in composites/functions.py): 1-D, 2-D, batched and
broadcast; batch shapes drawn by hypothesis."""
from __future__ import annotations

import numpy
import torch
from hypothesis import given, settings
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr

from .harness import (
    assert_close,
    case,
    op_table_tests,
)

CASES = [
    case("vec-vec", lambda m, a, b: a @ b, (3,), (3,)),
    case("vec-mat", lambda m, a, b: m.matmul(a, b), (3,), (3, 4)),
    case("mat-vec", lambda m, a, b: a @ b, (2, 3), (3,)),
    case("mat-mat", lambda m, a, b: a @ b, (2, 3), (3, 4)),
    case("mat-mat-method", lambda m, a, b: a.matmul(b), (4, 3), (3, 2)),
    case("batched", lambda m, a, b: a @ b, (5, 2, 3), (5, 3, 4)),
    case("batched-mat", lambda m, a, b: a @ b, (5, 2, 3), (3, 4)),
    case("mat-batched", lambda m, a, b: a @ b, (2, 3), (5, 3, 4)),
    case("batched-broadcast", lambda m, a, b: m.matmul(a, b), (2, 1, 2, 3), (4, 3, 5)),
    case("vec-batched", lambda m, a, b: a @ b, (3,), (2, 3, 4)),
    case("batched-vec", lambda m, a, b: a @ b, (2, 4, 3), (3,)),
    case("self-gram", lambda m, x: x @ x.T, (3, 4)),
    case("chain", lambda m, a, b, c: (a @ b).tanh() @ c, (2, 3), (3, 4), (4, 2)),
]


(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4,
                                            max_side=3))
def test_matmul_over_broadcast_batch_shapes_matches_torch(shapes) -> None:
    generator = numpy.random.default_rng(len(shapes.result_shape))
    arrays = [numpy.asarray(generator.standard_normal(s)) for s in shapes.input_shapes]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, expected = xs[0] @ xs[1], ts[0] @ ts[1]
    assert got.shape == shapes.result_shape
    assert_close(got, expected, numpy.float64, f"matmul {shapes.input_shapes}")
    upstream = numpy.asarray(generator.standard_normal(shapes.result_shape))
    got.backward(cr.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert_close(x.grad, t.grad, numpy.float64, f"matmul {shapes.input_shapes} d/dx{i}")

"""A result's node prints under PyTorch's name (`grad_fn=<NllLossBackward0>`): the op's
own (autograd/op.py: `torch_name`, `backward_name`) or the one the public function gives it
(`named`, `pytorch_node`)."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr

rng = numpy.random.default_rng(0)
X, Y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
V, W, B = rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal(2)
IMAGES = rng.standard_normal((2, 3, 8, 8))
THETA = rng.standard_normal((2, 2, 3))
LABELS = numpy.array([0, 1, 2, 0])
PROBABILITIES = rng.random((4, 3)).astype(numpy.float32)

CASES = {  # fn(m, x, y, v, w, b, images, theta), written once for both libraries
    "x + 1": lambda m, x, y, *_: x + 1,
    "1 + x": lambda m, x, y, *_: 1 + x,
    "2 * x": lambda m, x, y, *_: 2 * x,
    "1 - x": lambda m, x, y, *_: 1 - x,
    "2 / x": lambda m, x, y, *_: 2 / x,
    "x ** 2": lambda m, x, y, *_: x ** 2,
    "x ** y": lambda m, x, y, *_: x.abs() ** y,
    "2 ** x": lambda m, x, y, *_: 2 ** x,
    "sum": lambda m, x, *_: x.sum(),
    "sum(1)": lambda m, x, *_: x.sum(1),
    "mean": lambda m, x, *_: x.mean(),
    "mean(1, keepdim)": lambda m, x, *_: x.mean(1, keepdim=True),
    "max": lambda m, x, *_: x.max(),
    "min": lambda m, x, *_: x.min(),
    "max(1)": lambda m, x, *_: x.max(1)[0],
    "min(1)": lambda m, x, *_: x.min(1).values,
    "maximum": lambda m, x, y, *_: m.maximum(x, y),
    "amax": lambda m, x, *_: x.amax(1),
    "std": lambda m, x, *_: x.std(),
    "var(1)": lambda m, x, *_: x.var(1),
    "norm": lambda m, x, *_: x.norm(),
    "logsumexp": lambda m, x, *_: x.logsumexp(1),
    "clamp": lambda m, x, *_: x.clamp(0, 1),
    "view": lambda m, x, *_: x.view(12),
    "flatten": lambda m, x, *_: x.flatten(),
    "t": lambda m, x, *_: x.t(),
    "T": lambda m, x, *_: x.T,
    "mT": lambda m, x, *_: x.mT,
    "transpose": lambda m, x, *_: x.transpose(0, 1),
    "permute": lambda m, x, *_: x.permute(1, 0),
    "unsqueeze": lambda m, x, *_: x.unsqueeze(0),
    "squeeze(0)": lambda m, x, *_: x.unsqueeze(0).squeeze(0),
    "squeeze()": lambda m, x, *_: x.unsqueeze(0).squeeze(),
    "x[0]": lambda m, x, *_: x[0],
    "x[0:2]": lambda m, x, *_: x[0:2],
    "x[:, 0]": lambda m, x, *_: x[:, 0],
    "x[0, 1:]": lambda m, x, *_: x[0, 1:],
    "x[[0, 1]]": lambda m, x, *_: x[m.tensor([0, 1])],
    "x[x > 0]": lambda m, x, *_: x[x > 0],
    "x[None]": lambda m, x, *_: x[None],
    "narrow": lambda m, x, *_: x.narrow(0, 1, 2),
    "split": lambda m, x, *_: x.split(2)[1],
    "chunk": lambda m, x, *_: x.chunk(2)[0],
    "split sizes": lambda m, x, *_: x.split([1, 3])[1],
    "unbind": lambda m, x, *_: x.unbind(0)[1],
    "index_select": lambda m, x, *_: x.index_select(0, m.tensor([0, 2])),
    "masked_fill": lambda m, x, *_: x.masked_fill(x > 0, 0.0),
    "gather": lambda m, x, *_: x.gather(1, m.zeros(4, 1, dtype=m.long)),
    "repeat": lambda m, x, *_: x.repeat(2, 1),
    "flip": lambda m, x, *_: x.flip(0),
    "roll": lambda m, x, *_: x.roll(1, 0),
    "tril": lambda m, x, *_: x.tril(),
    "triu": lambda m, x, *_: x.triu(),
    "double": lambda m, x, *_: x.double(),
    "cumsum": lambda m, x, *_: x.cumsum(1),
    "matmul 2-d": lambda m, x, y, v, w, *_: x @ w.t(),
    "matmul 1-d, 2-d": lambda m, x, y, v, w, *_: v @ w.t(),
    "matmul 2-d, 1-d": lambda m, x, y, v, w, *_: w @ v,
    "matmul 3-d": lambda m, x, y, v, w, *_: x.unsqueeze(0) @ w.t(),
    "mm": lambda m, x, y, v, w, *_: m.mm(x, w.t()),
    "bmm": lambda m, x, y, v, w, *_: m.bmm(x.unsqueeze(0), w.t().unsqueeze(0)),
    "dot": lambda m, x, y, v, *_: m.dot(v, v),
    "mv": lambda m, x, y, v, w, *_: m.mv(w, v),
    "linear": lambda m, x, y, v, w, b, *_: m.nn.functional.linear(x, w, b),
    "linear, no bias": lambda m, x, y, v, w, *_: m.nn.functional.linear(x, w),
    "linear 1-d": lambda m, x, y, v, w, b, *_: m.nn.functional.linear(v, w, b),
    "log_softmax": lambda m, x, *_: m.nn.functional.log_softmax(x, 1),
    "nll_loss": lambda m, x, *_: m.nn.functional.nll_loss(
        m.nn.functional.log_softmax(x, 1), m.tensor(LABELS)),
    "cross_entropy": lambda m, x, *_: m.nn.functional.cross_entropy(x, m.tensor(LABELS)),
    "mse_loss": lambda m, x, y, *_: m.nn.functional.mse_loss(x, y),
    "binary_cross_entropy": lambda m, x, *_: m.nn.functional.binary_cross_entropy(
        x.sigmoid(), m.tensor(PROBABILITIES)),
    "binary_cross_entropy_with_logits":
        lambda m, x, *_: m.nn.functional.binary_cross_entropy_with_logits(
            x, m.tensor(PROBABILITIES)),
    "smooth_l1_loss": lambda m, x, y, *_: m.nn.functional.smooth_l1_loss(x, y),
    "huber_loss": lambda m, x, y, *_: m.nn.functional.huber_loss(x, y),
    "elu": lambda m, x, *_: m.nn.functional.elu(x),
    "softplus": lambda m, x, *_: m.nn.functional.softplus(x),
    "silu": lambda m, x, *_: m.nn.functional.silu(x),
    "hardtanh": lambda m, x, *_: m.nn.functional.hardtanh(x),
    "layer_norm": lambda m, x, *_: m.nn.functional.layer_norm(x, (3,)),
    "pad": lambda m, x, *_: m.nn.functional.pad(x, (1, 1)),
    "conv2d": lambda m, *a: m.nn.functional.conv2d(a[5], a[5][:2, :, :3, :3]),
    "conv1d": lambda m, *a: m.nn.functional.conv1d(a[5][:, :, 0], a[5][:2, :, 0, :3]),
    "conv_transpose2d": lambda m, *a: m.nn.functional.conv_transpose2d(
        a[5][:, :2], a[5][:, :2, :3, :3], a[0][0, :2]),
    "max_pool2d": lambda m, *a: m.nn.functional.max_pool2d(a[5], 2),
    "avg_pool2d": lambda m, *a: m.nn.functional.avg_pool2d(a[5], 2),
    "batch_norm": lambda m, *a: m.nn.functional.batch_norm(
        a[5], None, None, training=True),
    "group_norm": lambda m, *a: m.nn.functional.group_norm(a[5], 1),
    "diag 1-d": lambda m, x, y, v, *_: m.diag(v),
    "diag 2-d": lambda m, x, *_: m.diag(x[:3]),
    "interpolate nearest": lambda m, *a: m.nn.functional.interpolate(a[5], scale_factor=2),
    "interpolate bilinear": lambda m, *a: m.nn.functional.interpolate(
        a[5], scale_factor=2, mode="bilinear"),
    "lstm output": lambda m, x, *_: m.nn.LSTM(3, 2)(x.unsqueeze(1))[0],
    "lstm state": lambda m, x, *_: m.nn.LSTM(3, 2)(x.unsqueeze(1))[1][0],
    "gru output": lambda m, x, *_: m.nn.GRU(3, 2)(x.unsqueeze(1))[0],
    "affine_grid": lambda m, *a: m.nn.functional.affine_grid(a[6], (2, 3, 4, 4),
                                                             align_corners=False),
    "grid_sample": lambda m, *a: m.nn.functional.grid_sample(
        a[5], m.nn.functional.affine_grid(a[6], (2, 3, 4, 4), align_corners=False),
        align_corners=False),
}


def _inputs(m):
    return [m.tensor(a, dtype=m.float32, requires_grad=True)
            for a in (X, Y, V, W, B, IMAGES, THETA)]


@pytest.mark.parametrize("name", CASES)
def test_grad_fn_prints_pytorchs_name(name):
    ours = CASES[name](cr, *_inputs(cr)).grad_fn
    theirs = CASES[name](torch, *_inputs(torch)).grad_fn
    assert ours.backward_name == theirs.name()
    assert repr(ours).startswith(f"<{theirs.name()} object at 0x")


def test_tensor_repr_names_the_node():
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    assert repr((x * 2).sum()) == "tensor(-1., grad_fn=<SumBackward0>)"


def test_reflected_operators_keep_the_tensor_first_in_next_functions():
    for m in (cr, torch):
        x = m.tensor([0.5, -1.0], requires_grad=True)
        for y in (2 * x, 1 + x):
            node, _ = y.grad_fn.next_functions[0]
            assert type(node).__name__ == "AccumulateGrad", m.__name__
            assert y.grad_fn.next_functions[1][0] is None


def test_a_result_returned_unchanged_keeps_its_node():
    x = cr.tensor([[0.5, -1.0]], requires_grad=True) * 2
    assert x.squeeze(1).grad_fn is x.grad_fn and x.grad_fn.backward_name == "MulBackward0"

"""The stacked, transposed steps of kernels/recurrent.py (Note [transposed steps]): where
each step's operands [x_t; h_{t-1}; 1] live, and the weight gradient summed over all
steps in one product. (The layers themselves are checked against PyTorch in
tests/ops/test_recurrent.py.)"""
from __future__ import annotations

import numpy
import pytest

from chainrule.kernels import halves, recurrent

T, B, I, H = 5, 3, 4, 6


def arrays(bias, seed=0):
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((T, B, I))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w_ih, w_hh = rng.standard_normal((4 * H, I)) * 0.3, rng.standard_normal((4 * H, H)) * 0.3
    b_ih, b_hh = (rng.standard_normal(4 * H), rng.standard_normal(4 * H)) if bias else (None,) * 2
    return x, h0, c0, w_ih, w_hh, b_ih, b_hh


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_each_step_read_its_input_the_previous_state_and_a_bias_row(reverse, bias):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(bias)
    out, (tape,) = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    operands = tape.operands
    inputs = recurrent.step_inputs(operands, reverse)
    assert inputs.shape == (T, I + H + bias, B)
    walk = list(recurrent.order(T, reverse))
    for k, t in enumerate(walk):
        previous = h0 if k == 0 else out[walk[k - 1]]
        numpy.testing.assert_array_equal(inputs[t, :I], x[t].T)
        numpy.testing.assert_array_equal(inputs[t, I:I + H], previous.T)
        numpy.testing.assert_array_equal(inputs[t, I + H:], numpy.ones((int(bias), B)))
    hs = recurrent.states(operands, I, H, reverse)
    numpy.testing.assert_array_equal(hs.transpose(0, 2, 1), out[:T])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_stacked_grads_is_the_sum_of_every_steps_products(reverse, bias):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(bias)
    operands = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)[1][0].operands
    dpre = numpy.random.default_rng(1).standard_normal((T, 4 * H, B))
    dx, dw = recurrent.stacked_grads(dpre, operands, w_ih, reverse, True)
    dw_ih, dw_hh, db = dw[:, :I], dw[:, I:I + H], dw[:, I + H:]
    inputs = recurrent.step_inputs(operands, reverse)
    numpy.testing.assert_allclose(dw_ih, sum(dpre[t] @ x[t] for t in range(T)), rtol=1e-12)
    numpy.testing.assert_allclose(dw_hh, sum(dpre[t] @ inputs[t, I:I + H].T for t in range(T)),
                                  rtol=1e-12)
    numpy.testing.assert_allclose(dx, numpy.stack([dpre[t].T @ w_ih for t in range(T)]),
                                  rtol=1e-12)
    numpy.testing.assert_allclose(db.T, dpre.sum(axis=(0, 2))[None][:int(bias)], rtol=1e-12)
    assert recurrent.stacked_grads(dpre, operands, w_ih, reverse, False)[0] is None


@pytest.mark.parametrize("reverse", [False, True])
def test_a_batch_split_in_halves_gives_what_the_whole_batch_gives(monkeypatch, reverse):
    """Large sequences run each half of the batch on its own thread (kernels/halves);
    B = 3 splits into 1 and 2 examples."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(True)
    grad = numpy.random.default_rng(2).standard_normal((T + 1, B, H))
    monkeypatch.setattr(halves, "MIN_SPLIT", 0)  # these arrays are small
    monkeypatch.setattr(halves, "blas_threads", lambda: 2)  # as on a 2-core machine
    results = {}
    for split_work in (1 << 62, 0):
        monkeypatch.setattr(recurrent, "SPLIT_WORK", split_work)
        out, tapes = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
        grads = recurrent.lstm_backward(grad, c0, w_ih, w_hh, tapes, reverse, True)
        results[len(tapes)] = out, grads, recurrent.step_gradients(grads.dpre)
    (out1, grads1, steps1), (out2, grads2, steps2) = results[1], results[2]
    numpy.testing.assert_allclose(out2, out1, rtol=1e-12)
    numpy.testing.assert_allclose(steps2, steps1, rtol=1e-12)
    for name in ("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db"):
        numpy.testing.assert_allclose(getattr(grads2, name), getattr(grads1, name),
                                      rtol=1e-12, atol=1e-14, err_msg=name)


def test_gate_blocks_and_sigmoid_rows_are_views_of_the_right_rows():
    a = numpy.arange(4 * H * B, dtype=float).reshape(4 * H, B)
    for k, block in enumerate(recurrent.gate_blocks(a)):  # i, f, g, o
        assert block.flags.c_contiguous and numpy.shares_memory(block, a)
        numpy.testing.assert_array_equal(block, a[k * H:(k + 1) * H])
    if_rows, o_rows = recurrent.sigmoid_rows(a)
    numpy.testing.assert_array_equal(if_rows, a[:2 * H])
    numpy.testing.assert_array_equal(o_rows, a[3 * H:])
    steps = numpy.stack([a, a + 1])  # (T, 4H, B): the gates on axis 1
    numpy.testing.assert_array_equal(recurrent.sigmoid_rows(steps, axis=1)[1], steps[:, 3 * H:])
    numpy.testing.assert_array_equal(recurrent.gate_blocks(steps)[1, 2], steps[1, 2 * H:3 * H])


@pytest.mark.parametrize("batch, hidden", [(1, 3), (3, 1)])
def test_backward_leaves_the_incoming_gradient_alone(batch, hidden):
    """With one example or one hidden unit the transposed gradient is contiguous as it
    comes; the backward must still work on a copy of it."""
    rng = numpy.random.default_rng(3)
    x = rng.standard_normal((T, batch, I))
    h0, c0 = numpy.zeros((batch, hidden)), numpy.zeros((batch, hidden))
    w_ih, w_hh = rng.standard_normal((4 * hidden, I)), rng.standard_normal((4 * hidden, hidden))
    out, tapes = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, None, None, False)
    grad = rng.standard_normal(out.shape)
    kept = grad.copy()
    recurrent.lstm_backward(grad, c0, w_ih, w_hh, tapes, False, True)
    numpy.testing.assert_array_equal(grad, kept)

"""The stacked, transposed steps of kernels/recurrent.py (Note [transposed steps]): where
each step's operands [x_t; h_{t-1}; 1] live, the gates' order inside the kernel, the
backward's terms, computed a chunk of steps at a time, and the weight gradient summed
over all steps in one product. (The layers themselves are checked against PyTorch in
tests/ops/test_recurrent.py.)"""
from __future__ import annotations

import contextlib

import numpy
import pytest

from chainrule.kernels import recurrent

T, B, I, H = 5, 3, 4, 6


def arrays(bias, seed=0):
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((T, B, I))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w_ih, w_hh = rng.standard_normal((4 * H, I)) * 0.3, rng.standard_normal((4 * H, H)) * 0.3
    b_ih, b_hh = (rng.standard_normal(4 * H), rng.standard_normal(4 * H)) if bias else (None,) * 2
    return x, h0, c0, w_ih, w_hh, b_ih, b_hh


def sigmoid(z):
    return 1 / (1 + numpy.exp(-z))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_each_step_read_its_input_the_previous_state_and_a_bias_row(reverse, bias):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(bias)
    out, tape = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    inputs = recurrent.entering(tape.operands, reverse)
    assert inputs.shape == (T, I + H + bias, B)
    walk = list(recurrent.order(T, reverse))
    for k, t in enumerate(walk):
        previous = h0 if k == 0 else out[walk[k - 1]]
        numpy.testing.assert_array_equal(inputs[t, :I], x[t].T)
        numpy.testing.assert_array_equal(inputs[t, I:I + H], previous.T)
        numpy.testing.assert_array_equal(inputs[t, I + H:], numpy.ones((int(bias), B)))
    hs = recurrent.leaving(tape.operands, reverse)[:, I:I + H]
    numpy.testing.assert_array_equal(hs.transpose(0, 2, 1), out[:T])


@pytest.mark.parametrize("reverse", [False, True])
def test_the_tape_holds_each_steps_backward_terms(reverse):
    """What `backward_terms` leaves, against the gates computed here from their formulas."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(True)
    out, tape = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    h, c = h0, c0
    for t in recurrent.order(T, reverse):
        pre = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = sigmoid(pre[:, :H]), sigmoid(pre[:, H:2 * H]), numpy.tanh(pre[:, 2 * H:3 * H]), \
            sigmoid(pre[:, 3 * H:])
        c_prev, c = c, f * c + i * g
        h = o * numpy.tanh(c)
        numpy.testing.assert_allclose(out[t], h, rtol=1e-12)
        expected = [numpy.tanh(c) * o * (1 - o), g * i * (1 - i), c_prev * f * (1 - f),
                    i * (1 - g * g)]  # o, i, f, g: the kernel's order
        for got, want in zip(recurrent.gate_blocks(tape.terms)[t], expected):
            numpy.testing.assert_allclose(got, want.T, rtol=1e-10, atol=1e-15)
        numpy.testing.assert_allclose(tape.cell_terms[t], (o * (1 - numpy.tanh(c) ** 2)).T,
                                      rtol=1e-10)
        numpy.testing.assert_allclose(tape.forget[t], f.T, rtol=1e-12)
    numpy.testing.assert_allclose(out[T], c, rtol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_stacked_grads_is_the_sum_of_every_steps_products(bias):
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(bias)
    operands = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, False)[1].operands
    inputs = recurrent.entering(operands, False)
    dpre = numpy.random.default_rng(1).standard_normal((T, 4 * H, B))
    dx = numpy.empty((T, B, I))
    dw = recurrent.stacked_grads(dpre, inputs, w_ih, dx)
    dw_ih, dw_hh, db = dw[:, :I], dw[:, I:I + H], dw[:, I + H:]
    numpy.testing.assert_allclose(dw_ih, sum(dpre[t] @ x[t] for t in range(T)), rtol=1e-12)
    numpy.testing.assert_allclose(dw_hh, sum(dpre[t] @ inputs[t, I:I + H].T for t in range(T)),
                                  rtol=1e-12)
    numpy.testing.assert_allclose(dx, numpy.stack([dpre[t].T @ w_ih for t in range(T)]),
                                  rtol=1e-12)
    numpy.testing.assert_allclose(db.T, dpre.sum(axis=(0, 2))[None][:int(bias)], rtol=1e-12)


def run_through(x, h0, c0, w_ih, w_hh, b_ih, b_hh, grad, reverse):
    out, tape = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    grads = recurrent.lstm_backward(grad, w_ih, w_hh, tape, reverse, True)
    return out, grads, recurrent.step_gradients(grads.dpre)


@pytest.mark.parametrize("chunk", [1, 2])
@pytest.mark.parametrize("reverse", [False, True])
def test_chunks_of_any_length_give_what_the_whole_sequence_gives(monkeypatch, reverse, chunk):
    """The forward hands its steps to `backward_terms` CHUNK at a time (T = 5: 1 + 1 + ...,
    2 + 2 + 1, one chunk of 5)."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(True)
    grad = numpy.random.default_rng(2).standard_normal((T + 1, B, H))
    results = []
    for size in (T, chunk):
        monkeypatch.setattr(recurrent, "CHUNK", size)
        results.append(run_through(x, h0, c0, w_ih, w_hh, b_ih, b_hh, grad, reverse))
    (out1, grads1, steps1), (out2, grads2, steps2) = results
    numpy.testing.assert_array_equal(out2, out1)
    numpy.testing.assert_array_equal(steps2, steps1)
    for name in ("dx", "dh0", "dc0", "dw_ih", "dw_hh", "db"):
        numpy.testing.assert_array_equal(getattr(grads2, name), getattr(grads1, name),
                                         err_msg=name)


def test_step_gradients_are_in_pytorchs_gate_order():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(True)
    grad = numpy.zeros((T + 1, B, H))
    grad[T - 1] = 1  # dL/dh of the last step only: its dpre_o = tanh c ⊙ o(1 - o)
    out, grads, steps = run_through(x, h0, c0, w_ih, w_hh, b_ih, b_hh, grad, False)
    pre = x[T - 1] @ w_ih.T + b_ih + out[T - 2] @ w_hh.T + b_hh
    o = sigmoid(pre[:, 3 * H:])
    assert steps.shape == (T, B, 4 * H)
    numpy.testing.assert_allclose(steps[T - 1, :, 3 * H:], numpy.tanh(out[T]) * o * (1 - o),
                                  rtol=1e-10)


def test_kernel_order_puts_the_sigmoid_gates_together_and_back():
    a = numpy.arange(4 * H * B, dtype=float).reshape(4 * H, B)
    i, f, g, o = (a[k * H:(k + 1) * H] for k in range(4))
    kernel = recurrent.kernel_order(a)
    for block, want in zip(recurrent.gate_blocks(kernel), (o, i, f, g)):
        assert block.flags.c_contiguous and numpy.shares_memory(block, kernel)
        numpy.testing.assert_array_equal(block, want)
    numpy.testing.assert_array_equal(recurrent.torch_order(kernel), a)
    steps = numpy.stack([a, a + 1])  # (T, 4H, B): the gates on axis 1
    numpy.testing.assert_array_equal(recurrent.kernel_order(steps, axis=1)[1], kernel + 1)


@pytest.mark.parametrize("batch, hidden", [(1, 3), (3, 1)])
def test_backward_leaves_the_incoming_gradient_and_the_tape_alone(batch, hidden):
    """With one example or one hidden unit the transposed gradient is contiguous as it
    comes; the backward must still work on a copy of it. A second backward through the
    same tape (retain_graph) gives the same gradients."""
    rng = numpy.random.default_rng(3)
    x = rng.standard_normal((T, batch, I))
    h0, c0 = numpy.zeros((batch, hidden)), numpy.zeros((batch, hidden))
    w_ih, w_hh = rng.standard_normal((4 * hidden, I)), rng.standard_normal((4 * hidden, hidden))
    out, tape = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, None, None, False)
    grad = rng.standard_normal(out.shape)
    kept = grad.copy()
    first = recurrent.lstm_backward(grad, w_ih, w_hh, tape, False, True)
    numpy.testing.assert_array_equal(grad, kept)
    second = recurrent.lstm_backward(grad, w_ih, w_hh, tape, False, True)
    for name in ("dx", "dh0", "dc0", "dw_ih", "dw_hh"):
        numpy.testing.assert_array_equal(getattr(second, name), getattr(first, name))


@pytest.mark.parametrize("busy", [True, False])
def test_the_step_loops_hold_the_blas_to_one_thread_on_a_busy_machine(monkeypatch, busy):
    """On a busy machine a two-thread product's threads wait for each other at the end of
    every step (Note [transposed steps]); quiet, the loops leave the BLAS's threads alone
    (these tiny products are below `threads.OPENBLAS_ALONE`)."""
    held = []

    @contextlib.contextmanager
    def one_thread():
        held.append(True)
        yield
    monkeypatch.setattr(recurrent, "busy", lambda: busy)
    monkeypatch.setattr(recurrent, "one_blas_thread", one_thread)
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = arrays(True)
    run_through(x, h0, c0, w_ih, w_hh, b_ih, b_hh, numpy.ones((T + 1, B, H)), False)
    assert held == ([True, True] if busy else [])

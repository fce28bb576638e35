"""The fused recurrent layers' loops on arrays: every step of an LSTM, GRU or plain RNN
over a whole sequence, forward and backward (backpropagation through time), with the
gate arithmetic written in place (`out=`) on small per-step arrays.

The formulas each loop computes sit beside the ops in chainrule.ops.recurrent; what is
here is how they are computed fast. Layout of the arguments as PyTorch: x (T, B, I)
time-major, h0 and c0 (B, H), W_ih (G·H, I), W_hh (G·H, H), the G gates stacked in
PyTorch's order (LSTM i, f, g, o; GRU r, z, n).

Note [transposed steps] (LSTM). A step is ONE matrix product W [x_t; h_{t-1}; 1]
with the stacked weights W = [W_ih | W_hh | b_ih + b_hh] (G·H, K), K = I + H (+ 1 with a
bias), and the state is kept transposed: one row per hidden unit, one column per example.
Measured at W6's sizes (B 64, I 64, H 128), one thread:
- The gates are contiguous blocks of rows, so the gate arithmetic runs on whole arrays; as
  (B, H) column blocks of a (B, 4H) array they were strided, and a ufunc over one took
  about 6 µs instead of 2.
- The product needs no projection of the inputs beforehand, no sum of an x- and an h-part
  and no pass for the bias: 102 µs a step for K = 193, where the h-only product took 67 µs
  and the projection of all 50 steps at once ((3200, 64)·(64, 512)) 3 ms more, at half
  the FLOP rate.
- Each step writes h_t straight into the h rows of the operands the next step reads
  (`step_operands`), and those operands are what the weight gradient needs: after the
  backward loop, [dW_ih | dW_hh | db] = Σ_t dpre_t [x_t; h_{t-1}; 1]ᵀ is ONE product over
  all steps and examples (`stacked_grads`), after one transposing copy of each factor.
  Laying both out for that product from the start ((K, T + 1, B) operands, (4H, T, B)
  gradients) spared the copies but made every step write strided rows, and the LSTM step
  was 5% slower; summing the product in chunks of 8 steps inside the backward loop, while
  they sit in cache, gained nothing measurable.
On W6 as a whole (forward and backward of the LSTM, one thread, same-process A/B on a
loaded machine) this is 5-8% less CPU time than the projected (B, 4H) layout; the ufunc
and Python overhead it saves matters more on a quiet machine, where the step's arrays stay
in cache.
Large batches (products of SPLIT_WORK multiply-adds or more over the sequence) run as two
LSTMs, one per half of the batch, on two threads (kernels/halves): the examples of a batch
never meet inside the recurrence, NumPy lets go of the GIL in its ufuncs and BLAS calls,
and BLAS is held to one thread meanwhile. With OpenBLAS's two threads instead, every one
of W6's 100 step products ended at a barrier between its threads, and on a busy machine a
forward and backward took 1.6 s instead of 0.23 s (same-process A/B, wall time); the
halves meet twice (after the forward, after the backward), and the gate arithmetic runs
on both cores too. The weight gradient is the sum of the halves' stacked products.
The GRU and the plain RNN keep the (B, G·H) layout and one projection of the inputs before
their loops (`project`). The GRU's candidate gate needs the h-side r ⊙ (h W_hnᵀ + b_hn)
apart from the x-side, which one stacked product would not give; the RNN has a single
gate, so there is little gate arithmetic to save, and stacked it was 20% slower (the
weight gradient's copies of (T, K, B) operands outweigh a (T, H, B) gradient).
"""
from __future__ import annotations

from typing import NamedTuple

from ..backend import xp
from .halves import batch_parts, run_parts
from .threads import blas_threads_for

# Multiply-adds of a whole sequence's step products from which an LSTM splits its batch in
# two halves on two threads (kernels/halves): below it, handing a half over costs more.
SPLIT_WORK = 1 << 24


# --- stacked steps (LSTM): Note [transposed steps] ----------------------------------------
def stacked_weights(w_ih, w_hh, b_ih, b_hh, dtype):
    """[W_ih | W_hh | b_ih + b_hh] (G·H, K): a step's two products and its bias as one."""
    parts = [w_ih, w_hh] if b_ih is None else [w_ih, w_hh, (b_ih + b_hh)[:, None]]
    return xp(w_ih).concatenate(parts, axis=1).astype(dtype, copy=False)


def step_operands(x, h0, weights, reverse):
    """Every step's operands [x_t; h_{t-1}; 1] as (K, B) blocks, (T + 1, K, B): h0 in the
    block of the first step walked; each step fills the h rows of the next one's block
    (`states`), and the last step those of the extra block."""
    steps, batch, features = x.shape
    hidden = h0.shape[1]
    first = int(reverse)
    operands = xp(x).empty((steps + 1, weights.shape[1], batch), dtype=weights.dtype)
    operands[first:first + steps, :features] = x.transpose(0, 2, 1)
    operands[:, features + hidden:] = 1  # the bias row, where there is a bias
    operands[steps if reverse else 0, features:features + hidden] = h0.T
    return operands


def step_inputs(operands, reverse):
    """The block each step t reads, in time order: (T, K, B) views."""
    first = int(reverse)
    return operands[first:first + operands.shape[0] - 1]


def states(operands, features, hidden, reverse):
    """The rows each step t writes h_t into, in time order: (T, H, B) views."""
    first = int(reverse)
    return operands[1 - first:1 - first + operands.shape[0] - 1, features:features + hidden]


def stacked_grads(dpre, operands, w_ih, reverse, input_grad: bool):
    """From every step's gate gradient dpre_t (T, G·H, B) and the operands of its product
    [x_t; h_{t-1}; 1]: (dL/dx = dpreᵀ W_ih as (T, B, I), None unless `input_grad`; the
    gradient of the stacked weights [W_ih | W_hh | b], Σ_t dpre_t [x_t; h_{t-1}; 1]ᵀ
    (G·H, K)), each ONE product over all steps and examples."""
    steps, rows, batch = dpre.shape
    flat = xp(dpre).ascontiguousarray(dpre.transpose(1, 0, 2)).reshape(rows, steps * batch)
    inputs = step_inputs(operands, reverse).transpose(1, 0, 2)
    inputs = xp(dpre).ascontiguousarray(inputs).reshape(-1, steps * batch)
    dx = (flat.T @ w_ih).reshape(steps, batch, -1) if input_grad else None
    return dx, flat @ inputs.T


def batch_split(x, multiply_adds: int) -> list:
    """The parts of x's batch (x (T, B, I)) for `run_parts`: two halves on two threads on
    the CPU (kernels/halves) once the sequence's products reach SPLIT_WORK, else whole."""
    batch = x.shape[1]
    return batch_parts(batch, x) if multiply_adds >= SPLIT_WORK else [(0, batch)]


def gate_blocks(a, parts: int = 4):
    """The gate blocks of transposed (…, parts·H, B) arrays: a (…, parts, H, B) view, whose
    [..., k, :, :] are contiguous."""
    return a.reshape(*a.shape[:-2], parts, -1, a.shape[-1])


def sigmoid_rows(a, axis: int = 0):
    """The rows of an LSTM's (…, 4H, …) gate array that go through σ: i and f (one block),
    o; `axis` the gates' axis."""
    hidden = a.shape[axis] // 4
    before = (slice(None),) * axis
    return a[before + (slice(0, 2 * hidden),)], a[before + (slice(3 * hidden, None),)]


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The LSTM over the sequence: (out (T + 1, B, H): every h_t then the last c_t, and
    what backward needs: one `LSTMTape` per part of the batch (`batch_split`))."""
    steps, batch, _ = x.shape
    weights = stacked_weights(w_ih, w_hh, b_ih, b_hh, xp(x).result_type(x, h0, w_ih))
    # σ(z) = ½ + ½ tanh(z/2): one tanh serves all four gates once the σ gates' rows of the
    # weights are halved; their outputs are then halved and shifted.
    for rows in sigmoid_rows(weights):
        rows *= 0.5
    out = xp(x).empty((steps + 1, batch, w_hh.shape[1]), dtype=weights.dtype)

    def part(index, start, stop):
        return _lstm_forward(x[:, start:stop], h0[start:stop], c0[start:stop], weights,
                             out[:, start:stop], reverse)
    with blas_threads_for(weights.size * batch):
        tapes = run_parts(part, batch_split(x, weights.size * batch * steps))
    return out, tapes


class LSTMTape(NamedTuple):
    """What one part of the batch keeps for the backward, each step transposed."""
    gates: object  # i f g o, (T, 4H, b)
    cells: object  # c_t, (T, H, b)
    tanh_cells: object  # tanh c_t, (T, H, b)
    operands: object  # [x_t; h_{t-1}; 1] of every step, (T + 1, K, b)


def _lstm_forward(x, h0, c0, weights, out, reverse):
    """One part of the batch: fills `out` (T + 1, b, H) and returns its LSTMTape."""
    steps, batch, features = x.shape
    hidden = out.shape[2]
    operands = step_operands(x, h0, weights, reverse)
    inputs, hs = step_inputs(operands, reverse), states(operands, features, hidden, reverse)
    gates = xp(x).empty((steps, 4 * hidden, batch), dtype=weights.dtype)
    cells = xp(x).empty((steps, hidden, batch), dtype=weights.dtype)
    tanh_cells = xp(x).empty_like(cells)
    spare = xp(x).empty_like(cells[0])
    blocks, (sigmoid_if, sigmoid_o) = gate_blocks(gates), sigmoid_rows(gates, axis=1)
    matmul, multiply, tanh = xp(x).matmul, xp(x).multiply, xp(x).tanh  # looked up once
    c = c0.T
    for t in order(steps, reverse):
        tanh(matmul(weights, inputs[t], out=gates[t]), out=gates[t])
        for rows in (sigmoid_if[t], sigmoid_o[t]):
            rows *= 0.5
            rows += 0.5
        i, f, g, o = blocks[t]
        c = multiply(f, c, out=cells[t])
        c += multiply(i, g, out=spare)
        multiply(o, tanh(c, out=tanh_cells[t]), out=hs[t])
    out[:steps] = hs.transpose(0, 2, 1)
    out[steps] = c.T
    return LSTMTape(gates, cells, tanh_cells, operands)


class LSTMGrads(NamedTuple):
    """The LSTM's gradients (dx None unless asked for, db None without a bias) and each
    part's gate gradients dpre (T, 4H, b) (`step_gradients` joins them)."""
    dx: object
    dh0: object
    dc0: object
    dw_ih: object
    dw_hh: object
    db: object
    dpre: list


def lstm_backward(grad, c0, w_ih, w_hh, tapes, reverse, input_grad: bool) -> LSTMGrads:
    """Backpropagation through time, each part of the batch on its own (as the forward
    split it), then the weight gradient: the sum of the parts' `stacked_grads`."""
    sizes = [tape.cells.shape[2] for tape in tapes]
    bounds = [sum(sizes[:k]) for k in range(len(sizes) + 1)]

    def part(index, start, stop):
        tape = tapes[index]
        dpre, dh0, dc0 = _lstm_backward(grad[:, start:stop], c0[start:stop], w_hh, tape,
                                        reverse)
        return dpre, dh0, dc0, *stacked_grads(dpre, tape.operands, w_ih, reverse, input_grad)
    with blas_threads_for(w_hh.size * grad.shape[1]):
        parts = run_parts(part, list(zip(bounds[:-1], bounds[1:])))
    dpre, dh0, dc0, dx, dw = zip(*parts)
    join = xp(grad).concatenate
    dw = sum(dw[1:], dw[0])
    features, hidden = w_ih.shape[1], w_hh.shape[1]
    return LSTMGrads(join(dx, axis=1) if input_grad else None, join(dh0), join(dc0),
                     dw[:, :features], dw[:, features:features + hidden],
                     dw[:, -1] if dw.shape[1] > features + hidden else None, list(dpre))


def _lstm_backward(grad, c0, w_hh, tape, reverse):
    """One part of the batch: (dL/dpre for every step (T, 4H, b), dL/dh0, dL/dc0 (b, H))."""
    gates, cells, tanh_cells = tape.gates, tape.cells, tape.tanh_cells
    steps = cells.shape[0]
    grad_h = xp(grad).array(grad[:steps].transpose(0, 2, 1), order="C")  # (T, H, b), a copy
    dc = xp(grad).array(grad[steps].T, order="C")
    dpre = xp(grad).empty_like(gates)
    products = xp(grad).empty_like(gates[0])  # (dc ⊙ g, dc ⊙ c_{t-1}, dc ⊙ i, dh ⊙ tanh c)
    p_i, p_f, p_g, p_o = gate_blocks(products)
    through_h = xp(grad).empty_like(dc)
    dh_next = xp(grad).zeros_like(dc)
    blocks, d_blocks = gate_blocks(gates), gate_blocks(dpre)
    (sigmoid_if, sigmoid_o), (slope_if, slope_o) = (sigmoid_rows(gates, axis=1),
                                                    sigmoid_rows(dpre, axis=1))
    add, matmul, multiply, subtract = (xp(grad).add, xp(grad).matmul, xp(grad).multiply,
                                       xp(grad).subtract)
    walk = order(steps, not reverse)  # the forward walk, backwards
    for k, t in enumerate(walk):
        i, f, g, o = blocks[t]
        tc = tanh_cells[t]
        c_prev = c0.T if k == steps - 1 else cells[walk[k + 1]]
        dh = add(grad_h[t], dh_next, out=grad_h[t])
        multiply(tc, tc, out=through_h)  # dc += dh ⊙ o ⊙ (1 - tanh² c)
        subtract(1, through_h, out=through_h)
        through_h *= o
        through_h *= dh
        dc += through_h
        multiply(dc, g, out=p_i)
        multiply(dc, c_prev, out=p_f)
        multiply(dc, i, out=p_g)
        multiply(dh, tc, out=p_o)
        for rows, slope in ((sigmoid_if[t], slope_if[t]), (sigmoid_o[t], slope_o[t])):
            multiply(rows, subtract(1, rows, out=slope), out=slope)  # σ' = σ(1 - σ)
        slope = d_blocks[t, 2]  # tanh' = 1 - g²
        subtract(1, multiply(g, g, out=slope), out=slope)
        d = multiply(dpre[t], products, out=dpre[t])
        dc *= f
        matmul(w_hh.T, d, out=dh_next)
    return dpre, dh_next.T, dc.T


def step_gradients(dpre):
    """Every step's gate gradient, batch-major as the per-example instruments read it:
    the parts' (T, 4H, b) joined into (T, B, 4H)."""
    return xp(dpre[0]).concatenate([d.transpose(0, 2, 1) for d in dpre], axis=1)


# --- GRU and RNN: (B, G·H) steps after one projection of the inputs ---------------------
def project(x, w_ih, bias):
    """x W_ihᵀ + bias for every time step at once: (T, B, I) → (T, B, G·H), a fresh array."""
    steps, batch, features = x.shape
    with blas_threads_for(x.size * w_ih.shape[0]):  # a cell's one step: one thread
        out = x.reshape(steps * batch, features) @ w_ih.T
    if bias is not None:
        out += bias
    return out.reshape(steps, batch, -1)


def _sigmoid_(a):
    # σ(x) = ½(1 + tanh(x/2)), in place: never overflows, unlike 1/(1 + e^-x)
    a *= 0.5
    xp(a).tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The GRU over the sequence: (out (T, B, H), the gates r z n, the h-side h W_hhᵀ + b)."""
    steps, batch = x.shape[:2]
    hidden = w_hh.shape[1]
    gates = project(x, w_ih, b_ih)  # x-side a; becomes r, z, n in place
    h_side = xp(x).empty_like(gates)  # b, kept for the backward (b_n)
    out = xp(x).empty((steps, batch, hidden), dtype=gates.dtype)
    w_hh_t = xp(x).ascontiguousarray(w_hh.T)
    h = h0
    with blas_threads_for(h0.size * w_hh_t.shape[1]):
        for t in order(steps, reverse):
            a, b = gates[t], h_side[t]
            xp(x).matmul(h, w_hh_t, out=b)
            if b_hh is not None:
                b += b_hh
            rz = a[:, :2 * hidden]
            rz += b[:, :2 * hidden]
            _sigmoid_(rz)
            r, z, n = split(a, 3)
            n += r * b[:, 2 * hidden:]
            xp(x).tanh(n, out=n)
            new = xp(x).subtract(h, n, out=out[t])
            new *= z
            new += n
            h = new
    return out, gates, h_side


def gru_backward(grad, h0, w_hh, gates, h_side, out, reverse):
    """Backpropagation through time: (dL/d x-side, dL/d h-side for every step, dL/dh0)."""
    steps = out.shape[0]
    d_h_side = xp(grad).empty_like(gates)
    dn_all = xp(grad).empty_like(out)
    dh_next = None
    walk = order(steps, not reverse)
    with blas_threads_for(h0.size * w_hh.shape[0]):
        for k, t in enumerate(walk):
            r, z, n = split(gates[t], 3)
            h_prev = h0 if k == steps - 1 else out[walk[k + 1]]
            db_r, db_z, db_n = split(d_h_side[t], 3)
            dh = grad[t] if dh_next is None else grad[t] + dh_next
            dn = xp(grad).multiply(n, n, out=dn_all[t])  # dn = dh ⊙ (1-z) ⊙ (1-n²)
            xp(grad).subtract(1, dn, out=dn)
            dn *= 1 - z
            dn *= dh
            xp(grad).multiply(r, 1 - r, out=db_r)  # dr = dn ⊙ b_n ⊙ r(1-r)
            db_r *= split(h_side[t], 3)[2]
            db_r *= dn
            xp(grad).multiply(z, 1 - z, out=db_z)  # dz = dh ⊙ (h_{t-1} - n) ⊙ z(1-z)
            db_z *= h_prev - n
            db_z *= dh
            xp(grad).multiply(dn, r, out=db_n)
            dh_next = d_h_side[t] @ w_hh
            dh_next += dh * z
    d_x_side = d_h_side.copy()
    split(d_x_side, 3)[2][...] = dn_all
    return d_x_side, d_h_side, dh_next


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
    """The plain RNN over the sequence: out (T, B, H)."""
    bias = None if b_ih is None else b_ih + b_hh
    out = project(x, w_ih, bias)  # the x-side, then h_t in place
    recurrent = xp(x).empty_like(out[0])
    w_hh_t = xp(x).ascontiguousarray(w_hh.T)
    h = h0
    with blas_threads_for(h0.size * w_hh_t.shape[1]):
        for t in order(out.shape[0], reverse):
            a = out[t]
            a += xp(x).matmul(h, w_hh_t, out=recurrent)
            if not relu:
                xp(x).tanh(a, out=a)
            else:
                xp(x).maximum(a, 0, out=a)
            h = a
    return out


def rnn_backward(grad, h0, w_hh, out, reverse, relu):
    """Backpropagation through time: (dL/dpre for every step, dL/dh0)."""
    dpre = xp(grad).empty_like(out)
    dh_next = None
    with blas_threads_for(h0.size * w_hh.shape[0]):
        for t in order(out.shape[0], not reverse):
            dh = grad[t] if dh_next is None else grad[t] + dh_next
            d, h = dpre[t], out[t]
            if relu:
                xp(grad).greater(h, 0, out=d)
            else:
                xp(grad).multiply(h, h, out=d)
                xp(grad).subtract(1, d, out=d)
            d *= dh
            dh_next = d @ w_hh
    return dpre, dh_next


def order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def split(a, parts: int):
    """The gate blocks of a (…, parts·H) array, as views."""
    size = a.shape[-1] // parts
    return tuple(a[..., k * size:(k + 1) * size] for k in range(parts))

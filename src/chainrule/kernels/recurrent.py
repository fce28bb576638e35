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
  was 5% slower; a (4H, T, B) gradient alone saved its copy (1.1 ms) but the backward loop,
  whose product then reads rows 12.8 kB apart, lost 1.5 ms, and with each step's gradient
  made in a contiguous (4H, B) block and copied into it, the copy cost what it saved;
  summing the product in chunks of 8 steps inside the backward loop, while they sit in
  cache, gained nothing measurable.
- Inside the kernel the gates are in the order o, i, f, g (PyTorch's rows rolled by one
  block, `kernel_order`): the three σ gates are one block of rows, halved and shifted in
  two calls a step, and so are i, f, g, whose pre-activations' gradients are dc times a
  term: one broadcast product a step.
- Every CHUNK steps, while their arrays are in the cache, the forward turns the gates,
  tanh c_t and c_{t-1} of those steps in place into what the backward multiplies by
  (`backward_terms`: 14 calls over CHUNK steps each). A backward step is then six calls
  and its product instead of some twenty calls. One thread: 1.4 ms more forward, 1.5-1.9
  ms less backward; two BLAS threads, quiet machine: W6 step 20.4 → 19.9 ms (medians of
  five alternating runs).
On W6 as a whole (forward and backward of the LSTM, one thread, same-process A/B on a
loaded machine) the transposed steps are 5-8% less CPU time than the projected (B, 4H)
layout.
The step loops run on one thread; its products use NumPy's BLAS with the threads it has,
or one while the machine is busy (`loop_threads`): with two threads on a busy machine
every product ends at a barrier, and a forward and backward took 1.6 s against 0.23 s in
two halves on one-thread products. While `busy` read the 1-minute load average (~30 s to
see another process) a W6 step took 177-729 ms instead of 18 in that time (two halves:
28 ms); it now reads the run queue and sees one within ~1 s. Quiet, the halves took
19.7 ms against 18.5 (medians of 4 alternating runs).
A second thread of our own loses here, because every ufunc call lets go of the GIL and
the other thread, once it has taken it, hands it back through a sleep: on this project's
2-core virtual machine each such wake-up cost the loop ~50 µs. Measured on W6, quiet
machine: the batch in two halves, one loop each (kernels/halves), no faster than one loop
with two BLAS threads; projections of the coming steps and `backward_terms` of the past
ones on the pool's thread (~20 calls per chunk) made a forward step 300-400 µs instead of
140; the weight gradient of the first two thirds of the backward walk made there (4 calls)
while this thread walked the rest made the training step 24.5 ms instead of 19.9. Nor would
two processes gain: this machine's two cores share their memory bandwidth (a copy of 256
kB, inside the cache, ran at 82 GB/s alone and at 45 GB/s in each of two processes at
once), and the LSTM's ufuncs, on 32-128 kB a step, are bound by it: the LSTM on half of
W6's batch took 14.3 ms alone and 27.4 ms in each of two processes running at once. Only
the products, bound by arithmetic, gain from the second core.
The GRU and the plain RNN keep the (B, G·H) layout and one projection of the inputs before
their loops (`project`). The GRU's candidate gate needs the h-side r ⊙ (h W_hnᵀ + b_hn)
apart from the x-side, which one stacked product would not give; the RNN has a single
gate, so there is little gate arithmetic to save, and stacked it was 20% slower (the
weight gradient's copies of (T, K, B) operands outweigh a (T, H, B) gradient).
"""
from __future__ import annotations

from typing import NamedTuple

from ..backend import xp
from .threads import blas_threads_for, busy, one_blas_thread

# Steps whose forward is done before `backward_terms` runs on them: their arrays are still
# in the cache, and each of its ufunc calls covers CHUNK steps.
CHUNK = 5


# --- stacked steps (LSTM): Note [transposed steps] ----------------------------------------
def kernel_order(a, axis: int = 0):
    """An LSTM's gate blocks along `axis` from PyTorch's order (i, f, g, o) to the kernel's
    (o, i, f, g), a copy: the σ gates o, i, f are one block of rows, and so are i, f, g,
    whose pre-activations' gradients are dc times something."""
    return xp(a).roll(a, a.shape[axis] // 4, axis=axis)


def torch_order(a, axis: int = 0):
    """The gate blocks back in PyTorch's order (i, f, g, o), a copy."""
    return xp(a).roll(a, -(a.shape[axis] // 4), axis=axis)


def stacked_weights(w_ih, w_hh, b_ih, b_hh, dtype):
    """[W_ih | W_hh | b_ih + b_hh] (4H, K), the gates in kernel order: a step's two products
    and its bias as one."""
    parts = [w_ih, w_hh] if b_ih is None else [w_ih, w_hh, (b_ih + b_hh)[:, None]]
    return kernel_order(xp(w_ih).concatenate(parts, axis=1).astype(dtype, copy=False))


def step_operands(x, h0, weights, reverse):
    """Every step's operands [x_t; h_{t-1}; 1] as (K, B) blocks, (T + 1, K, B): h0 in the
    block of the first step walked; each step fills the h rows of the next one's block
    (`leaving`), and the last step those of the extra block."""
    steps, batch, features = x.shape
    hidden = h0.shape[1]
    operands = xp(x).empty((steps + 1, weights.shape[1], batch), dtype=weights.dtype)
    entering(operands, reverse)[:, :features] = x.transpose(0, 2, 1)
    operands[:, features + hidden:] = 1  # the bias row, where there is a bias
    operands[steps if reverse else 0, features:features + hidden] = h0.T
    return operands


def entering(a, reverse):
    """Of a (T + 1, …) array of states, the one each step t reads, in time order: (T, …)
    views; the first step walked reads the block no step writes."""
    first = int(reverse)
    return a[first:first + a.shape[0] - 1]


def leaving(a, reverse):
    """Of a (T + 1, …) array of states, the one each step t writes, in time order: (T, …)
    views, each the block the next step walked reads."""
    first = int(reverse)
    return a[1 - first:1 - first + a.shape[0] - 1]


def stacked_grads(dpre, inputs, w_ih, dx):
    """From some steps' gate gradients dpre_t (n, 4H, B) and the operands of their products
    [x_t; h_{t-1}; 1] (n, K, B): the gradient of the stacked weights [W_ih | W_hh | b],
    Σ_t dpre_t [x_t; h_{t-1}; 1]ᵀ (4H, K), ONE product over those steps and examples after
    a transposing copy of each factor; and, into dx (n, B, I) unless it is None,
    dL/dx_t = dpre_tᵀ W_ih."""
    steps, rows, batch = dpre.shape
    m = xp(dpre)
    flat = m.ascontiguousarray(dpre.transpose(1, 0, 2)).reshape(rows, steps * batch)
    inputs = m.ascontiguousarray(inputs.transpose(0, 2, 1)).reshape(steps * batch, -1)
    if dx is not None:
        m.matmul(dpre.transpose(0, 2, 1), w_ih, out=dx)
    return flat @ inputs


def gate_blocks(a, parts: int = 4):
    """The gate blocks of transposed (…, parts·H, B) arrays: a (…, parts, H, B) view, whose
    [..., k, :, :] are contiguous."""
    return a.reshape(*a.shape[:-2], parts, -1, a.shape[-1])


def chunks(steps: int, reverse: bool) -> list:
    """The walk (`order`) cut into runs of CHUNK steps."""
    walk = order(steps, reverse)
    return [walk[k:k + CHUNK] for k in range(0, steps, CHUNK)]


def span(run: range) -> slice:
    """The time steps of a run of the walk, as a slice."""
    return slice(min(run), max(run) + 1)


def loop_threads(multiply_adds: int):
    """BLAS threads for a loop of step products of `multiply_adds` each: one while the
    machine is busy (`threads.busy`: the threads of a two-thread product would wait for each
    other at the end of every step), else as `blas_threads_for`."""
    return one_blas_thread() if busy() else blas_threads_for(multiply_adds)


class LSTMTape(NamedTuple):
    """What the backward needs, each step transposed, in time order (`backward_terms`)."""
    terms: object  # (T, 4H, b): what each gate's pre-activation gradient is dh (o) or dc (i, f, g) times
    cell_terms: object  # (T, H, b): o ⊙ (1 - tanh² c_t), what dh adds to dc
    forget: object  # (T, H, b): f_t
    operands: object  # [x_t; h_{t-1}; 1] of every step, (T + 1, K, b)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The LSTM over the sequence: (out (T + 1, B, H): every h_t then the last c_t, the
    LSTMTape)."""
    steps, batch, features = x.shape
    hidden = h0.shape[1]
    m = xp(x)
    weights = stacked_weights(w_ih, w_hh, b_ih, b_hh, m.result_type(x, h0, w_ih))
    # σ(z) = ½ + ½ tanh(z/2): one tanh serves all four gates once the σ gates' rows of the
    # weights are halved; their outputs are then halved and shifted.
    weights[:3 * hidden] *= 0.5
    operands = step_operands(x, h0, weights, reverse)
    gates = m.empty((steps, 4 * hidden, batch), dtype=weights.dtype)  # o i f g
    cells = m.empty((steps + 1, hidden, batch), dtype=weights.dtype)  # like the h rows
    tanh_cells = m.empty((steps, hidden, batch), dtype=weights.dtype)
    out = m.empty((steps + 1, batch, hidden), dtype=weights.dtype)
    inputs = entering(operands, reverse)
    hs = leaving(operands, reverse)[:, features:features + hidden]
    c_in, c_out = entering(cells, reverse), leaving(cells, reverse)
    c_in[steps - 1 if reverse else 0] = c0.T
    c, spare = c_in[steps - 1 if reverse else 0], m.empty_like(c_in[0])
    blocks, sigmoids = gate_blocks(gates), gates[:, :3 * hidden]
    matmul, multiply, tanh = m.matmul, m.multiply, m.tanh  # looked up once
    with loop_threads(weights.size * batch):
        for run in chunks(steps, reverse):
            for t in run:
                z, sigmoid = matmul(weights, inputs[t], out=gates[t]), sigmoids[t]
                tanh(z, out=z)
                sigmoid *= 0.5
                sigmoid += 0.5
                o, i, f, g = blocks[t]
                c = multiply(f, c, out=c_out[t])
                c += multiply(i, g, out=spare)
                multiply(o, tanh(c, out=tanh_cells[t]), out=hs[t])
            times = span(run)
            out[times] = hs[times].transpose(0, 2, 1)
            backward_terms(blocks[times], c_in[times], tanh_cells[times], hs[times])
    out[steps] = c.T
    return out, LSTMTape(gates, tanh_cells, c_in, operands)


def backward_terms(blocks, c_prev, tanh_c, h):
    """In place, on steps whose forward is done: each gate (o, i, f, g) of `blocks`
    (n, 4, H, b) becomes what its pre-activation's gradient is dh or dc times, tanh c_t
    what dh adds to dc, and c_{t-1} (used here last) f_t; h_t = o ⊙ tanh c_t:
        o → tanh c ⊙ o(1 - o) = h ⊙ (1 - o);   tanh c → o ⊙ (1 - tanh² c) = o - h ⊙ tanh c
        i → g ⊙ i(1 - i) = ig ⊙ (1 - i);        g → i ⊙ (1 - g²) = i - ig ⊙ g  (ig = i ⊙ g)
        f → c_{t-1} ⊙ f(1 - f);                  c_{t-1} → f"""
    m = xp(blocks)
    o, i, f, g = (blocks[:, k] for k in range(4))
    m.multiply(h, tanh_c, out=tanh_c)
    m.subtract(o, tanh_c, out=tanh_c)
    m.subtract(1, o, out=o)
    o *= h
    ig = m.multiply(i, g)
    m.multiply(ig, g, out=g)
    m.subtract(i, g, out=g)
    m.subtract(1, i, out=i)
    i *= ig
    term = m.subtract(1, f, out=ig)
    term *= f
    term *= c_prev
    c_prev[...] = f
    f[...] = term


class LSTMGrads(NamedTuple):
    """The LSTM's gradients (dx None unless asked for, db None without a bias) and every
    step's gate gradient dpre (T, 4H, B), gates in kernel order (`step_gradients` reads it)."""
    dx: object
    dh0: object
    dc0: object
    dw_ih: object
    dw_hh: object
    db: object
    dpre: object


def lstm_backward(grad, w_ih, w_hh, tape, reverse, input_grad: bool) -> LSTMGrads:
    """Backpropagation through time, last step first; then the weight gradient and dx,
    each one product over all steps (`stacked_grads`)."""
    terms, cell_terms, forget, operands = tape
    steps, rows, batch = terms.shape
    hidden, features = rows // 4, w_ih.shape[1]
    m = xp(grad)
    grad_h = grad[:steps].transpose(0, 2, 1)  # (T, H, b) views
    dc = m.array(grad[steps].T, order="C")
    dh, dh_next, spare = m.empty_like(dc), m.zeros_like(dc), m.empty_like(dc)
    dpre = m.empty_like(terms)
    dx = m.empty((steps, batch, features), m.result_type(terms, w_ih)) if input_grad else None
    (by_dh, by_dc), (d_dh, d_dc) = ((a[:, 0], a[:, 1:]) for a in map(gate_blocks, (terms, dpre)))
    w_back = kernel_order(w_hh).T
    add, matmul, multiply = m.add, m.matmul, m.multiply  # looked up once
    with loop_threads(w_hh.size * batch):
        for t in order(steps, not reverse):  # the forward walk, backwards
            add(grad_h[t], dh_next, out=dh)
            dc += multiply(dh, cell_terms[t], out=spare)
            multiply(dc, by_dc[t], out=d_dc[t])  # dpre_i, dpre_f, dpre_g
            multiply(dh, by_dh[t], out=d_dh[t])  # dpre_o
            dc *= forget[t]
            matmul(w_back, dpre[t], out=dh_next)
    dw = torch_order(stacked_grads(dpre, entering(operands, reverse), kernel_order(w_ih), dx))
    return LSTMGrads(dx, dh_next.T, dc.T, dw[:, :features], dw[:, features:features + hidden],
                     dw[:, -1] if dw.shape[1] > features + hidden else None, dpre)


def step_gradients(dpre):
    """Every step's gate gradient, batch-major and in PyTorch's gate order as the
    per-example instruments read it: (T, B, 4H)."""
    return torch_order(dpre, axis=1).transpose(0, 2, 1)


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

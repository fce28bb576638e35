"""The fused recurrent layers' loops on arrays: every step of an LSTM, GRU or plain RNN
over a whole sequence, forward and backward (backpropagation through time), with the
gate arithmetic written in place (`out=`) on small per-step arrays.

The formulas each loop computes sit beside the ops in chainrule.ops.recurrent; what is
here is how they are computed fast. Layout as PyTorch: x (T, B, I) time-major, h0 and c0
(B, H), W_ih (G·H, I), W_hh (G·H, H), the G gates stacked in PyTorch's order (LSTM i, f,
g, o; GRU r, z, n). The input projection x W_ihᵀ + b for every time step is one matmul
before the loop (`project`); only h W_hhᵀ and the gate math run step by step, so that one
step's rows are reused while they sit in cache.
"""
from __future__ import annotations

from ..backend import xp


def project(x, w_ih, bias):
    """x W_ihᵀ + bias for every time step at once: (T, B, I) → (T, B, G·H), a fresh array."""
    steps, batch, features = x.shape
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


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The LSTM over the sequence: (out (T + 1, B, H): every h_t then the last c_t, and
    what backward needs: the gates i f g o, the cell states and their tanh)."""
    steps, batch = x.shape[:2]
    hidden = w_hh.shape[1]
    # σ(x) = ½ + ½ tanh(x/2): one tanh serves all four gates if the sigmoid gates' rows
    # of the weights are halved first (scale), and their outputs halved and shifted.
    scale = xp(x).full(4 * hidden, 0.5, dtype=w_hh.dtype)  # ½ for σ gates, 1 for g
    scale[2 * hidden:3 * hidden] = 1.0
    shift = 1 - scale  # ½ for σ gates, 0 for g
    bias = None if b_ih is None else (b_ih + b_hh) * scale
    gates = project(x, w_ih * scale[:, None], bias)  # becomes i, f, g, o in place
    w_hh_t = xp(x).ascontiguousarray((w_hh * scale[:, None]).T)
    out = xp(x).empty((steps + 1, batch, hidden), dtype=gates.dtype)
    cells = xp(x).empty((steps, batch, hidden), dtype=gates.dtype)
    tanh_cells = xp(x).empty_like(cells)
    recurrent = xp(x).empty((batch, 4 * hidden), dtype=gates.dtype)
    h, c = h0, c0
    for t in order(steps, reverse):
        a = gates[t]
        xp(x).matmul(h, w_hh_t, out=recurrent)
        a += recurrent
        xp(x).tanh(a, out=a)
        a *= scale
        a += shift
        i, f, g, o = split(a, 4)
        c = xp(x).multiply(f, c, out=cells[t])
        c += i * g
        h = xp(x).multiply(o, xp(x).tanh(c, out=tanh_cells[t]), out=out[t])
    out[steps] = c
    return out, gates, cells, tanh_cells


def lstm_backward(grad, c0, w_hh, gates, cells, tanh_cells, reverse):
    """Backpropagation through time: (dL/dpre for every step, dL/dh0, dL/dc0)."""
    steps, batch, hidden = cells.shape
    dpre = xp(grad).empty_like(gates)
    g_block = xp(grad).zeros(4 * hidden, dtype=gates.dtype)
    g_block[2 * hidden:3 * hidden] = 1
    products = xp(grad).empty_like(gates[0])  # (dc ⊙ g, dc ⊙ c_{t-1}, dc ⊙ i, dh ⊙ tanh c)
    p_i, p_f, p_g, p_o = split(products, 4)
    dh_next = None
    dc = grad[steps]
    walk = order(steps, not reverse)  # the forward walk, backwards
    for k, t in enumerate(walk):
        a, tc, d = gates[t], tanh_cells[t], dpre[t]
        i, f, g, o = split(a, 4)
        c_prev = c0 if k == steps - 1 else cells[walk[k + 1]]
        dh = grad[t] if dh_next is None else grad[t] + dh_next
        through_h = tc * tc
        xp(grad).subtract(1, through_h, out=through_h)
        through_h *= o
        through_h *= dh
        dc = through_h + dc
        # the activations' slopes in one product: (1 - a) ⊙ (a + v), v = 1 on the g block
        # and 0 elsewhere, is σ(1-σ) for i, f, o and (1-g)(1+g) = 1-g² for g
        xp(grad).add(a, g_block, out=d)
        d *= 1 - a
        xp(grad).multiply(dc, g, out=p_i)
        xp(grad).multiply(dc, c_prev, out=p_f)
        xp(grad).multiply(dc, i, out=p_g)
        xp(grad).multiply(dh, tc, out=p_o)
        d *= products
        dc = dc * f
        dh_next = d @ w_hh
    return dpre, dh_next, dc


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """The GRU over the sequence: (out (T, B, H), the gates r z n, the h-side h W_hhᵀ + b)."""
    steps, batch = x.shape[:2]
    hidden = w_hh.shape[1]
    gates = project(x, w_ih, b_ih)  # x-side a; becomes r, z, n in place
    h_side = xp(x).empty_like(gates)  # b, kept for the backward (b_n)
    out = xp(x).empty((steps, batch, hidden), dtype=gates.dtype)
    w_hh_t = xp(x).ascontiguousarray(w_hh.T)
    h = h0
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

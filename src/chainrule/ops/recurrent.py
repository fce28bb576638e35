"""Recurrent layers as fused ops: a whole sequence through one layer is one graph node.

Built from slices, sigmoids and products, one LSTM step costs some twenty graph nodes, and
fifty steps a thousand. Here the gate arithmetic runs on raw arrays, and each backward is
backpropagation through time written out in closed form: the same chain rule, walked by
hand from the last step to the first.

Layout, as PyTorch: x (T, B, I) time-major, h0 and c0 (B, H); W_ih (G·H, I), W_hh (G·H, H),
b_ih and b_hh (G·H,), with the G gates stacked in PyTorch's order (LSTM i, f, g, o; GRU
r, z, n). Two things never depend on the recurrent state, so they run once, not per step:

* the input projection x W_ihᵀ + b for every time step is one matmul before the loop;
* its adjoints, dL/dx = dP W_ih and dL/dW_ih = dPᵀ x, and dL/dW_hh = dPᵀ h_prev, are one
  matmul each after the backward loop, once every step's gate gradient dP is known.

Only h W_hhᵀ and the gate math run step by step, on small arrays written in place
(`out=`). The step-wise math stays inside the loop on purpose: computed for all steps at
once, the same products ran several times slower, streaming (T, B, H) arrays through
memory instead of reusing one step's rows while they sit in cache.

`reverse=True` walks the sequence from its last step to its first (the second direction of
a bidirectional layer); outputs stay in time order. The cells (`nn.LSTMCell`, `nn.GRUCell`)
are these ops on a sequence of length one.

These backwards work on arrays only: differentiating them again (`create_graph=True`)
raises a clear error.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp
from ..tensor import Tensor


def _project(x, w_ih, bias):
    """x W_ihᵀ + bias for every time step at once: (T, B, I) → (T, B, G·H), a fresh array."""
    steps, batch, features = x.shape
    out = x.reshape(steps * batch, features) @ w_ih.T
    if bias is not None:
        out += bias
    return out.reshape(steps, batch, -1)


def _sigmoid_(a):
    # σ(x) = ½(1 + tanh(x/2)), in place: never overflows, unlike 1/(1 + e^-x)
    m = xp(a)
    a *= 0.5
    m.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _no_double_backward(node, grad) -> None:
    if isinstance(grad, Tensor):
        raise RuntimeError(f"{node.name}: differentiating the backward of a fused recurrent "
                           "layer again (create_graph=True) is not supported")


def _flat(a):
    return a.reshape(-1, a.shape[-1])


class LSTMSequence(Op):
    # Each step, with pre = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh split into gates i f g o:
    #   i, f, o = σ(pre_i), σ(pre_f), σ(pre_o);   g = tanh(pre_g)
    #   c_t = f ⊙ c_{t-1} + i ⊙ g;                h_t = o ⊙ tanh(c_t)
    # Output (T + 1, B, H): h_t for every t in time order, then the last cell state.
    # Backward, last step first, dh and dc the gradient reaching h_t and c_t:
    #   dc += dh ⊙ o ⊙ (1 - tanh² c_t)
    #   dpre = (dc ⊙ g, dc ⊙ c_{t-1}, dc ⊙ i, dh ⊙ tanh c_t) ⊙ (i(1-i), f(1-f), 1-g², o(1-o))
    #   dc_{t-1} = dc ⊙ f;   dh_{t-1} = dL/dh_{t-1} + dpre W_hh
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        m = xp(x)
        steps, batch = x.shape[:2]
        hidden = w_hh.shape[1]
        # σ(x) = ½ + ½ tanh(x/2): one tanh serves all four gates if the sigmoid gates' rows
        # of the weights are halved first (scale), and their outputs halved and shifted.
        scale = m.full(4 * hidden, 0.5, dtype=w_hh.dtype)  # ½ for σ gates, 1 for g
        scale[2 * hidden:3 * hidden] = 1.0
        shift = 1 - scale  # ½ for σ gates, 0 for g
        bias = None if b_ih is None else (b_ih + b_hh) * scale
        gates = _project(x, w_ih * scale[:, None], bias)  # becomes i, f, g, o in place
        w_hh_t = m.ascontiguousarray((w_hh * scale[:, None]).T)
        out = m.empty((steps + 1, batch, hidden), dtype=gates.dtype)
        cells = m.empty((steps, batch, hidden), dtype=gates.dtype)
        tanh_cells = m.empty_like(cells)
        recurrent = m.empty((batch, 4 * hidden), dtype=gates.dtype)
        h, c = h0, c0
        for t in _order(steps, reverse):
            a = gates[t]
            m.matmul(h, w_hh_t, out=recurrent)
            a += recurrent
            m.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = _split(a, 4)
            c = m.multiply(f, c, out=cells[t])
            c += i * g
            h = m.multiply(o, m.tanh(c, out=tanh_cells[t]), out=out[t])
        out[steps] = c
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, gates, cells, tanh_cells, out)
        return out

    def backward(ctx, grad):
        _no_double_backward(ctx, grad)
        x, h0, c0, w_ih, w_hh, gates, cells, tanh_cells, out = ctx.saved
        m = xp(grad)
        steps, batch, hidden = cells.shape
        dpre = m.empty_like(gates)
        g_block = m.zeros(4 * hidden, dtype=gates.dtype)
        g_block[2 * hidden:3 * hidden] = 1
        products = m.empty_like(gates[0])  # (dc ⊙ g, dc ⊙ c_{t-1}, dc ⊙ i, dh ⊙ tanh c)
        p_i, p_f, p_g, p_o = _split(products, 4)
        dh_next = None
        dc = grad[steps]
        order = _order(steps, not ctx.reverse)  # the forward walk, backwards
        for k, t in enumerate(order):
            a, tc, d = gates[t], tanh_cells[t], dpre[t]
            i, f, g, o = _split(a, 4)
            c_prev = c0 if k == steps - 1 else cells[order[k + 1]]
            dh = grad[t] if dh_next is None else grad[t] + dh_next
            through_h = tc * tc
            m.subtract(1, through_h, out=through_h)
            through_h *= o
            through_h *= dh
            dc = through_h + dc
            # the activations' slopes in one product: (1 - a) ⊙ (a + v), v = 1 on the g block
            # and 0 elsewhere, is σ(1-σ) for i, f, o and (1-g)(1+g) = 1-g² for g
            m.add(a, g_block, out=d)
            d *= 1 - a
            m.multiply(dc, g, out=p_i)
            m.multiply(dc, c_prev, out=p_f)
            m.multiply(dc, i, out=p_g)
            m.multiply(dh, tc, out=p_o)
            d *= products
            dc = dc * f
            dh_next = d @ w_hh
        return _input_grads(ctx, dpre, dpre, x, w_ih, out[:steps], h0, dh_next, dc)


class GRUSequence(Op):
    # Each step, with x-side a = x_t W_ihᵀ + b_ih and h-side b = h_{t-1} W_hhᵀ + b_hh, gates r z n:
    #   r = σ(a_r + b_r);   z = σ(a_z + b_z);   n = tanh(a_n + r ⊙ b_n)
    #   h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
    # Output (T, B, H): h_t for every t in time order.
    # Backward, last step first, dh the gradient reaching h_t:
    #   dn = dh ⊙ (1-z) ⊙ (1-n²);   dz = dh ⊙ (h_{t-1} - n) ⊙ z(1-z);   dr = dn ⊙ b_n ⊙ r(1-r)
    #   da = (dr, dz, dn);   db = (dr, dz, dn ⊙ r)
    #   dh_{t-1} = dL/dh_{t-1} + dh ⊙ z + db W_hh
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        m = xp(x)
        steps, batch = x.shape[:2]
        hidden = w_hh.shape[1]
        gates = _project(x, w_ih, b_ih)  # x-side a; becomes r, z, n in place
        h_side = m.empty_like(gates)  # b, kept for the backward (b_n)
        out = m.empty((steps, batch, hidden), dtype=gates.dtype)
        w_hh_t = m.ascontiguousarray(w_hh.T)
        h = h0
        for t in _order(steps, reverse):
            a, b = gates[t], h_side[t]
            m.matmul(h, w_hh_t, out=b)
            if b_hh is not None:
                b += b_hh
            rz = a[:, :2 * hidden]
            rz += b[:, :2 * hidden]
            _sigmoid_(rz)
            r, z, n = _split(a, 3)
            n += r * b[:, 2 * hidden:]
            m.tanh(n, out=n)
            new = m.subtract(h, n, out=out[t])
            new *= z
            new += n
            h = new
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, w_ih, w_hh, gates, h_side, out)
        return out

    def backward(ctx, grad):
        _no_double_backward(ctx, grad)
        x, h0, w_ih, w_hh, gates, h_side, out = ctx.saved
        m = xp(grad)
        steps = out.shape[0]
        d_h_side = m.empty_like(gates)
        dn_all = m.empty_like(out)
        dh_next = None
        order = _order(steps, not ctx.reverse)
        for k, t in enumerate(order):
            r, z, n = _split(gates[t], 3)
            h_prev = h0 if k == steps - 1 else out[order[k + 1]]
            db_r, db_z, db_n = _split(d_h_side[t], 3)
            dh = grad[t] if dh_next is None else grad[t] + dh_next
            dn = m.multiply(n, n, out=dn_all[t])  # dn = dh ⊙ (1-z) ⊙ (1-n²)
            m.subtract(1, dn, out=dn)
            dn *= 1 - z
            dn *= dh
            m.multiply(r, 1 - r, out=db_r)  # dr = dn ⊙ b_n ⊙ r(1-r)
            db_r *= _split(h_side[t], 3)[2]
            db_r *= dn
            m.multiply(z, 1 - z, out=db_z)  # dz = dh ⊙ (h_{t-1} - n) ⊙ z(1-z)
            db_z *= h_prev - n
            db_z *= dh
            m.multiply(dn, r, out=db_n)
            dh_next = d_h_side[t] @ w_hh
            dh_next += dh * z
        d_x_side = d_h_side.copy()
        _split(d_x_side, 3)[2][...] = dn_all
        return _input_grads(ctx, d_x_side, d_h_side, x, w_ih, out, h0, dh_next)


class RNNSequence(Op):
    # Each step:  h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh),  act = tanh or relu
    # Output (T, B, H): h_t for every t in time order.
    # Backward, last step first:  dpre = dh ⊙ act'  (1 - h_t² for tanh, [h_t > 0] for relu);
    #   dh_{t-1} = dL/dh_{t-1} + dpre W_hh
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False,
                nonlinearity="tanh"):
        m = xp(x)
        bias = None if b_ih is None else b_ih + b_hh
        out = _project(x, w_ih, bias)  # the x-side, then h_t in place
        recurrent = m.empty_like(out[0])
        w_hh_t = m.ascontiguousarray(w_hh.T)
        h = h0
        for t in _order(out.shape[0], reverse):
            a = out[t]
            a += m.matmul(h, w_hh_t, out=recurrent)
            if nonlinearity == "tanh":
                m.tanh(a, out=a)
            else:
                m.maximum(a, 0, out=a)
            h = a
        ctx.reverse = reverse
        ctx.relu = nonlinearity == "relu"
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        return out

    def backward(ctx, grad):
        _no_double_backward(ctx, grad)
        x, h0, w_ih, w_hh, out = ctx.saved
        m = xp(grad)
        dpre = m.empty_like(out)
        dh_next = None
        for t in _order(out.shape[0], not ctx.reverse):
            dh = grad[t] if dh_next is None else grad[t] + dh_next
            d, h = dpre[t], out[t]
            if ctx.relu:
                m.greater(h, 0, out=d)
            else:
                m.multiply(h, h, out=d)
                m.subtract(1, d, out=d)
            d *= dh
            dh_next = d @ w_hh
        return _input_grads(ctx, dpre, dpre, x, w_ih, out, h0, dh_next)


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _split(a, parts: int):
    """The gate blocks of a (…, parts·H) array, as views."""
    size = a.shape[-1] // parts
    return tuple(a[..., k * size:(k + 1) * size] for k in range(parts))


def _input_grads(ctx, d_x_side, d_h_side, x, w_ih, hs, h0, dh0, *more):
    """The gradients of (x, h0, [c0,] W_ih, W_hh, [b_ih, b_hh]) once every step's gate
    gradient is known: dx = dA W_ih, dW_ih = dAᵀ x, dW_hh = dBᵀ h_prev, db = Σ over steps and
    batch. `more` holds the extra state gradients (dc0) that follow dh0."""
    first = 2 + len(more)  # index of W_ih among the inputs
    dx = (_flat(d_x_side) @ w_ih).reshape(x.shape) if ctx.needs_grad(0) else None
    dw_ih = _flat(d_x_side).T @ _flat(x) if ctx.needs_grad(first) else None
    dw_hh = None
    if ctx.needs_grad(first + 1):  # Σ_t dB_tᵀ h_{t-1}: h0 for the first step, hs for the rest
        first_step, rest, prev = (-1, slice(0, -1), hs[1:]) if ctx.reverse else \
            (0, slice(1, None), hs[:-1])
        dw_hh = d_h_side[first_step].T @ h0
        if len(hs) > 1:
            dw_hh = dw_hh + _flat(d_h_side[rest]).T @ _flat(prev)
    grads = [dx, dh0, *more, dw_ih, dw_hh]
    if len(ctx.inputs) > first + 2:
        db_ih = _flat(d_x_side).sum(0)
        db_hh = db_ih if d_h_side is d_x_side else _flat(d_h_side).sum(0)
        grads += [db_ih, db_hh]
    return tuple(grads)

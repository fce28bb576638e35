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
(`out=`); those loops are in chainrule.kernels.recurrent, the formulas here. The
step-wise math stays inside the loop on purpose: computed for all steps at once, the same
products ran several times slower, streaming (T, B, H) arrays through memory instead of
reusing one step's rows while they sit in cache.

`reverse=True` walks the sequence from its last step to its first (the second direction of
a bidirectional layer); outputs stay in time order. The cells (`nn.LSTMCell`, `nn.GRUCell`)
are these ops on a sequence of length one.

These backwards work on arrays only: differentiating them again (`create_graph=True`)
raises a clear error.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..kernels import recurrent


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
        out, gates, cells, tanh_cells = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih,
                                                               b_hh, reverse)
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, gates, cells, tanh_cells, out)
        return out

    def backward(ctx, grad):
        ctx.once_differentiable()
        x, h0, c0, w_ih, w_hh, gates, cells, tanh_cells, out = ctx.saved
        dpre, dh0, dc0 = recurrent.lstm_backward(grad, c0, w_hh, gates, cells, tanh_cells,
                                                 ctx.reverse)
        return _input_grads(ctx, dpre, dpre, x, w_ih, out[:-1], h0, dh0, dc0)


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
        out, gates, h_side = recurrent.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, w_ih, w_hh, gates, h_side, out)
        return out

    def backward(ctx, grad):
        ctx.once_differentiable()
        x, h0, w_ih, w_hh, gates, h_side, out = ctx.saved
        d_x_side, d_h_side, dh0 = recurrent.gru_backward(grad, h0, w_hh, gates, h_side, out,
                                                         ctx.reverse)
        return _input_grads(ctx, d_x_side, d_h_side, x, w_ih, out, h0, dh0)


class RNNSequence(Op):
    # Each step:  h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh),  act = tanh or relu
    # Output (T, B, H): h_t for every t in time order.
    # Backward, last step first:  dpre = dh ⊙ act'  (1 - h_t² for tanh, [h_t > 0] for relu);
    #   dh_{t-1} = dL/dh_{t-1} + dpre W_hh
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False,
                nonlinearity="tanh"):
        out = recurrent.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse,
                                    relu=nonlinearity == "relu")
        ctx.reverse = reverse
        ctx.relu = nonlinearity == "relu"
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        return out

    def backward(ctx, grad):
        ctx.once_differentiable()
        x, h0, w_ih, w_hh, out = ctx.saved
        dpre, dh0 = recurrent.rnn_backward(grad, h0, w_hh, out, ctx.reverse, ctx.relu)
        return _input_grads(ctx, dpre, dpre, x, w_ih, out, h0, dh0)


def _flat(a):
    return a.reshape(-1, a.shape[-1])


def _input_grads(ctx, d_x_side, d_h_side, x, w_ih, hs, h0, dh0, *more):
    """The gradients of (x, h0, [c0,] W_ih, W_hh, [b_ih, b_hh]) once every step's gate
    gradient is known: dx = dA W_ih, dW_ih = dAᵀ x, dW_hh = dBᵀ h_prev, db = Σ over steps and
    batch. `more` holds the extra state gradients (dc0) that follow dh0."""
    if getattr(ctx, "keep_step_gradients", False):  # per-example gradients (explain) read
        ctx.step_gradients = (d_x_side, d_h_side, x, hs, h0)  # each step's gate gradient
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

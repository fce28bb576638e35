"""Recurrent layers as fused ops: a whole sequence through one layer is one graph node.

Built from slices, sigmoids and products, one LSTM step costs some twenty graph nodes, and
fifty steps a thousand. Here the gate arithmetic runs on raw arrays, and each backward is
backpropagation through time written out in closed form: the same chain rule, walked by
hand from the last step to the first.

Layout, as PyTorch: x (T, B, I) time-major, h0 and c0 (B, H); W_ih (G·H, I), W_hh (G·H, H),
b_ih and b_hh (G·H,), with the G gates stacked in PyTorch's order (LSTM i, f, g, o; GRU
r, z, n). What never depends on the recurrent state runs once, not per step: the weight
gradients dL/dW_ih = Σ_t dPₜᵀ x_t, dL/dW_hh = Σ_t dPₜᵀ h_{t-1} and dL/dx = dP W_ih are one
matrix product each (the LSTM: one for all weights) after the backward loop, once every
step's gate gradient dPₜ is known. Only the step's product and its gate math run step by
step, on small arrays written in place (`out=`); those loops are in
chainrule.kernels.recurrent (which keeps the LSTM's steps transposed, one row per hidden
unit: Note [transposed steps] there), the formulas here.

`reverse=True` walks the sequence from its last step to its first (the second direction of
a bidirectional layer); outputs stay in time order. The cells (`nn.LSTMCell`, `nn.GRUCell`)
are these ops on a sequence of length one.

These backwards work on arrays only: differentiating them again (`create_graph=True`)
raises a clear error.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..kernels import recurrent
from ..kernels.threads import blas_threads_for


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
        out, tape = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, w_ih, w_hh, out, *tape)
        return out

    def backward(ctx, grad):
        # The kernel sums the weight gradients as [dW_ih | db | dW_hh] = Σ_t dpre_t [x_t; 1; h_{t-1}]ᵀ
        ctx.once_differentiable()
        x, h0, w_ih, w_hh, out, *tape = ctx.saved
        g = recurrent.lstm_backward(grad, w_ih, w_hh, recurrent.LSTMTape(*tape), ctx.reverse,
                                    ctx.needs_grad(0))
        if getattr(ctx, "keep_step_gradients", False):  # per-example gradients (explain) read
            ctx.step_gradients = (recurrent.step_gradients(g.dpre),) * 2 + (x, out[:-1], h0)
        return (g.dx, g.dh0, g.dc0, g.dw_ih, g.dw_hh) + (() if g.db is None else (g.db, g.db))


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
        ctx.reverse, ctx.relu = reverse, nonlinearity == "relu"
        out = recurrent.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, ctx.relu)
        ctx.save_for_backward(x, h0, w_ih, w_hh, out)
        return out

    def backward(ctx, grad):
        ctx.once_differentiable()
        x, h0, w_ih, w_hh, out = ctx.saved
        dpre, dh0 = recurrent.rnn_backward(grad, h0, w_hh, out, ctx.reverse, ctx.relu)
        return _input_grads(ctx, dpre, dpre, x, w_ih, out, h0, dh0)


def _flat(a):
    return a.reshape(-1, a.shape[-1])


def _input_grads(ctx, d_x_side, d_h_side, x, w_ih, hs, h0, dh0):
    """The GRU's and the RNN's gradients of (x, h0, W_ih, W_hh, [b_ih, b_hh]) once every
    step's gate gradients are known: dx = dA W_ih, dW_ih = dAᵀ x, dW_hh = dBᵀ h_prev,
    db = Σ over steps and batch (dA the x-side's, dB the h-side's: the same for the RNN)."""
    with blas_threads_for(d_x_side.size * max(x.shape[-1], h0.shape[-1])):  # small: one thread
        if getattr(ctx, "keep_step_gradients", False):  # per-example gradients (explain) read
            ctx.step_gradients = (d_x_side, d_h_side, x, hs, h0)  # each step's gate gradient
        dx = (_flat(d_x_side) @ w_ih).reshape(x.shape) if ctx.needs_grad(0) else None
        # Σ_t dB_tᵀ h_{t-1}: h0 for the first step, hs for the rest
        first_step, rest, prev = (-1, slice(0, -1), hs[1:]) if ctx.reverse else \
            (0, slice(1, None), hs[:-1])
        dw_hh = d_h_side[first_step].T @ h0
        if len(hs) > 1:
            dw_hh = dw_hh + _flat(d_h_side[rest]).T @ _flat(prev)
        grads = [dx, dh0, _flat(d_x_side).T @ _flat(x), dw_hh]
        if len(ctx.inputs) > 4:
            grads += [_flat(d_x_side).sum(0), _flat(d_h_side).sum(0)]
        return tuple(grads)

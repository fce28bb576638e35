"""Loss functions that PyTorch fuses, fused here too: cross-entropy (log-softmax and
negative log-likelihood in one node) and the two binary cross-entropies.

Cross-entropy is on the hot path of every classifier, so its forward keeps what the
backward needs (e^(x - max) and its row sums) and the backward is one multiply plus a
subtraction at the target entries: for p = softmax(x) and a target distribution q,

    loss = -Σ_c q_c log p_c,     dloss/dx = (Σ_c q_c)·p - q.

With class indices q is one-hot (times the class weight; label smoothing mixes in a
uniform part), so Σ q = 1 without weights and the gradient is the familiar p - onehot(y).

When a backward pass is itself differentiated (`create_graph=True`) the engine hands the
backward tensors instead of arrays; the saved exponentials are then constants to it, so
the probabilities are recomputed from x with the `Softmax` op to keep their dependence on
x in the graph.
"""
from __future__ import annotations

import contextlib

from ..autograd.op import Op
from ..backend import xp
from ..kernels.gpu import cross_entropy as gpu_cross_entropy
from .activation import LogSigmoid
from .elementwise import Clamp, Log, Sigmoid
from .shape import Reshape
from .softmax import LogSoftmax, Softmax


def _column(value, rows):
    """A per-row value as a column (rows, 1) for broadcasting; a scalar stays a scalar."""
    if getattr(value, "ndim", 0) == 0:
        return value
    return Reshape.call(value, shape=(rows, 1))


def _softmax_rows(ctx, x, exps, totals):
    """softmax(x) over axis 1: from the forward's exponentials, or (the backward being
    differentiated) recomputed as an op of x."""
    if ctx.building_graph:
        return Softmax.call(x, dim=1)
    return exps / totals[:, None]


def _quiet(x):
    """Silence NumPy's warnings for log 0 and 0/0 on x's device (CuPy never warns)."""
    errstate = getattr(xp(x), "errstate", None)
    return errstate(divide="ignore", invalid="ignore") if errstate else contextlib.nullcontext()


def _reduce(loss, reduction, denominator):
    if reduction == "none":
        return loss
    total = loss.sum()
    return total / denominator if reduction == "mean" else total


class CrossEntropy(Op):
    # loss_i = -Σ_c q_ic log softmax(x_i)_c for logits x (M, C) and class indices y (M,),
    #   q_i = (1-ε)·w[y_i]·onehot(y_i) + (ε/C)·w   (zero for rows with y_i = ignore_index);
    # dloss_i/dx_i = (Σ_c q_ic)·softmax(x_i) - q_i
    torch_name = "NllLossBackward0"

    def forward(ctx, x, target=None, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean", masked=True):
        # `masked=False` promises that no target equals ignore_index (the functional form
        # checks this on the CPU), which skips the masking work.
        if weight is None and not label_smoothing and gpu_cross_entropy.supports(x):
            return _fused_forward(ctx, x, target, ignore_index, reduction)
        rows, classes = x.shape
        shifted = x - x.max(axis=1, keepdims=True)
        exps = xp(x).exp(shifted)
        totals = exps.sum(axis=1)
        log_totals = xp(x).log(totals)
        valid = target != ignore_index if masked else None
        safe = target if valid is None else xp(x).where(valid, target, 0)
        ctx.row_index = xp(x).arange(rows)
        nll = log_totals - shifted[ctx.row_index, safe]  # -log p[i, y_i]

        # a_i: weight of row i's one-hot part (None: all ones); b_i: of its uniform part
        if weight is not None:
            a = weight[safe] if valid is None else xp(x).where(valid, weight[safe], 0)
        else:
            a = None if valid is None else valid.astype(x.dtype)
        denominator = (rows if a is None else a.sum()) if reduction == "mean" else 1
        eps = float(label_smoothing)
        loss = nll if a is None else nll * a
        b = None
        if eps:
            b = eps / classes if valid is None else valid * x.dtype.type(eps / classes)
            # Σ_c w_c · (-log p_ic) = log Σ_c e^shifted_ic · Σ_c w_c - Σ_c w_c·shifted_ic
            if weight is None:
                smooth = log_totals * classes - shifted.sum(axis=1)
            else:
                smooth = log_totals * weight.sum() - shifted @ weight
            loss = loss * (1 - eps) + smooth * b
        ctx.save_for_backward(x, exps, totals)
        ctx.target, ctx.a, ctx.b, ctx.eps = safe, a, b, eps
        ctx.weight, ctx.reduction, ctx.denominator = weight, reduction, denominator
        if a is None or reduction != "mean":
            return xp(x).asarray(_reduce(loss, reduction, denominator), dtype=x.dtype)
        with _quiet(x):  # every target ignored: the mean is 0/0 = nan, as PyTorch
            return xp(x).asarray(_reduce(loss, reduction, denominator), dtype=x.dtype)

    def backward(ctx, grad):
        if getattr(ctx, "fused", False):
            return (_fused_backward(ctx, grad),)
        x, exps, totals = ctx.saved
        a, b, eps, weight = ctx.a, ctx.b, ctx.eps, ctx.weight
        rows, classes = exps.shape
        r = grad / ctx.denominator if ctx.reduction == "mean" else grad  # dL/dloss_i
        # Σ_c q_ic = (1-ε)·a_i + b_i·Σ_c w_c
        one_hot_part = (1 - eps) if a is None else a * (1 - eps)
        qsum = one_hot_part
        if b is not None:
            qsum = qsum + b * (classes if weight is None else weight.sum())
        if ctx.building_graph:  # differentiating the backward: dense, with ops
            onehot = xp(exps).zeros(exps.shape, dtype=exps.dtype)
            onehot[ctx.row_index, ctx.target] = 1
            grad_x = (Softmax.call(x, dim=1) * _column(r * qsum, rows)
                      - onehot * _column(r * one_hot_part, rows))
        else:
            grad_x = exps * ((r * qsum) / totals)[:, None]
            grad_x[ctx.row_index, ctx.target] -= r * one_hot_part
        if b is not None:
            uniform = 1 if weight is None else weight
            grad_x = grad_x - _column(r * b, rows) * uniform
        return (grad_x,)


def _fused_forward(ctx, x, target, ignore_index, reduction):
    """CrossEntropy without class weights or label smoothing on a GPU: two kernels
    (kernels/gpu/cross_entropy.py) where the array expressions above launch a dozen. The
    mean divides by the count of rows that are not ignored, on the device."""
    target = target.astype("int64", copy=False)
    lse, loss, valid = gpu_cross_entropy.forward_rows(x, target, ignore_index)
    ctx.save_for_backward(x, lse, valid)
    ctx.fused, ctx.target, ctx.reduction = True, target, reduction
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    ctx.count = valid.sum()
    return total / ctx.count


def _fused_backward(ctx, grad):
    # dloss_i/dx_i = valid_i · (softmax(x_i) - onehot(y_i)), times dL/dloss_i
    x, lse, valid = ctx.saved
    r = grad / ctx.count if ctx.reduction == "mean" else grad  # dL/dloss_i
    if not ctx.building_graph:
        return gpu_cross_entropy.backward(x, lse, ctx.target, valid, r)
    # differentiating the backward: the softmax as an op of x, the rest constants
    rows = x.shape[0]
    onehot = xp(valid).zeros(x.shape, dtype=x.dtype)
    onehot[xp(valid).arange(rows), xp(valid).where(valid > 0, ctx.target, 0)] = 1
    return (Softmax.call(x, dim=1) - onehot) * _column(r * valid, rows)


class CrossEntropyProbs(Op):
    # loss_i = -Σ_c q_ic log softmax(x_i)_c with q = (t(1-ε) + ε/C)·w for target
    # probabilities t (M, C);  dloss_i/dx_i = (Σ_c q_ic)·softmax(x_i) - q_i,
    # dloss_i/dt_ic = -(1-ε)·w_c·log softmax(x_i)_c
    def forward(ctx, x, target, weight=None, label_smoothing=0.0, reduction="mean"):
        rows, classes = x.shape
        shifted = x - x.max(axis=1, keepdims=True)
        exps = xp(x).exp(shifted)
        totals = exps.sum(axis=1)
        log_probs = shifted - xp(x).log(totals)[:, None]
        eps = float(label_smoothing)
        q = target * (1 - eps) + eps / classes if eps else target
        if weight is not None:
            q = q * weight
        loss = -(q * log_probs).sum(axis=1)
        ctx.save_for_backward(x, target, exps, totals, log_probs)
        ctx.weight, ctx.eps, ctx.reduction = weight, eps, reduction
        return xp(x).asarray(_reduce(loss, reduction, rows), dtype=x.dtype)

    def backward(ctx, grad):
        x, target, exps, totals, log_probs = ctx.saved
        weight, eps = ctx.weight, ctx.eps
        rows, classes = exps.shape
        r = _column(grad / rows if ctx.reduction == "mean" else grad, rows)
        grad_x = grad_t = None
        if ctx.needs_grad(0):
            q = target * (1 - eps) + eps / classes if eps else target
            if weight is not None:
                q = q * weight
            qsum = q.sum(1) if ctx.building_graph else q.sum(axis=1)
            grad_x = (_softmax_rows(ctx, x, exps, totals) * _column(qsum, rows) - q) * r
        if ctx.needs_grad(1):
            if ctx.building_graph:
                log_probs = LogSoftmax.call(x, dim=1)
            scale = (1 - eps) if weight is None else weight * (1 - eps)
            grad_t = -(log_probs * scale) * r
        return grad_x, grad_t


class BinaryCrossEntropy(Op):
    # loss = -w·(t·log x + (1-t)·log(1-x)), each log clamped at -100 (as PyTorch);
    # dloss/dx = w·(x - t) / max(x(1-x), 1e-12),   dloss/dt = w·(log(1-x) - log x)
    def forward(ctx, x, target, weight=None):
        with _quiet(x):  # log 0 = -inf is expected here, then clamped
            log_x = xp(x).maximum(xp(x).log(x), -100)
            log_1mx = xp(x).maximum(xp(x).log1p(-x), -100)
        loss = (target - 1) * log_1mx - target * log_x
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target)
        ctx.weight = weight
        return loss

    def backward(ctx, grad):
        x, target = ctx.saved
        if ctx.weight is not None:
            grad = grad * ctx.weight
        grad_x = grad_t = None
        if ctx.needs_grad(0):
            grad_x = grad * (x - target) / Clamp.call((1 - x) * x, lo=1e-12)
        if ctx.needs_grad(1):
            grad_t = grad * (Log.call(1 - x) - Log.call(x))
        return grad_x, grad_t


class BinaryCrossEntropyWithLogits(Op):
    # loss = w·((1-t)·x - (1 + (pw-1)·t)·log σ(x)), log σ(x) computed without overflow;
    # dloss/dx = w·((1 + (pw-1)·t)·σ(x) - pw·t),   dloss/dt = w·(-x - (pw-1)·log σ(x))
    # (without pos_weight pw = 1:  dloss/dx = w·(σ(x) - t),  dloss/dt = -w·x)
    def forward(ctx, x, target, weight=None, pos_weight=None):
        log_sig = LogSigmoid.call(x)
        if pos_weight is None:
            loss = (1 - target) * x - log_sig
        else:
            loss = (1 - target) * x - (1 + (pos_weight - 1) * target) * log_sig
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, target)
        ctx.weight, ctx.pos_weight = weight, pos_weight
        return loss

    def backward(ctx, grad):
        x, target = ctx.saved
        weight, pos_weight = ctx.weight, ctx.pos_weight
        if weight is not None:
            grad = grad * weight
        grad_x = grad_t = None
        if ctx.needs_grad(0):
            if pos_weight is None:
                grad_x = grad * (Sigmoid.call(x) - target)
            else:
                grad_x = grad * ((1 + (pos_weight - 1) * target) * Sigmoid.call(x)
                                 - pos_weight * target)
        if ctx.needs_grad(1):
            if pos_weight is None:
                grad_t = -(grad * x)
            else:
                grad_t = -(grad * (x + (pos_weight - 1) * LogSigmoid.call(x)))
        return grad_x, grad_t

"""Instruments: what backpropagation already knows about a training step, read out.

A backward pass computes, at every layer, the layer's input x (saved by the forward) and the
gradient g = dL/dy reaching its output. The weight gradient is their product summed over the
batch; kept apart, the same two arrays give each example's own gradient (BackPACK's idea),
with no loop over examples and no second backward:

    Linear      y = x Wᵀ + b       dL/dW = Σ_i g_iᵀ x_i       example i: g_iᵀ x_i (Σ over time)
    Conv        y = W ⋆ x + b      dL/dW = Σ_i g_i cols(x_i)ᵀ example i: g_i cols(x_i)ᵀ
    Embedding   y = W[ids]         dL/dW = Σ_i scatter(g_i)   example i: g_i's rows at its ids
    Recurrent   (fused op)         dL/dW_ih = Σ_t dPₜᵀ xₜ     example i: Σ_t dPₜ,ᵢᵀ xₜ,ᵢ
                                   (dPₜ each step's gate gradient: instruments_recurrent.py)

From the per-example gradients comes the gradient noise: how far single examples' gradients
scatter around their mean, against the mean's own length. The loss's curvature comes from
Hessian-vector products by double backward (Hv = d(g·v)/dθ), and its sharpest direction by
power iteration. Per layer, the instruments read the gradient norm, the update-to-weight
ratio, dead ReLU units, saturated tanh/sigmoid units and the activations' mean and spread.

    instruments = Instruments(model, every=10)
    for step, (x, y) in enumerate(loader, 1):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        instruments.after_step(step, loss.item(), opt.param_groups[0]["lr"])
    instruments.readings   # one dict per instrumented step

`InstrumentRecorder` is the same as a Trainer callback (`chainrule train --instruments 10`),
and writes instruments.json into the run folder for `chainrule doctor`.
"""
from __future__ import annotations

import json
import math
import os

import numpy

from .. import backend
from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import no_grad
from ..kernels.im2col import im2col
from ..nn import functional as F
from ..nn.layers.activation import ReLU, Sigmoid, Tanh
from ..nn.layers.conv import Conv1d, Conv2d
from ..nn.layers.embedding import Embedding
from ..nn.layers.linear import Linear
from ..nn.layers.recurrent import RNNBase
from ..tensor import Tensor
from ..train.trainer import Callback
from .instruments_recurrent import RecurrentTap

INSTRUMENTS_FILE = "instruments.json"
SATURATED = 0.99  # |tanh| above this, or sigmoid within 1 - SATURATED of 0 or 1
PROBE_EXAMPLES = 2048  # training examples whose loss is followed epoch by epoch
SHARPNESS_EXAMPLES = 256


# --- per-example gradients --------------------------------------------------------------------
def per_example_gradients(layer, x, grad_output) -> dict:
    """Each example's share of the layer's parameter gradients, from the layer's input x
    and the gradient dL/dy at its output: {name: array (B, *param.shape)}, summing over the
    batch to the layer's `.grad`. (With a mean loss, example i's own gradient is B times
    its share.)"""
    x, g = _array(x), _array(grad_output)
    if isinstance(layer, Linear):
        return _linear_per_example(layer, x, g)
    if isinstance(layer, (Conv1d, Conv2d)):
        return _conv_per_example(layer, x, g)
    if isinstance(layer, Embedding):
        return _embedding_per_example(layer, x, g)
    raise TypeError(f"per_example_gradients: no rule for {type(layer).__name__} "
                    "(Linear, Conv1d, Conv2d, Embedding have one)")


def _linear_per_example(layer, x, g) -> dict:
    # dL/dW = Σ_i Σ_t g_itᵀ x_it: keep the sum over time t, not over examples i
    batch = x.shape[0]
    x3, g3 = x.reshape(batch, -1, x.shape[-1]), g.reshape(batch, -1, g.shape[-1])
    shares = {"weight": g3.transpose(0, 2, 1) @ x3}
    if layer.bias is not None:
        shares["bias"] = g3.sum(1)
    return shares


def _conv_per_example(layer, x, g) -> dict:
    # dL/dW = Σ_i g_i cols(x_i)ᵀ, cols(x_i) the receptive fields of example i as columns
    cols, g3 = _conv_columns(layer, x, g)
    weight = (g3 @ cols.transpose(0, 2, 1)).reshape((x.shape[0],) + layer.weight.shape)
    shares = {"weight": weight}
    if layer.bias is not None:
        shares["bias"] = g3.sum(2)
    return shares


def _conv_columns(layer, x, g):
    """(receptive fields (B, C·kh·kw, L), output gradient (B, out, L)) of a 1-D or 2-D conv."""
    if layer.groups != 1 or layer.padding_mode != "zeros":
        raise TypeError(f"per_example_gradients: {type(layer).__name__} with groups > 1 or "
                        "padding_mode other than 'zeros' has no rule")
    kernel, stride, dilation = layer.kernel_size, layer.stride, layer.dilation
    padding = _padding_pairs(layer)
    if layer.nd == 1:  # a 1-D conv is a 2-D conv over images one pixel high
        x = x[:, :, None, :]
        kernel, stride, dilation = (1, *kernel), (1, *stride), (1, *dilation)
        padding = ((0, 0), *padding)
    cols = im2col(x, kernel, stride, padding, dilation, keep=True)  # (C, kh, kw, B, oh, ow)
    batch = x.shape[0]
    k = cols.shape[0] * cols.shape[1] * cols.shape[2]
    cols = cols.reshape(k, batch, -1).transpose(1, 0, 2)
    return cols, g.reshape(batch, g.shape[1], -1)


def _padding_pairs(layer) -> tuple:
    if layer.padding == "valid":
        return ((0, 0),) * layer.nd
    if layer.padding == "same":  # PyTorch puts the odd pixel at the end
        totals = [d * (k - 1) for d, k in zip(layer.dilation, layer.kernel_size)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in layer.padding)


def _embedding_rows(layer, ids, g):
    """ids as (B, T) and their output gradients as (B, T, D), zero at the padding index."""
    batch = ids.shape[0]
    ids2 = ids.reshape(batch, -1)
    g3 = g.reshape(batch, ids2.shape[1], -1)
    if layer.padding_idx is not None:
        g3 = g3 * (ids2 != layer.padding_idx)[..., None]
    return ids2, g3


def _embedding_per_example(layer, ids, g) -> dict:
    # dL/dW[row] = Σ over the positions t where ids_t = row of g_t: scatter, per example
    m = backend.xp(g)
    batch = ids.shape[0]
    ids2, g3 = _embedding_rows(layer, ids, g)
    weight = m.zeros((batch,) + tuple(layer.weight.shape), dtype=g.dtype)
    example = m.broadcast_to(m.arange(batch)[:, None], ids2.shape)
    m.add.at(weight, (example, ids2), g3)
    return {"weight": weight}


def per_example_square_norms(layer, x, grad_output):
    """‖example i's share‖² summed over the layer's parameters, shape (B,), and the square
    norm of the batch gradient: without building (B, out, in) arrays where a shortcut
    exists (a Linear layer on single vectors: ‖gᵢ xᵢᵀ‖² = ‖gᵢ‖²‖xᵢ‖²)."""
    x, g = _array(x), _array(grad_output)
    if isinstance(layer, Linear) and x.ndim == 2:
        g_sq, x_sq = (g * g).sum(1), (x * x).sum(1)
        weight_grad = g.T @ x
        squares, total = g_sq * x_sq, float((weight_grad * weight_grad).sum())
        if layer.bias is not None:
            bias_grad = g.sum(0)
            squares, total = squares + g_sq, total + float((bias_grad * bias_grad).sum())
        return squares, total
    if isinstance(layer, Embedding):
        return _embedding_square_norms(layer, x, g)
    return _share_square_norms(per_example_gradients(layer, x, grad_output))


def _share_square_norms(shares: dict):
    squares, total = 0.0, 0.0
    for share in shares.values():
        flat = share.reshape(share.shape[0], -1)
        squares = squares + (flat * flat).sum(1)
        summed = flat.sum(0)
        total += float((summed * summed).sum())
    return squares, total


def _embedding_square_norms(layer, ids, g):
    # ‖Σ_t e(ids_t) g_tᵀ‖² = Σ_{t,s} [ids_t = ids_s] g_t·g_s: a (T, T) Gram matrix per
    # example instead of a (vocabulary, D) table per example
    m = backend.xp(g)
    ids2, g3 = _embedding_rows(layer, ids, g)
    same = ids2[:, :, None] == ids2[:, None, :]
    squares = ((g3 @ g3.transpose(0, 2, 1)) * same).sum((1, 2))
    table = m.zeros(tuple(layer.weight.shape), dtype=g.dtype)
    m.add.at(table, ids2.ravel(), g3.reshape(-1, g3.shape[-1]))
    return squares, float((table * table).sum())


def gradient_spread(square_norms, batch_square_norm: float) -> float:
    """tr(Σ) = mean ‖gᵢ - ḡ‖² (unbiased), with gᵢ = B·shareᵢ each example's own gradient
    and ḡ = Σ shareᵢ the batch gradient: how far single examples' gradients scatter."""
    batch = len(square_norms)
    if batch < 2:
        return float("nan")
    spread = batch * float(square_norms.sum()) - batch_square_norm  # mean ‖gᵢ‖² - ‖ḡ‖²
    return max(spread, 0.0) * batch / (batch - 1)


def gradient_noise(spread: float, batch_square_norm: float, batch: int) -> float:
    """The batch gradient's noise against its signal: its random part has expected square
    length tr(Σ)/B, and ‖ḡ‖² - tr(Σ)/B estimates the true gradient's square length. Above 1,
    a step follows noise more than the gradient. (Averaged over many readings, the two
    parts are estimated better than from one batch.)"""
    noise = spread / batch
    signal = batch_square_norm - noise
    return noise / signal if signal > 0 else float("inf")


# --- curvature ----------------------------------------------------------------------------------
def hessian_vector_product(loss_fn, params, vectors) -> list:
    """H v for the loss's Hessian H over `params`: the gradient of g·v, g = dL/dθ built
    with create_graph (double backward). `loss_fn()` computes the loss afresh."""
    params = list(params)
    grads = autograd_grad(loss_fn(), params, create_graph=True)
    dot = sum((g * Tensor._wrap(v)).sum() for g, v in zip(grads, vectors))
    return [h.array for h in autograd_grad(dot, params)]


def top_hessian_eigenvalue(loss_fn, params, iterations: int = 20, tolerance: float = 1e-3,
                           seed: int = 0) -> float:
    """The Hessian's eigenvalue of largest size (the sharpness), by power iteration:
    v ← Hv / ‖Hv‖, λ ≈ v·Hv; stops when λ changes by less than `tolerance` (relative)."""
    params = list(params)
    rng = numpy.random.default_rng(seed)
    vectors = [backend.to_device(rng.standard_normal(p.shape).astype(p.dtype), p.device)
               for p in params]
    vectors = _normalised(vectors)
    eigenvalue = 0.0
    for _ in range(iterations):
        product = hessian_vector_product(loss_fn, params, vectors)
        estimate = float(sum((v * h).sum() for v, h in zip(vectors, product)))
        vectors = _normalised(product)
        if abs(estimate - eigenvalue) <= tolerance * abs(estimate):
            return estimate
        eigenvalue = estimate
    return eigenvalue


def _normalised(vectors) -> list:
    norm = math.sqrt(sum(float((v * v).sum()) for v in vectors)) or 1.0
    return [v / norm for v in vectors]


# --- per-layer readings, every N steps -----------------------------------------------------------
class Instruments:
    """Reads a model's layers every `every` steps. Between readings no hook is registered,
    so those steps cost nothing; a reading registers module hooks for one step."""

    def __init__(self, model, every: int = 10):
        if every < 1:
            raise ValueError(f"Instruments: every must be at least 1, got {every}")
        self.model = model
        self.every = every
        self.readings: list = []
        self.losses: list = []
        self._handles: list = []
        self._before: dict = {}
        self._captured: dict = {}
        self._order: list = []
        self._activations: dict = {}
        self._input: dict = {}
        self.arm()  # the first step is read

    # the step loop calls this after every optimizer step
    def after_step(self, step: int, loss: float, lr: float | None = None) -> None:
        self.losses.append(float(loss))
        if self._handles:
            self.readings.append(self._read(step, loss, lr))
            self._disarm()
        if (step + 1) % self.every == 0:
            self.arm()

    def arm(self) -> None:
        """Hooks for the next step: layer inputs and output gradients, activation stats."""
        self._before = {name: p.array.copy() for name, p in self.model.named_parameters()}
        self._captured, self._order, self._activations, self._input = {}, [], {}, {}
        self._handles.append(self.model.register_forward_pre_hook(self._see_input))
        for name, module in self.model.named_modules():
            if isinstance(module, (Linear, Conv1d, Conv2d, Embedding)):
                self._handles.append(module.register_forward_hook(self._keep_input(name)))
                self._handles.append(
                    module.register_full_backward_pre_hook(self._keep_grad(name)))
            elif isinstance(module, RNNBase):
                self._handles.append(module.register_forward_hook(self._tap_recurrent(name)))
            elif isinstance(module, (ReLU, Tanh, Sigmoid)):
                self._handles.append(module.register_forward_hook(self._activation(name)))

    def _disarm(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._captured, self._before = {}, {}

    def _see_input(self, module, args):
        x = args[0].array if args and isinstance(args[0], Tensor) else None
        if x is not None and x.dtype.kind == "f":
            self._input = {"mean": float(x.mean()), "std": float(x.std()),
                           "absmax": float(abs(x).max())}

    def _keep_input(self, name):
        def hook(module, args, output):
            if name not in self._captured:
                self._order.append(name)
            self._captured[name] = {"module": module, "x": args[0].array,
                                    "mean": float(output.array.mean()),
                                    "std": float(output.array.std())}
        return hook

    def _tap_recurrent(self, name):
        def hook(module, args, output):
            if name not in self._captured:
                self._order.append(name)
            sequence = output[0].array
            self._captured[name] = {"module": module, "tap": RecurrentTap(module, args[0], output),
                                    "mean": float(sequence.mean()), "std": float(sequence.std())}
        return hook

    def _keep_grad(self, name):
        def hook(module, grad_output):
            self._captured[name]["g"] = grad_output[0].array
        return hook

    def _activation(self, name):
        def hook(module, args, output):
            y = output.array
            stats = {"kind": type(module).__name__, "mean": float(y.mean()),
                     "std": float(y.std())}
            if isinstance(module, ReLU):
                alive = (y > 0).any(axis=0)  # a unit fires for some example (and position)
                while alive.ndim > 1:  # conv maps: a channel is a unit
                    alive = alive.any(axis=-1)
                stats["dead"] = 1.0 - float(alive.mean())
            elif isinstance(module, Tanh):
                stats["saturated"] = float((abs(y) > SATURATED).mean())
            else:
                stats["saturated"] = float(((y < 1 - SATURATED) | (y > SATURATED)).mean())
            self._activations[name] = stats
        return hook

    def _read(self, step: int, loss: float, lr) -> dict:
        layers, squares, batch_square = {}, None, 0.0
        for name in self._order:
            seen = self._captured[name]
            module = seen["module"]
            layer = {"kind": type(module).__name__, "mean": seen["mean"], "std": seen["std"]}
            weight_name, weight = next((n, p) for n, p in module.named_parameters()
                                       if "weight" in n)
            if weight.grad is not None and not weight.grad.is_sparse:
                layer["grad_norm"] = _norm(weight.grad.array)
            if seen.get("g") is not None:  # the gradient backpropagated to the layer's output,
                # per element (root mean square): wide and narrow layers compare
                layer["output_grad_rms"] = _norm(seen["g"]) / math.sqrt(max(seen["g"].size, 1))
            before = self._before.get(f"{name}.{weight_name}" if name else weight_name)
            if before is not None:
                layer["weight_norm"] = _norm(before)
                layer["update_ratio"] = _norm(weight.array - before) / (_norm(before) or 1.0)
            example, total = _square_norms(seen) if weight.requires_grad else (None, 0.0)
            if example is not None:
                squares = example if squares is None else squares + example
                batch_square += total
            layers[name] = layer
        reading = {"step": step, "loss": float(loss), "layers": layers,
                   "activations": self._activations, "input": self._input}
        if lr is not None:
            reading["lr"] = lr
        if squares is not None and len(squares) > 1:
            reading["gradient_spread"] = gradient_spread(backend.to_device(squares, "cpu"),
                                                         batch_square)
            reading["gradient_square_norm"] = batch_square
            reading["batch_size"] = int(len(squares))
        return reading


def _square_norms(seen: dict):
    """Per-example square norms and the batch gradient's, for one captured layer."""
    if "tap" in seen:
        shares = seen["tap"].shares()
        return _share_square_norms(shares) if shares else (None, 0.0)
    if "g" not in seen:
        return None, 0.0
    try:
        return per_example_square_norms(seen["module"], seen["x"], seen["g"])
    except TypeError:  # a layer kind without a per-example rule
        return None, 0.0


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def _norm(array) -> float:
    return float(math.sqrt(float((array * array).sum())))


# --- the Trainer callback and the run folder's instruments.json -----------------------------------
class InstrumentRecorder(Callback):
    """Instruments as a Trainer callback: readings every `every` steps, every batch's loss,
    and at each epoch's end the sharpness (top Hessian eigenvalue on a fixed batch) and the
    loss of each of up to 2048 fixed training examples (to find those that stay high)."""

    def __init__(self, every: int = 10, sharpness: bool = True):
        self.every = every
        self.sharpness = sharpness
        self.instruments = None
        self.epochs: list = []

    def on_fit_start(self, trainer, train_loader, epochs: int) -> None:
        self.instruments = Instruments(trainer.model, self.every)
        self.batches_per_epoch = len(train_loader)
        self.probe = _probe(train_loader)
        self.optimizer = _describe_optimizer(trainer.optimizer)

    def on_batch_end(self, trainer, step: int, loss: float) -> None:
        self.instruments.after_step(step, loss, trainer.optimizer.param_groups[0]["lr"])

    def on_epoch_end(self, trainer, record: dict) -> None:
        entry = dict(record)
        if self.probe is not None:
            x, y = self.probe
            entry["example_losses"] = _example_losses(trainer, x, y)
            if self.sharpness:
                entry["sharpness"] = _sharpness(trainer, x[:SHARPNESS_EXAMPLES],
                                                y[:SHARPNESS_EXAMPLES])
        self.epochs.append(entry)

    def to_dict(self, data: dict | None = None) -> dict:
        """Everything the doctor reads, as plain JSON values."""
        return _plain({"format": "chainrule-instruments", "every": self.every,
                       "batches_per_epoch": self.batches_per_epoch,
                       "optimizer": self.optimizer, "batch_losses": self.instruments.losses,
                       "readings": self.instruments.readings, "epochs": self.epochs,
                       "data": data or {}})

    def stopped(self, reason: str) -> dict:
        """The record of a run that a NaN or infinite loss stopped (the loss of the step
        that never finished counts as infinite)."""
        self.instruments.losses.append(float("inf"))
        return self.to_dict({"stopped": reason})

    def save(self, run_dir: str, record: dict) -> str:
        """Write `record` (from to_dict) as the run folder's instruments.json."""
        path = os.path.join(run_dir, INSTRUMENTS_FILE)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        return path


def _probe(train_loader):
    """The first training examples in stored order, as tensors (x, y), or None."""
    dataset = getattr(train_loader, "dataset", None)
    tensors = getattr(dataset, "tensors", None)
    if not tensors or len(tensors) != 2:
        return None
    count = min(len(tensors[1]), PROBE_EXAMPLES)
    return tensors[0][:count], tensors[1][:count]


def _describe_optimizer(optimizer) -> dict:
    group = optimizer.param_groups[0]
    return {"name": type(optimizer).__name__, "lr": group.get("lr"),
            "momentum": group.get("momentum", 0.0) or 0.0}


@no_grad()
def _example_losses(trainer, x, y) -> list:
    was_training = trainer.model.training
    trainer.model.eval()
    losses = F.cross_entropy(trainer.model(x), y, reduction="none").array
    trainer.model.train(was_training)
    return [round(float(v), 5) for v in backend.to_device(losses, "cpu")]


def _sharpness(trainer, x, y) -> float:
    model = trainer.model
    was_training = model.training
    model.eval()  # no dropout noise inside the power iteration
    params = [p for p in model.parameters() if p.requires_grad]
    try:
        return top_hessian_eigenvalue(lambda: trainer.loss_fn(model(x), y), params,
                                      iterations=8, tolerance=0.02)
    except RuntimeError:  # a layer whose backward cannot be differentiated again
        return float("nan")
    finally:
        model.train(was_training)


def _plain(value):
    """JSON-ready: NaN and infinities as None, NumPy numbers as Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, numpy.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, numpy.integer):
        return int(value)
    return value

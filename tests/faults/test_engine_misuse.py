"""The engine under misuse: an in-place change to a value saved for backward is an error,
never a wrong gradient; grad mode belongs to the thread; only floating tensors require
grad; a leaf's gradient has the leaf's dtype."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def changed_message(op: str, shape, now=1, expected=0, dtype="float32") -> str:
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: a {dtype} tensor of shape {shape}, saved by {op}, is at "
            f"version {now}; expected version {expected} instead. Hint: change it out of "
            "place (x = x + 1, not x += 1), or clone() it before changing it")


def _iadd(t):
    t += 10


def _isub(t):
    t -= 1


def _imul(t):
    t *= 2


def _idiv(t):
    t /= 2


def _no_grad(change):
    def run(t):
        with cr.no_grad():
            change(t)
    return run


IN_PLACE = {
    "x += 10": _iadd, "x -= 1": _isub, "x *= 2": _imul, "x /= 2": _idiv,
    "x[0] = 100": lambda t: t.__setitem__(0, 100.0),
    "x[1:] = 0": lambda t: t.__setitem__(slice(1, None), 0.0),
    "x.zero_()": lambda t: t.zero_(), "x.fill_(3)": lambda t: t.fill_(3.0),
    "x.copy_(y)": lambda t: t.copy_(cr.ones(3)), "x.exp_()": lambda t: t.exp_(),
    "x.clamp_(0, 4)": lambda t: t.clamp_(0.0, 4.0), "x.add_(1)": lambda t: t.add_(1.0),
    "exp(y, out=x)": lambda t: cr.exp(cr.ones(3), out=t),
    "x.uniform_()": lambda t: t.uniform_(), "x.normal_()": lambda t: t.normal_(),
    "x.masked_fill_(m, 0)": lambda t: t.masked_fill_(cr.tensor([True, False, True]), 0.0),
    "x.index_fill_(0, i, 0)": lambda t: t.index_fill_(0, cr.tensor([1]), 0.0),
    "x[1:].zero_() (a view)": lambda t: t[1:].zero_(),
    "x.reshape(3, 1) += 1 (a view)": lambda t: _iadd(t.reshape(3, 1)),
    "x.detach().zero_()": lambda t: t.detach().zero_(),
    "x.data.mul_(0)": lambda t: t.data.mul_(0.0),
    "under no_grad: x += 1": _no_grad(_iadd),
}


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_changing_a_saved_input_in_place_is_refused(change):
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0])
    loss = (w * x).sum()
    change(x)
    with pytest.raises(RuntimeError) as caught:
        loss.backward()
    assert str(caught.value) == changed_message("Mul", (3,))
    assert w.grad is None


def test_changing_a_weight_under_no_grad_between_forward_and_backward_is_refused():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0], requires_grad=True)
    loss = (w * x).sum()
    with cr.no_grad():
        w -= 5
    with pytest.raises(RuntimeError, match="saved by Mul, is at version 1; expected version 0"):
        loss.backward()


def test_changing_a_saved_output_through_detach_is_refused():
    w = cr.tensor([0.5, 1.5], requires_grad=True)
    y = w.exp()
    loss = y.sum()
    y.detach().zero_()
    with pytest.raises(RuntimeError) as caught:
        loss.backward()
    assert str(caught.value) == changed_message("Exp", (2,))


def test_the_message_counts_every_change():
    w = cr.tensor([1.0, 2.0], requires_grad=True, dtype=cr.float64)
    x = cr.tensor([3.0, 4.0], dtype=cr.float64)
    x.zero_()  # before the forward pass: version 1 is what Mul saves
    loss = (w * x).sum()
    x.fill_(1.0)
    x.fill_(2.0)
    with pytest.raises(RuntimeError) as caught:
        loss.backward()
    assert str(caught.value) == changed_message("Mul", (2,), now=3, expected=1, dtype="float64")


def test_a_retained_graph_refuses_the_second_pass_after_a_change():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = w.tanh()
    loss = y.sum()
    loss.backward(retain_graph=True)
    y.detach().mul_(2.0)
    with pytest.raises(RuntimeError, match="saved by Tanh, is at version 1"):
        loss.backward()


# --- what stays allowed: changes the gradient does not depend on -----------------------
def _grad_after(change):
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0])
    b = cr.tensor([1.0, 1.0, 1.0])
    loss = ((w * x) + b).sum()
    change(x, b)
    loss.backward()
    return w.grad.numpy()


ALLOWED = {
    "an input the op did not save (add's)": lambda x, b: _iadd(b),
    "a clone": lambda x, b: x.clone().zero_(),
    "out of place": lambda x, b: x + 1,
    "a copy made with numpy": lambda x, b: np.asarray(x).copy().fill(0),
}


@pytest.mark.parametrize("change", ALLOWED.values(), ids=ALLOWED.keys())
def test_changes_the_gradient_does_not_depend_on_are_allowed(change):
    assert _grad_after(change).tolist() == [4.0, 5.0, 6.0]


def test_an_in_place_change_before_the_forward_pass_is_allowed():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    x += 1
    (w * x).sum().backward()
    assert w.grad.tolist() == [4.0, 5.0]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_an_optimizer_step_between_forward_and_backward_is_refused(optimizer):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = getattr(cr.optim, optimizer)(model.parameters(), lr=0.1)
    x = cr.randn(5, 3)
    model(x).sum().backward()
    out = model(x).sum()
    opt.step()  # changes the weights that `out`'s graph saved
    with pytest.raises(RuntimeError) as caught:
        out.backward()
    assert str(caught.value) == changed_message("Linear", (1, 4))


def test_training_with_an_optimizer_is_unaffected():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = cr.randn(8, 3), cr.randn(8, 1)
    for _ in range(5):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert np.isfinite(loss.item())


# --- grad mode per thread --------------------------------------------------------------
def _reference_gradient(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d/dw sum(tanh(x @ w)^2) = x^T (2 tanh(xw) (1 - tanh(xw)^2))."""
    t = np.tanh(x @ w)
    return x.T @ (2 * t * (1 - t * t))


def _train(seed: int, steps: int, errors: list, gradients_checked: list):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 4))
    w = cr.tensor(rng.standard_normal((4, 3)), requires_grad=True, dtype=cr.float64)
    for _ in range(steps):
        try:
            loss = ((cr.tensor(x, dtype=cr.float64) @ w).tanh() ** 2).sum()
            loss.backward()
            expected = _reference_gradient(w.detach().numpy(), x)
            if not np.allclose(w.grad.numpy(), expected, rtol=1e-10, atol=1e-12):
                errors.append("wrong gradient")
            gradients_checked.append(1)
            with cr.no_grad():
                w -= 0.01 * w.grad
            w.grad = None
        except Exception as err:  # noqa: BLE001 - every failure is counted, not raised
            errors.append(repr(err))


def _evaluate_under_no_grad(stop: threading.Event, errors: list):
    x = cr.randn(16, 4)
    while not stop.is_set():
        with cr.no_grad():
            out = (x * 2).tanh()
        if out.requires_grad:
            errors.append("recorded under no_grad")


@pytest.fixture
def fast_switching():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave between almost every bytecode
    yield
    sys.setswitchinterval(interval)


def test_two_threads_train_at_once_with_every_gradient_right(fast_switching):
    errors, checked = [], []
    threads = [threading.Thread(target=_train, args=(seed, 300, errors, checked))
               for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(checked) == 600
    assert cr.is_grad_enabled()


def test_no_grad_in_one_thread_leaves_another_training(fast_switching):
    errors, checked, stop = [], [], threading.Event()
    evaluator = threading.Thread(target=_evaluate_under_no_grad, args=(stop, errors))
    trainer = threading.Thread(target=_train, args=(3, 400, errors, checked))
    evaluator.start()
    trainer.start()
    trainer.join()
    stop.set()
    evaluator.join()
    assert errors == [] and len(checked) == 400
    assert cr.is_grad_enabled()


def test_a_new_thread_starts_with_grad_on_whatever_this_one_set():
    seen = []
    with cr.no_grad():
        thread = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not cr.is_grad_enabled()
    assert seen == [True] and cr.is_grad_enabled()


def test_backward_does_not_switch_grad_mode_for_other_threads():
    modes = []
    w = cr.tensor([1.0], requires_grad=True)
    loss = (w * 3).sum()

    def hook(grad):
        thread = threading.Thread(target=lambda: modes.append(cr.is_grad_enabled()))
        thread.start()
        thread.join()
        modes.append(cr.is_grad_enabled())  # this thread, inside backward: off
        return grad
    loss.register_hook(hook)
    loss.backward()
    assert modes == [True, False]


# --- which tensors can require grad, and the dtype of a leaf's gradient ----------------
INTEGERS = ["int8", "int16", "int32", "int64", "uint8", "bool"]
REFUSAL = "only tensors of floating point dtype can require gradients, got {}"


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("how", ["attribute", "method", "constructor", "parameter"])
def test_only_floating_tensors_can_require_grad(dtype, how):
    values = np.array([1, 0, 1]).astype(dtype)
    with pytest.raises(TypeError) as caught:
        if how == "attribute":
            cr.tensor(values).requires_grad = True
        elif how == "method":
            cr.tensor(values).requires_grad_()
        elif how == "constructor":
            cr.tensor(values, requires_grad=True)
        else:
            nn.Parameter(cr.tensor(values))
    assert str(caught.value) == REFUSAL.format(dtype)
    with pytest.raises(RuntimeError):  # PyTorch refuses the same
        torch.tensor(values).requires_grad = True


CASTS = {"long()": (lambda t: t.long(), lambda t: t.long()),
         "int()": (lambda t: t.int(), lambda t: t.int()),
         "bool()": (lambda t: t.bool(), lambda t: t.bool()),
         "to(int8)": (lambda t: t.to(cr.int8), lambda t: t.to(torch.int8))}


@pytest.mark.parametrize("ours,theirs", CASTS.values(), ids=CASTS.keys())
def test_an_op_with_integer_output_does_not_require_grad(ours, theirs):
    w = cr.tensor([1.5, -2.5], requires_grad=True)
    out = ours(w)
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        (out * 2).sum().backward()
    assert not theirs(torch.tensor([1.5, -2.5], requires_grad=True)).requires_grad


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_floating_tensors_can_require_grad(dtype):
    t = cr.tensor([1.0, 2.0], dtype=dtype)
    t.requires_grad = True
    assert t.requires_grad and t.is_leaf
    t.requires_grad = False
    assert not t.requires_grad


@pytest.mark.parametrize("leaf_dtype,other_dtype", [("float32", "float64"),
                                                     ("float64", "float32"),
                                                     ("float16", "float32")])
def test_a_leaf_gradient_has_the_leaf_dtype(leaf_dtype, other_dtype):
    w = cr.tensor([1.0, 2.0, 3.0], dtype=leaf_dtype, requires_grad=True)
    x = cr.tensor([0.5, 0.25, 2.0], dtype=other_dtype)
    (w * x).sum().backward()
    (w * x).sum().backward()  # accumulating keeps it too
    tw = torch.tensor([1.0, 2.0, 3.0], dtype=getattr(torch, leaf_dtype), requires_grad=True)
    tx = torch.tensor([0.5, 0.25, 2.0], dtype=getattr(torch, other_dtype))
    (tw * tx).sum().backward()
    (tw * tx).sum().backward()
    assert w.grad.dtype == np.dtype(leaf_dtype)
    assert str(tw.grad.dtype) == f"torch.{leaf_dtype}"
    assert w.grad.numpy().tolist() == tw.grad.numpy().tolist()


def test_autograd_grad_gives_the_input_dtype():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0], dtype=cr.float64)
    (g,) = cr.autograd.grad((w * x).sum(), w)
    assert g.dtype == np.float32 and g.tolist() == [3.0, 4.0]


def test_second_derivatives_keep_the_leaf_dtype():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0], dtype=cr.float64)
    (g,) = cr.autograd.grad((w * w * x).sum(), w, create_graph=True)
    assert g.dtype == np.float32
    g.sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [6.0, 8.0]

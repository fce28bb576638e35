"""Anomaly mode: NaN/Inf planted in the forward and in the backward pass must stop at the op
that made it, naming the op, the pass, the user's line and the likely cause. Off by
default, and then the hot path is the plain one (nothing wrapped, nothing tested)."""
from __future__ import annotations

import math
import warnings

import numpy
import pytest

import chainrule as cr
from chainrule.autograd import (
    AnomalyError,
    Function,
    detect_anomaly,
    hooks,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from chainrule.diagnostics import anomaly


@pytest.fixture(autouse=True)
def quiet_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "divide by zero" etc.
        yield
    assert not is_anomaly_enabled()  # every test leaves the mode off


def leaf(values, dtype=cr.float32):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


def plain_hot_path() -> bool:
    """No op hook registered: Op.apply and the engine run their plain paths."""
    return hooks.active == ()


# --- on and off ------------------------------------------------------------------------------
def test_off_by_default_with_the_plain_hot_path() -> None:
    assert not is_anomaly_enabled()
    assert plain_hot_path()
    x = leaf([0.0, 1.0])
    y = x.log()  # -inf, no error when off
    assert math.isinf(y.tolist()[0])
    assert "anomaly_origin" not in y.grad_fn.__dict__  # no per-op recording when off


def test_context_manager_decorator_and_setter_restore_the_mode() -> None:
    with detect_anomaly():
        assert is_anomaly_enabled() and not plain_hot_path()
        with detect_anomaly(check_forward=False):
            assert not anomaly.state.check_forward
        assert anomaly.state.check_forward
    assert plain_hot_path()

    @detect_anomaly()
    def inside():
        return is_anomaly_enabled()
    assert inside() and not is_anomaly_enabled()

    set_detect_anomaly(True)
    assert is_anomaly_enabled()
    set_detect_anomaly(False)
    assert plain_hot_path()
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
    assert plain_hot_path()


def test_restored_after_an_anomaly_error() -> None:
    with pytest.raises(AnomalyError), detect_anomaly():
        leaf([0.0]).log()
    assert plain_hot_path()


# --- forward -------------------------------------------------------------------------------------
def test_forward_log_of_zero_times_zero() -> None:
    x = leaf([0.0, 1.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        (x.log() * 0).sum()  # log(0)·0: stops at log, before the NaN of -inf·0
    err = caught.value
    assert isinstance(err, RuntimeError)
    assert (err.op, err.phase, err.kind) == ("Log", "forward", "log-zero")
    assert "log of 0" in err.cause
    assert err.origin.filename == __file__ and "(x.log() * 0).sum()" in err.origin.line
    message = str(err)
    assert "the forward pass of Log produced -Inf" in message
    assert "input 0       shape (2,) float32  min 0  max 1  NaN no  Inf no" in message
    assert "test_anomaly.py" in message


def test_forward_exp_overflow() -> None:
    x = leaf([1.0, 1000.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        x.exp().sum()
    err = caught.value
    assert (err.op, err.phase, err.kind) == ("Exp", "forward", "exp-overflow")
    assert "88.7" in err.cause and "1000" in err.cause


def test_forward_division_by_zero() -> None:
    x = leaf([1.0, 2.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        x / (x - x)
    assert (caught.value.op, caught.value.kind) == ("Div", "division-by-zero")


def test_forward_sqrt_of_a_negative() -> None:
    x = leaf([4.0, -1.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        x.sqrt()
    assert (caught.value.op, caught.value.kind) == ("Sqrt", "sqrt-negative")
    assert "NaN yes" not in str(caught.value).splitlines()[3]  # the input itself was fine


def test_forward_log_of_a_negative_in_the_unused_branch_of_where() -> None:
    x = leaf([-1.0, 2.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        cr.where(x > 0, x.log(), 0.0)
    assert (caught.value.op, caught.value.kind) == ("Log", "log-negative")
    assert "log(where(x > 0, x, 1))" in caught.value.cause
    # backward-only checking lets it through: that branch's gradient is 0/x = 0, finite
    with detect_anomaly(check_forward=False):
        cr.where(x > 0, x.log(), 0.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.5]


def test_forward_overflow_of_large_values_blames_the_learning_rate() -> None:
    x = leaf([3e20, 1.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        x * x
    assert (caught.value.op, caught.value.kind) == ("Mul", "overflow")
    assert "learning rate too high" in caught.value.cause


def test_nan_parameter_means_learning_rate_too_high() -> None:
    w = leaf([0.5, float("nan")])
    x = cr.tensor([1.0, 2.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        (w * x).sum()
    assert (caught.value.op, caught.value.kind) == ("Mul", "lr-too-high")
    assert "learning rate too high" in caught.value.cause


def test_diverging_training_is_caught_with_the_learning_rate_named() -> None:
    w = leaf([1.0])
    x, y = cr.tensor([3.0, -2.0]), cr.tensor([1.0, 2.0])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        for _ in range(200):
            loss = ((x * w - y) ** 2).mean()
            w.grad = None
            loss.backward()
            with cr.no_grad():
                w -= 50.0 * w.grad  # far too large a step: |w| grows ~600x per step
    assert caught.value.kind in ("overflow", "lr-too-high", "gradient-overflow")
    assert "learning rate" in caught.value.cause


def test_nan_in_the_data_is_blamed_on_the_data() -> None:
    w = leaf([1.0, 2.0])
    data = cr.tensor([1.0, float("nan")])
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        w * data
    assert caught.value.kind == "bad-input" and "data" in caught.value.cause


def test_infinity_from_a_constant_mask_is_not_an_anomaly() -> None:
    """Attention masks add -inf on purpose; softmax then gives exact zeros."""
    scores = leaf([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]])
    mask = cr.tensor([[0.0, -math.inf, 0.0], [0.0, 0.0, -math.inf]])
    with detect_anomaly():
        (scores + mask).softmax(dim=-1)[:, 0].sum().backward()
    assert numpy.isfinite(scores.grad.numpy()).all()


def test_a_normal_training_step_raises_nothing() -> None:
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    x, y = cr.randn(16, 4), cr.randint(0, 3, size=(16,))
    with detect_anomaly():
        loss = cr.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        (g,) = cr.autograd.grad((x.requires_grad_() * 2).tanh().sum(), x, create_graph=True)
        g.sum().backward()


# --- backward ------------------------------------------------------------------------------------
def test_backward_sqrt_at_zero_has_an_infinite_slope() -> None:
    x = leaf([0.0, 4.0])
    with detect_anomaly():
        y = x.sqrt()  # forward is fine: sqrt(0) = 0
        with pytest.raises(AnomalyError) as caught:
            y.sum().backward()
    err = caught.value
    assert (err.op, err.phase, err.kind, err.input_index) == ("Sqrt", "backward", "sqrt-zero", 0)
    assert "1/(2√0) = ∞" in err.cause
    assert "y = x.sqrt()" in err.origin.line  # the line that created the op, not backward()
    assert "the backward pass of Sqrt produced +Inf in the gradient for input 0" in str(err)


def test_backward_where_with_sqrt_in_the_unused_branch_is_zero_times_infinity() -> None:
    x = leaf([0.0, 4.0])
    with detect_anomaly():
        y = cr.where(x > 0, x.sqrt(), 0.0)
        with pytest.raises(AnomalyError) as caught:
            y.sum().backward()
    err = caught.value
    assert (err.op, err.phase, err.kind) == ("Sqrt", "backward", "zero-times-inf")
    assert "0·∞" in err.cause and "where" in err.cause
    assert "sqrt(where(x > 0, x, 1))" in err.cause


def test_backward_log_at_zero_in_the_unused_branch() -> None:
    x = leaf([0.0, 2.0])
    with detect_anomaly(check_forward=False):
        y = cr.where(x > 0, x.log(), 0.0)
        with pytest.raises(AnomalyError) as caught:
            y.sum().backward()
    assert (caught.value.op, caught.value.kind) == ("Log", "zero-times-inf")


def test_backward_of_a_user_function_is_checked_by_name() -> None:
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad / 0.0

    x = leaf([1.0, 2.0])
    with detect_anomaly():
        y = Broken.apply(x)
        with pytest.raises(AnomalyError) as caught:
            y.sum().backward()
    err = caught.value
    assert (err.op, err.phase, err.kind) == ("Broken", "backward", "division-by-zero")
    assert "the backward pass of Broken produced +Inf (in its Div)" in str(err)
    assert "return grad / 0.0" in err.origin.line  # the line inside the user's backward


def test_graph_built_before_the_mode_still_checked_in_backward() -> None:
    x = leaf([0.0, 4.0])
    y = x.sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        y.sum().backward()
    assert caught.value.origin is None and "built before anomaly mode" in str(caught.value)


def test_an_anomaly_is_a_one_line_cli_error() -> None:
    from chainrule.cli import _is_user_error
    assert _is_user_error(AnomalyError("x", "Log", "forward", "log-zero", "cause"))

"""The strong-Wolfe line search LBFGS uses (`line_search_fn="strong_wolfe"`).

Along a direction d from x, find a step t whose loss f(t) = loss(x + t d) has
    sufficient decrease:  f(t) <= f(0) + c1 t f'(0)
    curvature:            |f'(t)| <= -c2 f'(0)
by first stepping out until a bracket [lo, hi] must hold such a t ("bracketing"), then
shrinking the bracket by cubic interpolation ("zoom"). Nocedal & Wright, Algorithms 3.5
and 3.6; the numbers follow PyTorch's implementation so that runs agree step for step.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy


def cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                  bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clamped to `bounds` (default: between x1 and x2); the middle if the cubic has none."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


@dataclass
class _Point:
    """One evaluated step along the direction: t, f(t), the gradient there, f'(t)."""
    t: float
    f: float
    grad: numpy.ndarray
    slope: float


def strong_wolfe(evaluate: Callable[[float], tuple[float, numpy.ndarray]], direction,
                 loss: float, grad, slope: float, t: float, c1: float = 1e-4,
                 c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """Search along `direction` from the point with `loss`, `grad` and slope
    `slope` = grad . direction, starting with step `t`; `evaluate(t)` gives the loss and
    gradient at step t. Returns (loss, grad, t, number of evaluations)."""
    d_norm = float(numpy.abs(direction).max())
    start = _Point(0, loss, grad.copy(), slope)

    def at(step):
        f, g = evaluate(step)
        return _Point(step, f, g, float(g @ direction))

    new, evals, iters = at(t), 1, 0
    prev = start
    bracket, done = None, False
    while iters < max_ls:                                        # bracketing
        if new.f > loss + c1 * new.t * slope or (iters > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if abs(new.slope) <= -c2 * slope:
            bracket, done = [new], True
            break
        if new.slope >= 0:
            bracket = [prev, new]
            break
        step = cubic_minimum(prev.t, prev.f, prev.slope, new.t, new.f, new.slope,
                             bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10))
        prev, new = new, at(step)
        evals += 1
        iters += 1
    if iters == max_ls:
        bracket = [start, new]
    if done:
        return new.f, new.grad, new.t, evals

    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    insufficient_progress = False
    while not done and iters < max_ls:                           # zoom
        a, b = bracket[0], bracket[1]
        if abs(b.t - a.t) * d_norm < tolerance_change:
            break
        step = cubic_minimum(a.t, a.f, a.slope, b.t, b.f, b.slope)
        top, bottom = max(a.t, b.t), min(a.t, b.t)
        eps = 0.1 * (top - bottom)
        if min(top - step, step - bottom) < eps:                 # too close to an end:
            if insufficient_progress or step >= top or step <= bottom:
                step = top - eps if abs(step - top) < abs(step - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        new = at(step)
        evals += 1
        iters += 1
        if new.f > loss + c1 * new.t * slope or new.f >= bracket[low].f:
            bracket[high] = new                                  # new upper end
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(new.slope) <= -c2 * slope:
                done = True
            elif new.slope * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    best = bracket[low]
    return best.f, best.grad, best.t, evals

"""L-BFGS: a quasi-Newton method. It keeps the last `history_size` pairs of a step s and
the change of gradient y it caused, and from them applies an approximation of the inverse
Hessian to the gradient (the two-loop recursion) to choose the next direction. Each
`step(closure)` runs up to `max_iter` iterations, re-evaluating the loss through
`closure`, with a fixed step `lr` or a strong-Wolfe line search (see line_search.py).

    d <- -H g,  H built from (s_i, y_i), rho_i = 1 / (y_i . s_i), H0 = (y.s / y.y) I
    x <- x + t d;  s <- t d;  y <- g_new - g        (pair kept only when y . s > 1e-10)

The parameters are handled as one flat vector (all must be on one device), as in PyTorch,
whose iteration and stopping rules this follows so that runs agree.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from .. import backend
from ..autograd import enable_grad, no_grad
from .line_search import strong_wolfe
from .optimizer import Optimizer


class LBFGS(Optimizer):
    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # --- the parameters as one flat vector ---------------------------------------------
    def _flat_grad(self):
        xp = backend.xp(self._params[0].array)
        return xp.concatenate([xp.zeros(p.numel(), p.dtype) if p.grad is None
                               else (p.grad.dense_array() if p.grad.is_sparse
                                     else p.grad.array).reshape(-1) for p in self._params])

    def _move(self, t: float, direction) -> None:
        """x <- x + t d, in place."""
        offset = 0
        for p in self._params:
            n = p.numel()
            p.array += t * direction[offset:offset + n].reshape(p.shape)
            offset += n

    def _evaluate_at(self, closure, t: float, direction):
        """Loss and gradient at x + t d, then x put back."""
        saved = [p.array.copy() for p in self._params]
        self._move(t, direction)
        with enable_grad():
            loss = float(closure())
        grad = self._flat_grad()
        for p, array in zip(self._params, saved):
            p.array[...] = array
        return loss, grad

    # --- one call: up to max_iter iterations ---------------------------------------------
    def step(self, closure: Callable):
        with no_grad():
            return self._iterate(closure)

    def _iterate(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        grad = self._flat_grad()
        xp = backend.xp(grad)
        if xp.abs(grad).max() <= tolerance_grad:                 # already optimal
            return first_loss

        d, t = state.get("d"), state.get("t")
        prev_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -grad
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            else:
                self._remember(state, grad - prev_grad, d * t, group["history_size"])
                d = self._two_loop(state, grad)
            prev_grad = grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(xp.abs(grad).sum())) * lr if state["n_iter"] == 1 \
                else lr
            slope = float(grad @ d)                              # g . d
            if slope > -tolerance_change:                        # not a descent direction
                break

            used = 0
            if group["line_search_fn"] == "strong_wolfe":
                loss, grad, t, used = strong_wolfe(
                    functools.partial(self._evaluate_at, closure, direction=d), d, loss,
                    grad, slope, t, max_ls=max_eval - evals)
                self._move(t, d)
                optimal = xp.abs(grad).max() <= tolerance_grad
            else:
                self._move(t, d)
                optimal = False
                if n_iter != max_iter:                           # the next iteration's g
                    with enable_grad():
                        loss = float(closure())
                    grad = self._flat_grad()
                    optimal = xp.abs(grad).max() <= tolerance_grad
                    used = 1
            evals += used
            state["func_evals"] += used

            if (n_iter == max_iter or evals >= max_eval or optimal
                    or xp.abs(d * t).max() <= tolerance_change
                    or abs(loss - prev_loss) < tolerance_change):
                break

        state.update(d=d, t=t, prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return first_loss

    @staticmethod
    def _remember(state: dict, y, s, history_size: int) -> None:
        """Keep the pair (s, y) if it has positive curvature, forgetting the oldest."""
        ys = float(y @ s)
        if ys <= 1e-10:
            return
        if len(state["old_dirs"]) == history_size:
            for key in ("old_dirs", "old_stps", "ro"):
                state[key].pop(0)
        state["old_dirs"].append(y)
        state["old_stps"].append(s)
        state["ro"].append(1.0 / ys)
        state["H_diag"] = ys / float(y @ y)

    @staticmethod
    def _two_loop(state: dict, grad):
        """-H g by the two-loop recursion over the stored pairs."""
        ys, ss, ro = state["old_dirs"], state["old_stps"], state["ro"]
        alphas = [0.0] * len(ys)
        q = -grad
        for i in reversed(range(len(ys))):
            alphas[i] = float(ss[i] @ q) * ro[i]
            q -= alphas[i] * ys[i]
        r = q * state["H_diag"]
        for i in range(len(ys)):
            beta = float(ys[i] @ r) * ro[i]
            r += (alphas[i] - beta) * ss[i]
        return r

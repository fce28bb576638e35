"""Optimizer hooks against PyTorch: step pre/post hooks (arguments, replacement, removal,
twice through a subclass's super().step(), as PyTorch), and the state-dict hooks."""
from __future__ import annotations

import pytest
import torch

import chainrule as cr


def _sgd(lib):
    weight = lib.ones(3, requires_grad=True)
    weight.grad = lib.ones(3)
    return lib.optim.SGD([weight], lr=0.1), weight


@pytest.mark.parametrize("lib", [cr, torch])
def test_step_hooks_run_around_each_step_until_removed(lib):
    optimizer, weight = _sgd(lib)
    calls = []
    pre = optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: calls.append(("pre", opt is optimizer, args, kwargs,
                                                weight.detach().numpy()[0].item())))
    post = optimizer.register_step_post_hook(
        lambda opt, args, kwargs: calls.append(("post", opt is optimizer, args, kwargs,
                                                round(weight.detach().numpy()[0].item(), 6))))
    optimizer.step()
    assert calls == [("pre", True, (optimizer,), {}, 1.0), ("post", True, (optimizer,), {}, 0.9)]
    pre.remove()
    post.remove()
    optimizer.step()
    assert len(calls) == 2


@pytest.mark.parametrize("lib", [cr, torch])
def test_a_step_pre_hook_may_replace_the_arguments(lib):
    optimizer, _ = _sgd(lib)
    seen = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: ((opt,), {"closure": lambda: 7.0}))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: seen.append(sorted(kwargs)))
    assert optimizer.step() == 7.0
    assert seen == [["closure"]]
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: "wrong")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        optimizer.step()


@pytest.mark.parametrize("lib", [cr, torch])
def test_a_subclass_step_calling_super_runs_the_hooks_twice_as_pytorch(lib):
    class Counting(lib.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    weight = lib.ones(2, requires_grad=True)
    weight.grad = lib.ones(2)
    optimizer, calls = Counting([weight], lr=0.1), []
    optimizer.register_step_pre_hook(lambda *a: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *a: calls.append("post"))
    optimizer.step()
    assert calls == ["pre", "pre", "post", "post"]


@pytest.mark.parametrize("lib", [cr, torch])
def test_state_dict_hooks(lib):
    optimizer, _ = _sgd(lib)
    calls = []
    optimizer.register_state_dict_pre_hook(lambda opt: calls.append("pre"))

    def tag(opt, state):
        calls.append("post")
        state["param_groups"][0]["tag"] = "saved"
    optimizer.register_state_dict_post_hook(tag)
    optimizer.register_state_dict_post_hook(lambda opt, state: calls.append("first"),
                                            prepend=True)
    saved = optimizer.state_dict()
    assert calls == ["pre", "first", "post"] and saved["param_groups"][0]["tag"] == "saved"

    other, _ = _sgd(lib)

    def change_lr(opt, state):
        state = {"state": state["state"], "param_groups": [dict(state["param_groups"][0],
                                                                lr=0.5)]}
        return state
    other.register_load_state_dict_pre_hook(change_lr)
    other.register_load_state_dict_post_hook(lambda opt: calls.append("loaded"))
    other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == 0.5 and calls[-1] == "loaded"


@pytest.mark.parametrize("lib", [cr, torch])
def test_a_state_dict_post_hook_may_return_a_new_dict(lib):
    optimizer, _ = _sgd(lib)
    optimizer.register_state_dict_post_hook(lambda opt, state: {"replaced": True})
    assert optimizer.state_dict() == {"replaced": True}

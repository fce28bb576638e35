"""Hooks on every module (torch.nn.modules.module.register_module_*_hook): they run before
each module's own hooks of the same kind, see and replace what those see, and once removed
leave modules on the hook-free path. Compared with torch on the same small network."""
from __future__ import annotations

import importlib

import pytest
import torch

import chainrule as cr


def _run(lib):
    hooks = importlib.import_module(f"{lib.__name__}.nn.modules.module")
    net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
    with lib.no_grad():
        net[0].weight.copy_(lib.tensor([[1.0, -1.0], [2.0, 0.5]]))
        net[0].bias.copy_(lib.tensor([0.0, -1.0]))
    log = []
    net[0].register_forward_hook(lambda m, a, o: log.append("own forward"))
    handles = [
        hooks.register_module_forward_pre_hook(
            lambda m, a: log.append(f"pre {type(m).__name__}")),
        hooks.register_module_forward_hook(
            lambda m, a, o: (log.append(f"forward {type(m).__name__}"), o * 2)[1]),
        hooks.register_module_full_backward_pre_hook(
            lambda m, go: log.append(f"backward pre {type(m).__name__}")),
        hooks.register_module_full_backward_hook(
            lambda m, gi, go: log.append(f"backward {type(m).__name__} {gi[0].tolist()}")),
    ]
    x = lib.tensor([[1.0, 2.0]], requires_grad=True)
    out = net(x)
    out.sum().backward()
    for handle in handles:
        handle.remove()
    after = net(lib.tensor([[1.0, 2.0]])).tolist()
    return log, out.tolist(), x.grad.tolist(), after


def test_global_hooks_run_first_and_replace_as_torchs_do():
    ours, theirs = _run(cr), _run(torch)
    assert ours[1:] == theirs[1:]
    assert ours[0] == theirs[0]
    assert ours[0][:4] == ["pre Sequential", "pre Linear", "forward Linear", "own forward"]


def test_removing_the_last_global_hook_restores_the_hook_free_path():
    from chainrule.nn.modules.module import register_module_forward_hook
    layer = cr.nn.Linear(2, 2)
    handle = register_module_forward_hook(lambda m, a, o: None)
    assert cr.nn.Module._hooks is not None
    handle.remove()
    handle.remove()  # twice is harmless
    assert cr.nn.Module._hooks is None and "_hooks" not in layer.__dict__
    with pytest.raises(TypeError, match="must be callable"):
        register_module_forward_hook("not a function")

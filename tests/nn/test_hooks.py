"""Module hooks against PyTorch's: the same calls, in the same order, with the same values."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def twin_models():
    """The same two-layer network in chainrule and in PyTorch."""
    cr.manual_seed(0)
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.from_numpy(p.numpy().copy()))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    return ours, theirs, x


def as_numpy(value):
    if value is None:
        return None
    return value.detach().numpy() if isinstance(value, torch.Tensor) else value.numpy()


def record_all_hooks(model, log):
    layer = model[2]
    layer.register_forward_pre_hook(lambda m, args: log.append(("pre", as_numpy(args[0]))))
    layer.register_forward_hook(lambda m, args, out: log.append(("forward", as_numpy(out))))
    layer.register_full_backward_pre_hook(
        lambda m, g: log.append(("backward_pre", as_numpy(g[0]))))
    layer.register_full_backward_hook(
        lambda m, gi, go: log.append(("backward", as_numpy(gi[0]), as_numpy(go[0]))))
    first = model[0]  # its input needs no gradient: grad_input is (None,)
    first.register_full_backward_hook(
        lambda m, gi, go: log.append(("first", gi[0] is None, as_numpy(go[0]))))


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's note on `first`
def test_hooks_are_called_like_pytorch_s():
    ours, theirs, x = twin_models()
    logs = {"ours": [], "theirs": []}
    record_all_hooks(ours, logs["ours"])
    record_all_hooks(theirs, logs["theirs"])
    (ours(cr.tensor(x)) ** 2).sum().backward()
    (theirs(torch.from_numpy(x)) ** 2).sum().backward()
    assert [e[0] for e in logs["ours"]] == [e[0] for e in logs["theirs"]] == \
        ["pre", "forward", "backward_pre", "backward", "first"]
    for a, b in zip(logs["ours"], logs["theirs"]):
        for u, v in zip(a[1:], b[1:]):
            if isinstance(u, bool):
                assert u == v
            else:
                np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_hooks_may_replace_inputs_outputs_and_gradients():
    ours, theirs, x = twin_models()
    for model in (ours, theirs):
        model[2].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        model[2].register_forward_hook(lambda m, args, out: out + 1)
        model[2].register_full_backward_pre_hook(lambda m, g: (g[0] * 3,))
        model[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
    out_ours = ours(cr.tensor(x))
    out_theirs = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-5)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_removed_hooks_leave_no_trace_and_prepend_orders():
    model = nn.Linear(2, 2)
    calls = []
    first = model.register_forward_hook(lambda m, a, o: calls.append("a"))
    with model.register_forward_hook(lambda m, a, o: calls.append("b"), prepend=True):
        model(cr.ones(1, 2))
    assert calls == ["b", "a"]
    first.remove()
    first.remove()  # twice is harmless, as in PyTorch
    model(cr.ones(1, 2))
    assert calls == ["b", "a"]
    assert "_hooks" not in model.__dict__  # back on the hook-free path


def test_forward_hooks_with_kwargs():
    model = nn.Linear(2, 2)
    seen = {}
    model.register_forward_pre_hook(lambda m, args, kwargs: seen.update(kw=dict(kwargs)),
                                    with_kwargs=True)
    model(cr.ones(1, 2))
    assert seen["kw"] == {}


def test_a_hook_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match="register_forward_hook: the hook must be callable"):
        nn.Linear(2, 2).register_forward_hook(3)


def test_forward_hook_with_always_call_runs_after_a_failed_forward():
    class Fails(cr.nn.Module):
        def forward(self, x):
            raise ValueError("broken forward")
    layer, seen = Fails(), []
    layer.register_forward_hook(lambda m, a, out: seen.append(("always", out)), always_call=True)
    layer.register_forward_hook(lambda m, a, out: seen.append(("plain", out)))
    layer.register_forward_hook(lambda m, a, k, out: seen.append(("kwargs", out)),
                                with_kwargs=True, always_call=True)
    with pytest.raises(ValueError, match="broken forward"):
        layer(cr.ones(1))
    assert seen == [("always", None), ("kwargs", None)]
    layer.register_forward_hook(lambda m, a, out: 1 / 0, always_call=True)
    with pytest.warns(UserWarning, match="always_call=True failed"), \
            pytest.raises(ValueError, match="broken forward"):
        layer(cr.ones(1))

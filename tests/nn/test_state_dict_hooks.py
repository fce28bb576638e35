"""Module hooks on state_dict / load_state_dict, and the deprecated register_backward_hook,
against PyTorch: the same calls in the same order with the same arguments, and the same
effect of what the hooks return or change."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def _record(lib, register):
    """The calls the hooks saw, in order, as (module class, prefix, ...) tuples."""
    model, calls = _model(lib), []
    for module in model.modules():
        register(module, calls)
    return model, calls


@pytest.mark.parametrize("lib", [cr, torch])
def test_state_dict_pre_and_post_hooks_see_each_module_with_its_prefix(lib):
    def register(module, calls):
        module.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars: calls.append(("pre", type(m).__name__, prefix,
                                                       keep_vars)))
        module.register_state_dict_post_hook(
            lambda m, state, prefix, meta: calls.append(("post", type(m).__name__, prefix,
                                                         len(state))))
    model, calls = _record(lib, register)
    model.state_dict()
    pre = [c for c in calls if c[0] == "pre"]
    assert pre == [("pre", "Sequential", "", False), ("pre", "Linear", "0.", False),
                   ("pre", "ReLU", "1.", False), ("pre", "Linear", "2.", False)]
    post = {c[1:3]: c[3] for c in calls if c[0] == "post"}
    assert post[("Sequential", "")] == 4 and calls[-1][:3] == ("post", "Sequential", "")


@pytest.mark.parametrize("lib", [cr, torch])
def test_a_post_hook_edits_the_dict_in_place_and_may_not_return_one(lib):
    model = _model(lib)
    model.register_state_dict_post_hook(lambda m, state, prefix, meta: state.pop("0.bias"))
    with pytest.raises(RuntimeError, match="must return None"):
        model.state_dict()
    model = _model(lib)

    def drop_bias(m, state, prefix, meta):
        del state[prefix + "bias"]
    model[0].register_state_dict_post_hook(drop_bias)
    assert list(model.state_dict()) == ["0.weight", "2.weight", "2.bias"]


@pytest.mark.parametrize("lib", [cr, torch])
def test_the_older_state_dict_hook_may_replace_the_dict(lib):
    model = _model(lib)
    handle = model._register_state_dict_hook(
        lambda m, state, prefix, meta: {k: v for k, v in state.items() if "weight" in k})
    assert list(model.state_dict()) == ["0.weight", "2.weight"]
    handle.remove()
    assert len(model.state_dict()) == 4


@pytest.mark.parametrize("lib", [cr, torch])
def test_keep_vars_keeps_the_parameters(lib):
    model = _model(lib)
    assert model.state_dict(keep_vars=True)["0.weight"] is model[0].weight
    assert model.state_dict()["0.weight"] is not model[0].weight


@pytest.mark.parametrize("lib", [cr, torch])
def test_load_pre_hook_renames_keys_and_post_hook_forgives_them(lib):
    source = {k: v.clone() * 2 for k, v in _model(lib).state_dict().items()}
    old_names = {"first." + k[2:] if k.startswith("0.") else k: v for k, v in source.items()}
    model, seen = _model(lib), []

    def rename(module, state, prefix, meta, strict, missing, unexpected, errors):
        seen.append((prefix, strict))
        for key in [k for k in state if k.startswith("first.")]:
            state["0." + key[len("first."):]] = state.pop(key)
    model.register_load_state_dict_pre_hook(rename)
    result = model.load_state_dict(old_names)
    assert seen == [("", True)] and not result.missing_keys and not result.unexpected_keys
    numpy.testing.assert_allclose(model[0].weight.detach().numpy(), source["0.weight"].numpy())
    assert "first.weight" in old_names  # the caller's dict is left as it was

    model = _model(lib)
    model.register_load_state_dict_post_hook(lambda m, keys: keys.missing_keys.clear())
    partial = {k: v for k, v in source.items() if k != "2.bias"}
    assert model.load_state_dict(partial).missing_keys == []
    numpy.testing.assert_allclose(model[2].weight.detach().numpy(), source["2.weight"].numpy())


@pytest.mark.parametrize("lib", [cr, torch])
def test_load_hooks_refusals(lib):
    state = _model(lib).state_dict()
    model = _model(lib)
    model.register_load_state_dict_pre_hook(
        lambda m, sd, prefix, meta, strict, missing, unexpected, errors: errors.append("no!"))
    with pytest.raises(RuntimeError, match="no!"):
        model.load_state_dict(state)
    model = _model(lib)
    model.register_load_state_dict_post_hook(lambda m, keys: keys)
    with pytest.raises(AssertionError, match="not expected to return new values"):
        model.load_state_dict(state)
    model = _model(lib)
    model.register_load_state_dict_post_hook(lambda m, keys: None)
    with pytest.raises(RuntimeError, match="2.bias"):
        model.load_state_dict({k: v for k, v in state.items() if k != "2.bias"})


@pytest.mark.parametrize("lib", [cr, torch])
def test_older_load_pre_hook_without_the_module(lib):
    model, seen = _model(lib), []
    model._register_load_state_dict_pre_hook(lambda state, prefix, *rest: seen.append(prefix))
    model[0]._register_load_state_dict_pre_hook(
        lambda module, state, prefix, *rest: seen.append(type(module).__name__ + prefix),
        with_module=True)
    model.load_state_dict(model.state_dict())
    assert seen == ["", "Linear0."]


def test_state_dict_hooks_keep_the_module_on_the_hook_free_call_path():
    model = _model(cr)
    handle = model.register_state_dict_pre_hook(lambda *a: None)
    assert model._hooks is None
    handle.remove()
    assert "_other_hooks" not in model.__dict__


def test_register_backward_hook_is_the_full_backward_hook():
    """PyTorch's deprecated hook sees the last op's gradients (for Linear, the bias add's);
    chainrule gives it what PyTorch's full backward hook sees, as PyTorch advises."""
    weight = numpy.linspace(-1.0, 1.0, 12).reshape(4, 3)
    ours, theirs = [], []
    for lib, register, seen in ((cr, "register_backward_hook", ours),
                                (torch, "register_full_backward_hook", theirs)):
        layer = lib.nn.Linear(3, 4)
        layer.load_state_dict({"weight": lib.tensor(weight, dtype=lib.float32),
                               "bias": lib.zeros(4)})
        getattr(layer, register)(
            lambda m, grad_in, grad_out, seen=seen: seen.append(
                (grad_in[0].detach().numpy().copy(), grad_out[0].detach().numpy().copy())))
        x = lib.ones(2, 3, requires_grad=True)
        (layer(x) ** 2).sum().backward()
    (ours_in, ours_out), = ours
    (torch_in, torch_out), = theirs
    numpy.testing.assert_allclose(ours_out, torch_out, rtol=1e-5)
    numpy.testing.assert_allclose(ours_in, torch_in, rtol=1e-5)

"""TransformerEncoderLayer and TransformerEncoder against PyTorch with identical weights:
outputs and gradients of the input and every parameter, in eval mode (dropout off) and in
train mode with dropout=0."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import LAYERS64, assert_close  # tests/ops

import chainrule as cr

D, HEADS, FF, N, S = 8, 2, 16, 3, 5


def twin(torch_module, cr_module):
    state = torch_module.state_dict()
    assert list(cr_module.state_dict()) == list(state)
    cr_module.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in state.items()})
    return cr_module


def pair(shape, dtype=torch.float64):
    t = torch.randn(*shape, dtype=dtype)
    return t.clone().requires_grad_(True), cr.tensor(t.numpy(), requires_grad=True)


def check(t_module, c_module, t_x, c_x, t_kwargs=None, c_kwargs=None):
    t_out = t_module(t_x, **(t_kwargs or {}))
    c_out = c_module(c_x, **(c_kwargs or {}))
    assert_close(c_out, t_out, numpy.float64, tolerance=LAYERS64)
    w = torch.randn(t_out.shape, dtype=t_out.dtype)
    (t_out * w).sum().backward()
    (c_out * cr.tensor(w.numpy())).sum().backward()
    assert_close(c_x.grad, t_x.grad, numpy.float64, tolerance=LAYERS64)
    params = dict(c_module.named_parameters())
    for name, p in t_module.named_parameters():
        assert_close(params[name].grad, p.grad, numpy.float64, tolerance=LAYERS64)


def masks():
    padding = torch.zeros(N, S, dtype=torch.bool)
    padding[1, -2:] = True
    causal = torch.triu(torch.ones(S, S, dtype=torch.bool), diagonal=1)
    t_kwargs = {"src_mask": causal, "src_key_padding_mask": padding}
    return t_kwargs, {k: cr.tensor(v.numpy()) for k, v in t_kwargs.items()}


@pytest.mark.parametrize("mode", ["eval", "train-no-dropout"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_encoder_layer_matches_torch(mode, norm_first, activation, batch_first):
    kwargs = dict(dim_feedforward=FF, activation=activation, batch_first=batch_first,
                  norm_first=norm_first, dropout=0.1 if mode == "eval" else 0.0)
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerEncoderLayer(D, HEADS, **kwargs).double()
    c_layer = twin(t_layer, cr.nn.TransformerEncoderLayer(D, HEADS, **kwargs).double())
    if mode == "eval":
        t_layer.eval()
        c_layer.eval()
    t_x, c_x = pair((N, S, D) if batch_first else (S, N, D))
    t_masks, c_masks = masks()
    check(t_layer, c_layer, t_x, c_x, t_masks, c_masks)


def test_encoder_layer_without_masks_and_unbatched():
    torch.manual_seed(1)
    t_layer = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0).double()
    c_layer = twin(t_layer, cr.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0).double())
    t_x, c_x = pair((S, D))
    check(t_layer, c_layer, t_x, c_x)


def test_encoder_layer_without_bias_matches_torch():
    torch.manual_seed(2)
    kwargs = dict(dim_feedforward=FF, dropout=0.0, bias=False, batch_first=True)
    t_layer = torch.nn.TransformerEncoderLayer(D, HEADS, **kwargs).double()
    c_layer = twin(t_layer, cr.nn.TransformerEncoderLayer(D, HEADS, **kwargs).double())
    t_x, c_x = pair((N, S, D))
    check(t_layer, c_layer, t_x, c_x)


def test_encoder_stack_matches_torch():
    torch.manual_seed(3)
    layer_kwargs = dict(dim_feedforward=FF, dropout=0.0, batch_first=True)
    t_enc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, HEADS, **layer_kwargs), 2,
        norm=torch.nn.LayerNorm(D), enable_nested_tensor=False).double()
    c_enc = cr.nn.TransformerEncoder(
        cr.nn.TransformerEncoderLayer(D, HEADS, **layer_kwargs), 2, norm=cr.nn.LayerNorm(D))
    twin(t_enc, c_enc.double())
    assert "layers.1.self_attn.in_proj_weight" in c_enc.state_dict()
    t_x, c_x = pair((N, S, D))
    t_masks, c_masks = masks()
    t_masks = {"mask": t_masks["src_mask"], "src_key_padding_mask": t_masks[
        "src_key_padding_mask"]}
    c_masks = {"mask": c_masks["src_mask"], "src_key_padding_mask": c_masks[
        "src_key_padding_mask"]}
    check(t_enc, c_enc, t_x, c_x, t_masks, c_masks)


def test_encoder_layers_are_independent_copies():
    enc = cr.nn.TransformerEncoder(cr.nn.TransformerEncoderLayer(D, HEADS, FF), 2)
    first, second = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert first is not second
    numpy.testing.assert_array_equal(first.numpy(), second.numpy())
    assert len(list(enc.parameters())) == 2 * len(list(enc.layers[0].parameters()))


def test_dropout_active_only_in_training():
    cr.manual_seed(0)
    layer = cr.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.5, batch_first=True)
    x = cr.randn(N, S, D)
    a, b = layer(x).numpy(), layer(x).numpy()
    assert not numpy.allclose(a, b)
    layer.eval()
    numpy.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


def test_custom_activation_and_bad_name():
    layer = cr.nn.TransformerEncoderLayer(D, HEADS, FF, activation=cr.tanh, dropout=0.0)
    assert layer(cr.randn(S, N, D)).shape == (S, N, D)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        cr.nn.TransformerEncoderLayer(D, HEADS, FF, activation="swish")


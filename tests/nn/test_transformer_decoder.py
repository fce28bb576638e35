"""TransformerDecoderLayer, TransformerDecoder and Transformer against PyTorch with
identical weights: outputs and the gradients of both inputs and every parameter."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import LAYERS64, assert_close  # tests/ops

import chainrule as cr

D, HEADS, FF, N, S, T = 8, 2, 16, 3, 5, 4


def twin(torch_module, cr_module):
    state = torch_module.state_dict()
    assert list(cr_module.state_dict()) == list(state)
    cr_module.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in state.items()})
    return cr_module


def pair(*shape):
    t = torch.randn(*shape, dtype=torch.float64)
    return t.clone().requires_grad_(True), cr.tensor(t.numpy(), requires_grad=True)


def check(t_module, c_module, t_inputs, c_inputs, t_kwargs, c_kwargs):
    t_out = t_module(*t_inputs, **t_kwargs)
    c_out = c_module(*c_inputs, **c_kwargs)
    assert_close(c_out, t_out, numpy.float64, tolerance=LAYERS64)
    w = torch.randn(t_out.shape, dtype=t_out.dtype)
    (t_out * w).sum().backward()
    (c_out * cr.tensor(w.numpy())).sum().backward()
    for c_x, t_x in zip(c_inputs, t_inputs):
        assert_close(c_x.grad, t_x.grad, numpy.float64, tolerance=LAYERS64)
    params = dict(c_module.named_parameters())
    for name, p in t_module.named_parameters():
        if p.grad is not None:
            assert_close(params[name].grad, p.grad, numpy.float64, tolerance=LAYERS64)


def masks(batch_first):
    causal = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    padding = torch.zeros(N, S, dtype=torch.bool)
    padding[1, -2:] = True
    t_kwargs = {"tgt_mask": causal, "memory_key_padding_mask": padding}
    return t_kwargs, {k: cr.tensor(v.numpy()) for k, v in t_kwargs.items()}


def shapes(batch_first):
    return ((N, T, D), (N, S, D)) if batch_first else ((T, N, D), (S, N, D))


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_decoder_layer_matches_torch(norm_first, batch_first):
    kwargs = dict(dim_feedforward=FF, batch_first=batch_first, norm_first=norm_first,
                  activation="gelu")
    t_layer = torch.nn.TransformerDecoderLayer(D, HEADS, **kwargs).double().eval()
    c_layer = twin(t_layer, cr.nn.TransformerDecoderLayer(D, HEADS, **kwargs).eval())
    (t_tgt, c_tgt), (t_mem, c_mem) = (pair(*s) for s in shapes(batch_first))
    t_kwargs, c_kwargs = masks(batch_first)
    check(t_layer, c_layer, (t_tgt, t_mem), (c_tgt, c_mem), t_kwargs, c_kwargs)


def test_decoder_stack_matches_torch():
    t_layer = torch.nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0).double()
    t_stack = torch.nn.TransformerDecoder(t_layer, 2, torch.nn.LayerNorm(D).double())
    c_stack = cr.nn.TransformerDecoder(cr.nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0),
                                       2, cr.nn.LayerNorm(D))
    twin(t_stack, c_stack)
    (t_tgt, c_tgt), (t_mem, c_mem) = (pair(*s) for s in shapes(False))
    check(t_stack, c_stack, (t_tgt, t_mem), (c_tgt, c_mem), {}, {})


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_transformer_matches_torch(batch_first):
    kwargs = dict(d_model=D, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=2,
                  dim_feedforward=FF, batch_first=batch_first)
    t_model = torch.nn.Transformer(**kwargs).double().eval()
    c_model = twin(t_model, cr.nn.Transformer(**kwargs).eval())
    (t_tgt, c_tgt), (t_src, c_src) = (pair(*s) for s in shapes(batch_first))
    t_kwargs, c_kwargs = masks(batch_first)
    check(t_model, c_model, (t_src, t_tgt), (c_src, c_tgt), t_kwargs, c_kwargs)


def test_square_subsequent_mask_and_xavier_start():
    mask = cr.nn.Transformer.generate_square_subsequent_mask(3)
    expected = torch.nn.Transformer.generate_square_subsequent_mask(3)
    numpy.testing.assert_array_equal(mask.numpy(), expected.numpy())
    weight = cr.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1,
                               num_decoder_layers=1, dim_feedforward=32).encoder.layers[0]
    bound = (6 / (32 + 16)) ** 0.5                           # linear1: 16 -> 32
    assert numpy.abs(weight.linear1.weight.numpy()).max() <= bound


def test_batch_mismatch_is_one_line():
    model = cr.nn.Transformer(d_model=D, nhead=HEADS, num_encoder_layers=1,
                              num_decoder_layers=1, dim_feedforward=FF)
    with pytest.raises(RuntimeError, match="batch number of src"):
        model(cr.zeros(S, 2, D), cr.zeros(T, 3, D))

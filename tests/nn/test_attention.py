"""MultiheadAttention against PyTorch with identical weights: outputs, attention weights and
gradients of query, key, value and every parameter, across masks and layouts."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import LAYERS64, assert_close  # tests/ops

import chainrule as cr
from chainrule.autograd import gradcheck

E, HEADS, N, L, S = 8, 2, 3, 4, 5


def twin(torch_module, cr_module):
    state = torch_module.state_dict()
    assert list(cr_module.state_dict()) == list(state)
    cr_module.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in state.items()})
    return cr_module


def pair(shape, dtype=torch.float64, requires_grad=True):
    t = torch.randn(*shape, dtype=dtype)
    return (t.clone().requires_grad_(requires_grad),
            cr.tensor(t.numpy(), requires_grad=requires_grad))


def make(seed=0, **kwargs):
    torch.manual_seed(seed)
    t_attn = torch.nn.MultiheadAttention(E, HEADS, **kwargs).double()
    return t_attn, twin(t_attn, cr.nn.MultiheadAttention(E, HEADS, **kwargs).double())


def masks(kind):
    """(torch, chainrule) keyword arguments for one kind of masking."""
    padding = torch.zeros(N, S, dtype=torch.bool)
    padding[0, -2:] = True
    padding[2, 0] = True
    causal = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=2)
    float_mask = torch.randn(L, S, dtype=torch.float64)
    per_head = torch.randn(N * HEADS, L, S, dtype=torch.float64)
    float_padding = torch.where(padding, -1e4, 0.0).double()
    chosen = {
        "none": {},
        "padding": {"key_padding_mask": padding},
        "float-padding": {"key_padding_mask": float_padding},
        "bool-attn": {"attn_mask": causal},
        "float-attn": {"attn_mask": float_mask},
        "per-head-attn": {"attn_mask": per_head},
        "both": {"attn_mask": causal, "key_padding_mask": padding},
    }[kind]
    return chosen, {k: cr.tensor(v.numpy()) for k, v in chosen.items()}


def run_both(t_attn, c_attn, batch_first, shapes=None, self_attention=False, t_kwargs=None,
             c_kwargs=None):
    kdim, vdim = shapes or (E, E)

    def layout(length, dim):
        return (N, length, dim) if batch_first else (length, N, dim)

    t_q, c_q = pair(layout(L, E))
    if self_attention:
        pairs = [(t_q, c_q)]
        t_args, c_args = (t_q, t_q, t_q), (c_q, c_q, c_q)
    else:
        t_k, c_k = pair(layout(S, kdim))
        t_v, c_v = pair(layout(S, vdim))
        pairs = [(t_q, c_q), (t_k, c_k), (t_v, c_v)]
        t_args, c_args = (t_q, t_k, t_v), (c_q, c_k, c_v)
    t_out = t_attn(*t_args, **(t_kwargs or {}))
    c_out = c_attn(*c_args, **(c_kwargs or {}))
    return t_out, c_out, pairs


def check_gradients(t_attn, c_attn, t_out, c_out, pairs):
    w = torch.randn(t_out.shape, dtype=t_out.dtype)
    (t_out * w).sum().backward()
    (c_out * cr.tensor(w.numpy())).sum().backward()
    params = dict(c_attn.named_parameters())
    for name, p in t_attn.named_parameters():
        assert_close(params[name].grad, p.grad, numpy.float64, tolerance=LAYERS64)
    for t, c in pairs:
        assert_close(c.grad, t.grad, numpy.float64, tolerance=LAYERS64)


@pytest.mark.parametrize("mask", ["none", "padding", "float-padding", "bool-attn",
                                  "float-attn", "per-head-attn", "both"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_masks_match_torch(mask, batch_first):
    t_attn, c_attn = make(batch_first=batch_first)
    t_masks, c_masks = masks(mask)
    t_out, c_out, pairs = run_both(t_attn, c_attn, batch_first, t_kwargs=t_masks,
                                   c_kwargs=c_masks)
    assert_close(c_out[0], t_out[0], numpy.float64, tolerance=LAYERS64)
    assert_close(c_out[1], t_out[1], numpy.float64, tolerance=LAYERS64)
    check_gradients(t_attn, c_attn, t_out[0], c_out[0], pairs)


@pytest.mark.parametrize("options", [
    {}, {"bias": False}, {"kdim": 3, "vdim": 6}, {"add_bias_kv": True},
    {"add_zero_attn": True}, {"add_bias_kv": True, "add_zero_attn": True},
], ids=["default", "no-bias", "kdim-vdim", "bias-kv", "zero-attn", "bias-kv-zero-attn"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
def test_options_match_torch(options, batch_first):
    t_attn, c_attn = make(batch_first=batch_first, **options)
    shapes = (options.get("kdim", E), options.get("vdim", E))
    t_masks, c_masks = masks("both")
    t_out, c_out, pairs = run_both(t_attn, c_attn, batch_first, shapes, t_kwargs=t_masks,
                                   c_kwargs=c_masks)
    assert_close(c_out[0], t_out[0], numpy.float64, tolerance=LAYERS64)
    assert_close(c_out[1], t_out[1], numpy.float64, tolerance=LAYERS64)
    check_gradients(t_attn, c_attn, t_out[0], c_out[0], pairs)


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("need_weights", [True, False])
def test_self_attention_and_weight_options(need_weights, average):
    t_attn, c_attn = make(seed=1, batch_first=True)
    kwargs = {"need_weights": need_weights, "average_attn_weights": average}
    t_out, c_out, pairs = run_both(t_attn, c_attn, True, self_attention=True,
                                   t_kwargs=kwargs, c_kwargs=kwargs)
    assert_close(c_out[0], t_out[0], numpy.float64, tolerance=LAYERS64)
    if need_weights:
        assert c_out[1].shape == ((N, L, L) if average else (N, HEADS, L, L))
        assert_close(c_out[1], t_out[1], numpy.float64, tolerance=LAYERS64)
    else:
        assert c_out[1] is None
    check_gradients(t_attn, c_attn, t_out[0], c_out[0], pairs)


def test_unbatched_input_matches_torch():
    t_attn, c_attn = make(seed=2)
    t_q, c_q = pair((L, E))
    t_k, c_k = pair((S, E))
    padding = torch.tensor([0.0, 0.0, -float("inf"), 0.0, -float("inf")], dtype=torch.float64)
    per_head = torch.randn(HEADS, L, S, dtype=torch.float64)
    t_out = t_attn(t_q, t_k, t_k, key_padding_mask=padding, attn_mask=per_head)
    c_out = c_attn(c_q, c_k, c_k, key_padding_mask=cr.tensor(padding.numpy()),
                   attn_mask=cr.tensor(per_head.numpy()))
    assert_close(c_out[0], t_out[0], numpy.float64, tolerance=LAYERS64)
    assert_close(c_out[1], t_out[1], numpy.float64, tolerance=LAYERS64)
    check_gradients(t_attn, c_attn, t_out[0], c_out[0], [(t_q, c_q), (t_k, c_k)])


def test_float32_matches_torch():
    torch.manual_seed(3)
    t_attn = torch.nn.MultiheadAttention(16, 4, batch_first=True)
    c_attn = twin(t_attn, cr.nn.MultiheadAttention(16, 4, batch_first=True))
    x = torch.randn(2, 6, 16)
    out_t, w_t = t_attn(x, x, x)
    c_x = cr.tensor(x.numpy())
    out_c, w_c = c_attn(c_x, c_x, c_x)
    assert out_c.dtype == cr.float32
    assert_close(out_c, out_t, numpy.float32)
    assert_close(w_c, w_t, numpy.float32)


def test_state_dict_and_init_as_torch():
    for kwargs in ({}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True}):
        t_state = torch.nn.MultiheadAttention(E, HEADS, **kwargs).state_dict()
        c_state = cr.nn.MultiheadAttention(E, HEADS, **kwargs).state_dict()
        assert [(k, tuple(v.shape)) for k, v in c_state.items()] == \
            [(k, tuple(v.shape)) for k, v in t_state.items()]
    attn = cr.nn.MultiheadAttention(E, HEADS)
    assert not attn.in_proj_bias.numpy().any()
    assert not attn.out_proj.bias.numpy().any()
    bound = (6 / (E + 3 * E)) ** 0.5  # Xavier over the (3E, E) in_proj_weight
    assert numpy.abs(attn.in_proj_weight.numpy()).max() <= bound


def test_dropout_on_weights_only_in_training():
    cr.manual_seed(0)
    attn = cr.nn.MultiheadAttention(E, HEADS, dropout=0.5, batch_first=True)
    x = cr.randn(N, L, E)
    attn.eval()
    a, b = attn(x, x, x)[1].numpy(), attn(x, x, x)[1].numpy()
    numpy.testing.assert_array_equal(a, b)
    numpy.testing.assert_allclose(a.sum(-1), 1, rtol=1e-5)
    attn.train()
    c = attn(x, x, x)[1].numpy()
    assert not numpy.allclose(a, c)


def test_gradcheck_attention():
    cr.manual_seed(1)
    attn = cr.nn.MultiheadAttention(4, 2, batch_first=True).double()
    q = cr.randn(2, 3, 4, dtype=cr.float64, requires_grad=True)
    kv = cr.randn(2, 2, 4, dtype=cr.float64, requires_grad=True)
    padding = cr.tensor([[False, False], [False, True]])

    def fn(*xs):
        out, weights = attn(xs[0], xs[1], xs[1], key_padding_mask=padding)
        return out, weights

    assert gradcheck(fn, [q, kv, *attn.parameters()])


def test_errors():
    with pytest.raises(ValueError, match="divisible"):
        cr.nn.MultiheadAttention(6, 4)
    attn = cr.nn.MultiheadAttention(E, HEADS)
    x = cr.randn(L, N, E)
    with pytest.raises(RuntimeError, match="is_causal"):
        attn(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="embedding dimension"):
        attn(cr.randn(L, N, E + 1), x, x)

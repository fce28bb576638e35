"""RNN, LSTM, GRU (ops/recurrent.py, kernels/recurrent.py) and their cells against PyTorch
with identical weights (a torch state_dict loaded into chainrule): outputs, final states,
and gradients of the input, the initial states and every parameter; plus
finite-difference checks of the fused ops."""
from __future__ import annotations

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.ops.recurrent import GRUSequence, LSTMSequence, RNNSequence

from .harness import assert_close

BPTT = (1e-7, 1e-9)  # float64 (rtol, atol) for sums over time steps

MODES = {  # name → (chainrule class, torch class, extra kwargs)
    "rnn_tanh": (cr.nn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (cr.nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (cr.nn.LSTM, torch.nn.LSTM, {}),
    "gru": (cr.nn.GRU, torch.nn.GRU, {}),
}

CONFIGS = [  # (num_layers, bidirectional, batch_first, bias)
    (1, False, False, True),
    (1, False, True, True),
    (2, False, False, True),
    (1, True, True, True),
    (2, True, False, True),
    (2, True, True, False),
]


# --- helpers ------------------------------------------------------------------------------
def twin(torch_module, cr_module):
    """Give `cr_module` the weights of `torch_module` through load_state_dict."""
    state = torch_module.state_dict()
    assert list(cr_module.state_dict()) == list(state)
    cr_module.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in state.items()})
    return cr_module


def pair(shape, dtype=torch.float64, requires_grad=True, generator=None):
    """The same random numbers as a torch tensor and a chainrule tensor."""
    t = torch.randn(*shape, dtype=dtype, generator=generator)
    return (t.clone().requires_grad_(requires_grad),
            cr.tensor(t.numpy(), requires_grad=requires_grad))


def flat(outputs):
    """Every tensor in a nested (output, h_n) / (output, (h_n, c_n)) result."""
    if isinstance(outputs, (tuple, list)):
        return [t for o in outputs for t in flat(o)]
    return [outputs]


def backward_with_weights(torch_outs, cr_outs):
    """Backpropagate Σ wᵢ ⊙ outᵢ with the same random wᵢ in both libraries."""
    t_total, c_total = 0, 0
    for t_out, c_out in zip(torch_outs, cr_outs):
        w = torch.randn(t_out.shape, dtype=t_out.dtype)
        t_total = t_total + (t_out * w).sum()
        c_total = c_total + (c_out * cr.tensor(w.numpy())).sum()
    t_total.backward()
    c_total.backward()


def compare_gradients(torch_module, cr_module, pairs, tolerance=BPTT):
    params = dict(cr_module.named_parameters())
    for name, p in torch_module.named_parameters():
        assert_close(params[name].grad, p.grad, numpy.float64, f"d/d{name}", tolerance)
    for i, (t, c) in enumerate(pairs):
        assert_close(c.grad, t.grad, numpy.float64, f"d/dinput{i}", tolerance)


# --- layers against PyTorch ---------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "L{}-bi{:d}-bf{:d}-bias{:d}".format(*c))
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
def test_layer_matches_torch(mode, config, given_state):
    layers, bidirectional, batch_first, bias = config
    cr_cls, torch_cls, extra = MODES[mode]
    kwargs = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first,
                  bias=bias, **extra)
    torch.manual_seed(0)
    t_layer = torch_cls(3, 4, **kwargs).double()
    c_layer = twin(t_layer, cr_cls(3, 4, **kwargs).double())
    steps, batch = 5, 2
    t_x, c_x = pair((batch, steps, 3) if batch_first else (steps, batch, 3))
    inputs = [(t_x, c_x)]
    t_args, c_args = [t_x], [c_x]
    if given_state:
        state_shape = (layers * (2 if bidirectional else 1), batch, 4)
        states = [pair(state_shape) for _ in range(2 if mode == "lstm" else 1)]
        inputs += states
        t_state = tuple(t for t, _ in states)
        c_state = tuple(c for _, c in states)
        t_args.append(t_state if mode == "lstm" else t_state[0])
        c_args.append(c_state if mode == "lstm" else c_state[0])
    t_out, c_out = t_layer(*t_args), c_layer(*c_args)
    for t, c in zip(flat(t_out), flat(c_out)):
        assert_close(c, t, numpy.float64, tolerance=BPTT)
    backward_with_weights(flat(t_out), flat(c_out))
    compare_gradients(t_layer, c_layer, inputs)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "L{}-bi{:d}-bf{:d}-bias{:d}".format(*c))
def test_lstm_with_projections_matches_torch(config):
    """proj_size > 0: h_t = W_hr (σ(o) ⊙ tanh(c_t)), of width proj_size (c_t keeps the
    hidden size); the next layer reads the projected states."""
    layers, bidirectional, batch_first, bias = config
    kwargs = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first,
                  bias=bias, proj_size=2)
    torch.manual_seed(0)
    t_layer = torch.nn.LSTM(3, 4, **kwargs).double()
    c_layer = twin(t_layer, cr.nn.LSTM(3, 4, **kwargs).double())
    assert repr(c_layer) == repr(t_layer)
    t_x, c_x = pair((2, 5, 3) if batch_first else (5, 2, 3))
    count = layers * (2 if bidirectional else 1)
    states = [pair((count, 2, 2)), pair((count, 2, 4))]
    t_out = t_layer(t_x, tuple(t for t, _ in states))
    c_out = c_layer(c_x, tuple(c for _, c in states))
    for t, c in zip(flat(t_out), flat(c_out)):
        assert_close(c, t, numpy.float64, tolerance=BPTT)
    backward_with_weights(flat(t_out), flat(c_out))
    compare_gradients(t_layer, c_layer, [(t_x, c_x)] + states)
    with pytest.raises(ValueError, match="smaller than hidden_size"):
        cr.nn.LSTM(3, 4, proj_size=4)


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input(mode):
    cr_cls, torch_cls, extra = MODES[mode]
    torch.manual_seed(1)
    t_layer = torch_cls(3, 4, num_layers=2, bidirectional=True, **extra).double()
    c_layer = twin(t_layer, cr_cls(3, 4, num_layers=2, bidirectional=True, **extra).double())
    t_x, c_x = pair((6, 3))
    t_h, c_h = pair((4, 4))
    if mode == "lstm":
        t_c, c_c = pair((4, 4))
        t_out, c_out = t_layer(t_x, (t_h, t_c)), c_layer(c_x, (c_h, c_c))
    else:
        t_out, c_out = t_layer(t_x, t_h), c_layer(c_x, c_h)
    assert c_out[0].shape == (6, 8)
    for t, c in zip(flat(t_out), flat(c_out)):
        assert_close(c, t, numpy.float64, tolerance=BPTT)
    backward_with_weights(flat(t_out), flat(c_out))
    compare_gradients(t_layer, c_layer, [(t_x, c_x), (t_h, c_h)])


def test_lstm_float32_w6_shape_matches_torch():
    """The benchmark's configuration (scaled down in length), in float32."""
    torch.manual_seed(2)
    t_layer = torch.nn.LSTM(16, 32, batch_first=True)
    c_layer = twin(t_layer, cr.nn.LSTM(16, 32, batch_first=True))
    t_x, c_x = pair((8, 12, 16), dtype=torch.float32, requires_grad=False)
    t_out, (t_h, _) = t_layer(t_x)
    c_out, (c_h, _) = c_layer(c_x)
    assert_close(c_out, t_out, numpy.float32, "output", (1e-5, 1e-6))
    t_h[-1].sum().backward()
    c_h[-1].sum().backward()
    assert c_layer.weight_ih_l0.grad.dtype == numpy.float32
    compare_gradients(t_layer, c_layer, [], tolerance=(1e-4, 1e-5))


@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_keys_and_shapes_match_torch(mode):
    cr_cls, torch_cls, extra = MODES[mode]
    kwargs = dict(num_layers=2, bidirectional=True, **extra)
    t_state = torch_cls(5, 7, **kwargs).state_dict()
    c_state = cr_cls(5, 7, **kwargs).state_dict()
    assert [(k, tuple(v.shape)) for k, v in c_state.items()] == \
        [(k, tuple(v.shape)) for k, v in t_state.items()]
    assert "weight_ih_l1_reverse" in c_state


def test_default_init_is_uniform_in_one_over_sqrt_hidden():
    cr.manual_seed(0)
    layer = cr.nn.LSTM(10, 25, num_layers=2)
    bound = 1 / 25 ** 0.5
    for name, p in layer.named_parameters():
        values = p.numpy()
        assert numpy.abs(values).max() <= bound, name
        assert values.std() > bound / 3, name  # spread out, not constant


def test_dropout_between_layers_only_in_training():
    cr.manual_seed(0)
    layer = cr.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    layer.eval()
    first, second = layer(x)[0].numpy(), layer(x)[0].numpy()
    numpy.testing.assert_array_equal(first, second)
    without = cr.nn.GRU(3, 4, num_layers=2)
    without.load_state_dict(layer.state_dict())
    numpy.testing.assert_allclose(without(x)[0].numpy(), first, rtol=1e-6)
    layer.train()
    a, b = layer(x)[0].numpy(), layer(x)[0].numpy()
    assert not numpy.allclose(a, b)
    assert not numpy.allclose(a, first)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        cr.nn.LSTM(3, 4, dropout=0.2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        cr.nn.RNN(3, 4, nonlinearity="sigmoid")
    layer = cr.nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="input_size"):
        layer(cr.randn(5, 2, 6))
    with pytest.raises(RuntimeError, match="expected h0"):
        layer(cr.randn(5, 2, 3), (cr.zeros(1, 3, 4), cr.zeros(1, 2, 4)))
    with pytest.raises(TypeError, match="tuple"):
        layer(cr.randn(5, 2, 3), cr.zeros(1, 2, 4))


def test_fused_layer_refuses_double_backward():
    layer = cr.nn.LSTM(2, 3).double()
    x = cr.randn(4, 1, 2, dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad(layer(x)[0].sum(), [x], retain_graph=True)
    assert g.shape == x.shape
    with pytest.raises(RuntimeError, match="create_graph"):
        cr.autograd.grad(layer(x)[0].sum(), [x], create_graph=True)


def test_a_graph_node_per_layer_and_direction():
    """The fused op keeps the graph small: one node per layer and direction."""
    layer = cr.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    output, _ = layer(cr.randn(50, 2, 3))
    seen, stack = set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(t.grad_fn for t in node.inputs)
    assert len(seen) < 20


# --- cells against PyTorch ----------------------------------------------------------------
CELLS = {
    "rnn_tanh": (cr.nn.RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (cr.nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (cr.nn.LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (cr.nn.GRUCell, torch.nn.GRUCell, {}),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_matches_torch(kind, batched, given_state, bias):
    cr_cls, torch_cls, extra = CELLS[kind]
    torch.manual_seed(3)
    t_cell = torch_cls(3, 5, bias=bias, **extra).double()
    c_cell = twin(t_cell, cr_cls(3, 5, bias=bias, **extra).double())
    lead = (4,) if batched else ()
    t_x, c_x = pair(lead + (3,))
    inputs = [(t_x, c_x)]
    t_args, c_args = [t_x], [c_x]
    if given_state:
        states = [pair(lead + (5,)) for _ in range(2 if kind == "lstm" else 1)]
        inputs += states
        t_args.append(tuple(t for t, _ in states) if kind == "lstm" else states[0][0])
        c_args.append(tuple(c for _, c in states) if kind == "lstm" else states[0][1])
    t_out, c_out = flat(t_cell(*t_args)), flat(c_cell(*c_args))
    for t, c in zip(t_out, c_out):
        assert_close(c, t, numpy.float64, tolerance=BPTT)
    backward_with_weights(t_out, c_out)
    compare_gradients(t_cell, c_cell, inputs)


# --- finite differences -------------------------------------------------------------------
def _double(*shape):
    return cr.randn(*shape, dtype=cr.float64, requires_grad=True)


def test_gradcheck_lstm_cell():
    cr.manual_seed(4)
    cell = cr.nn.LSTMCell(3, 2).double()
    x, h, c = _double(2, 3), _double(2, 2), _double(2, 2)
    assert gradcheck(lambda *xs: cell(xs[0], (xs[1], xs[2])), [x, h, c, *cell.parameters()])


def test_gradcheck_gru_cell():
    cr.manual_seed(5)
    cell = cr.nn.GRUCell(3, 2).double()
    x, h = _double(2, 3), _double(2, 2)
    assert gradcheck(lambda *xs: cell(xs[0], xs[1]), [x, h, *cell.parameters()])


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("op", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_gradcheck_fused_sequence(op, reverse):
    """Backpropagation through time over 3 steps, every input and weight."""
    cr.manual_seed(6)
    hidden, gates = 2, {"lstm": 4, "gru": 3}.get(op, 1)
    x, h0, c0 = _double(3, 2, 3), _double(2, hidden), _double(2, hidden)
    weights = [_double(gates * hidden, 3), _double(gates * hidden, hidden),
               _double(gates * hidden), _double(gates * hidden)]
    if op == "lstm":
        assert gradcheck(lambda *a: LSTMSequence.apply(*a, reverse=reverse),
                         [x, h0, c0, *weights])
    elif op == "gru":
        assert gradcheck(lambda *a: GRUSequence.apply(*a, reverse=reverse), [x, h0, *weights])
    else:
        nonlinearity = op.split("_")[1]
        assert gradcheck(lambda *a: RNNSequence.apply(*a, reverse=reverse,
                                                      nonlinearity=nonlinearity),
                         [x, h0, *weights])


def test_gradcheck_lstm_without_bias():
    cr.manual_seed(7)
    layer = cr.nn.LSTM(2, 2, bias=False, bidirectional=True).double()
    x = _double(3, 1, 2)
    assert gradcheck(lambda *a: layer(a[0])[0], [x, *layer.parameters()])

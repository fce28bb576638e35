"""ONNX export: every recipe's model and every supported layer is exported, passes
onnx.checker, and onnxruntime's output matches chainrule's on the traced input and on a
second input of another batch size (the batch axis is exported as dynamic).

Tolerance: float32 throughout, |onnxruntime - chainrule| <= 1e-5 + 1e-4·|chainrule|
(the two libraries sum in different orders; observed differences are below 1e-6)."""
from __future__ import annotations

import numpy
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.autograd import hooks
from chainrule.io.onnx import ExportError
from chainrule.io.onnx.graph import ConstantWarning
from chainrule.train import recipes

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL, ATOL = 1e-4, 1e-5


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _roundtrip(tmp_path, model, *inputs, second=None, **options):
    """Export `model` on `inputs`, then compare onnxruntime with chainrule on them and on
    `second` (other inputs of another batch size). Returns the ONNX model."""
    names = [f"x{i}" for i in range(len(inputs))]
    path = tmp_path / "model.onnx"
    cr.onnx.export(model, inputs if len(inputs) > 1 else inputs[0], path, input_names=names,
                   output_names=["y"], dynamic_axes={**{n: {0: "batch"} for n in names},
                                                     "y": {0: "batch"}}, **options)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for batch in [inputs] + ([second] if second is not None else []):
        want = _first(model(*batch)).numpy()
        got = session.run(["y"], {n: t.numpy() for n, t in zip(names, batch)})[0]
        assert got.shape == want.shape
        numpy.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    return proto


def _ops(proto) -> set:
    return {node.op_type for node in proto.graph.node}


# --- the recipes' models ---------------------------------------------------------------------
RECIPE_CONFIGS = {
    "mlp-image": {"recipe": "mlp", "kind": "image", "num_classes": 4, "image_shape": [1, 8, 8]},
    "cnn-image": {"recipe": "cnn", "kind": "image", "num_classes": 4, "image_shape": [1, 8, 8]},
    "mlp-signal": {"recipe": "mlp", "kind": "signal", "num_classes": 3, "length": 20},
    "cnn-signal": {"recipe": "cnn", "kind": "signal", "num_classes": 3, "length": 40},
    "gru-signal": {"recipe": "gru", "kind": "signal", "num_classes": 3, "length": 12},
    "lstm-signal": {"recipe": "lstm", "kind": "signal", "num_classes": 3, "length": 12},
    "bow-mlp": {"recipe": "bow-mlp", "kind": "text", "num_classes": 2, "vocab_size": 50},
    "embed-mlp": {"recipe": "embed-mlp", "kind": "text", "num_classes": 2, "vocab_size": 50},
    "text-cnn": {"recipe": "text-cnn", "kind": "text", "num_classes": 2, "vocab_size": 50},
    "lstm-text": {"recipe": "lstm", "kind": "text", "num_classes": 2, "vocab_size": 50},
    "gru-text": {"recipe": "gru", "kind": "text", "num_classes": 2, "vocab_size": 50},
}


def _recipe_input(config, batch: int):
    if config["kind"] == "image":
        return cr.randn(batch, *config["image_shape"])
    if config["kind"] == "signal":
        return cr.randn(batch, config["length"])
    if config["recipe"] == "bow-mlp":
        return (cr.rand(batch, config["vocab_size"]) > 0.8).float()
    ids = cr.randint(0, config["vocab_size"], (batch, 9))
    ids.array[:, 6:] = 0  # padding at the end, as the encoder writes it
    return ids


@pytest.mark.parametrize("name", RECIPE_CONFIGS)
def test_every_recipe_model_runs_in_onnxruntime(tmp_path, name):
    cr.manual_seed(0)
    config = RECIPE_CONFIGS[name]
    model = recipes.build_model(config)
    _roundtrip(tmp_path, model, _recipe_input(config, 3),
               second=(_recipe_input(config, 5),))


# --- layers one by one ------------------------------------------------------------------------
def _sequential(*layers):
    return nn.Sequential(*layers)


LAYER_CASES = {  # name: (model builder, input shape)
    "linear": (lambda: nn.Linear(6, 4), (3, 6)),
    "linear-3d": (lambda: nn.Linear(6, 4), (3, 5, 6)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=1), (2, 3, 11)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=(1, 2), padding=(1, 0), dilation=2,
                                 groups=1), (2, 3, 9, 9)),
    "conv2d-groups-same": (lambda: nn.Conv2d(4, 4, 3, padding="same", groups=2,
                                             bias=False), (2, 4, 7, 7)),
    "maxpool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), (2, 3, 10)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    "maxpool2d-ceil": (lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (2, 3, 8, 8)),
    "avgpool1d": (lambda: nn.AvgPool1d(2), (2, 3, 8)),
    "avgpool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                  (2, 3, 8, 8)),
    "adaptive-avgpool2d": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 6, 6)),
    "adaptive-avgpool2d-2": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 6, 6)),
    "adaptive-avgpool1d": (lambda: nn.AdaptiveAvgPool1d(1), (2, 3, 7)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), (4, 5)),
    "batchnorm1d-3d": (lambda: nn.BatchNorm1d(5, affine=False), (4, 5, 7)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4)),
    "layernorm": (lambda: nn.LayerNorm(6), (3, 4, 6)),
    "layernorm-2d-shape": (lambda: nn.LayerNorm((4, 6), elementwise_affine=False), (3, 4, 6)),
    "dropout": (lambda: _sequential(nn.Dropout(0.5), nn.Linear(4, 2)), (3, 4)),
    "flatten": (lambda: nn.Flatten(), (2, 3, 4, 5)),
    "flatten-middle": (lambda: nn.Flatten(2, 3), (2, 3, 4, 5)),
    "relu": (lambda: nn.ReLU(), (3, 5)),
    "leaky-relu": (lambda: nn.LeakyReLU(0.2), (3, 5)),
    "gelu": (lambda: nn.GELU(), (3, 5)),
    "tanh": (lambda: nn.Tanh(), (3, 5)),
    "sigmoid": (lambda: nn.Sigmoid(), (3, 5)),
    "logsigmoid": (lambda: nn.LogSigmoid(), (3, 5)),
    "softmax": (lambda: nn.Softmax(dim=1), (3, 5)),
    "log-softmax": (lambda: nn.LogSoftmax(dim=-1), (3, 5)),
    "rnn-relu-bidirectional": (lambda: nn.RNN(4, 5, num_layers=2, nonlinearity="relu",
                                              bidirectional=True), (6, 3, 4)),
    "rnn-tanh-batch-first": (lambda: nn.RNN(4, 5, batch_first=True, bias=False), (3, 6, 4)),
    "lstm-two-layers": (lambda: nn.LSTM(4, 5, num_layers=2), (6, 3, 4)),
    "lstm-bidirectional": (lambda: nn.LSTM(4, 5, batch_first=True, bidirectional=True),
                           (3, 6, 4)),
    "gru": (lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True, batch_first=True),
            (3, 6, 4)),
    "transformer-encoder": (lambda: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1, batch_first=True),
        2, norm=nn.LayerNorm(8)), (3, 5, 8)),
    "transformer-encoder-gelu-norm-first": (lambda: nn.TransformerEncoderLayer(
        8, 4, dim_feedforward=16, activation="gelu", norm_first=True), (5, 3, 8)),
}


def _batch_axis_first(name: str) -> bool:
    """Sequence-first recurrent/attention inputs have the batch on axis 1."""
    return name not in ("rnn-relu-bidirectional", "lstm-two-layers",
                        "transformer-encoder-gelu-norm-first")


@pytest.mark.parametrize("name", LAYER_CASES)
def test_each_layer_matches_onnxruntime(tmp_path, name):
    cr.manual_seed(1)
    build, shape = LAYER_CASES[name]
    model = build()
    if "batchnorm" in name:
        model.train()
        model(cr.randn(*shape) * 2 + 1)  # running statistics that are not 0 and 1
    second = None
    if _batch_axis_first(name):
        second = (cr.randn(shape[0] + 2, *shape[1:]),)
    _roundtrip(tmp_path, model, cr.randn(*shape), second=second)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_from_a_given_state(tmp_path, kind):
    cr.manual_seed(10)
    layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    names = ["x", "h"] + (["c"] if kind == "LSTM" else [])
    path = tmp_path / "state.onnx"

    def example(batch):
        x, h = cr.randn(batch, 5, 3), cr.randn(4, batch, 4)
        return (x, (h, cr.randn(4, batch, 4))) if kind == "LSTM" else (x, h)

    def flat(args):
        x, state = args
        return (x, *state) if kind == "LSTM" else (x, state)

    class Wrapped(nn.Module):  # the state as separate inputs, all outputs flat
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x, h, c=None):
            return self.layer(x, (h, c) if kind == "LSTM" else h)

    model = Wrapped()
    outputs = ["y", "h_n"] + (["c_n"] if kind == "LSTM" else [])
    cr.onnx.export(model, flat(example(2)), path, input_names=names, output_names=outputs,
                   dynamic_axes={"x": {0: "n"}, "h": {1: "n"}, "c": {1: "n"}, "y": {0: "n"},
                                 "h_n": {1: "n"}, "c_n": {1: "n"}}
                   if kind == "LSTM" else {"x": {0: "n"}, "h": {1: "n"}, "y": {0: "n"},
                                           "h_n": {1: "n"}})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (2, 3):
        inputs = flat(example(batch))
        got = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
        out, state = model(*inputs)
        want = [out, *state] if kind == "LSTM" else [out, state]
        for g, w in zip(got, want):
            numpy.testing.assert_allclose(g, w.numpy(), rtol=RTOL, atol=ATOL)


def test_multihead_attention_outputs_and_weights(tmp_path):
    cr.manual_seed(2)
    attention = nn.MultiheadAttention(8, 2, batch_first=True)
    q, kv = cr.randn(2, 4, 8), cr.randn(2, 6, 8)
    path = tmp_path / "mha.onnx"
    cr.onnx.export(attention, (q, kv, kv), path, input_names=["q", "k", "v"],
                   output_names=["out", "weights"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out, weights = session.run(None, {"q": q.numpy(), "k": kv.numpy(), "v": kv.numpy()})
    want_out, want_weights = attention(q, kv, kv)
    numpy.testing.assert_allclose(out, want_out.numpy(), rtol=RTOL, atol=ATOL)
    numpy.testing.assert_allclose(weights, want_weights.numpy(), rtol=RTOL, atol=ATOL)


def test_transformer_encoder_with_a_key_padding_mask_input(tmp_path):
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

        def forward(self, x, padding):
            return self.encoder(x, src_key_padding_mask=padding)

    def padded(batch):
        mask = numpy.zeros((batch, 6), bool)
        mask[0, 4:] = mask[-1, 2:] = True
        return cr.tensor(mask)

    cr.manual_seed(8)
    proto = _roundtrip(tmp_path, Encoder(), cr.randn(3, 6, 8), padded(3),
                       second=(cr.randn(5, 6, 8), padded(5)))
    assert "Where" in _ops(proto)


def test_attention_with_a_causal_mask_made_in_forward(tmp_path):
    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = nn.MultiheadAttention(8, 4)

        def forward(self, x):
            length = x.shape[0]
            causal = cr.tensor(numpy.triu(numpy.ones((length, length), bool), 1))
            per_head = cr.zeros(x.shape[1] * 4, length, length)
            return self.attention(x, x, x, attn_mask=causal)[0] + \
                self.attention(x, x, x, attn_mask=per_head, need_weights=False)[0]

    cr.manual_seed(9)
    with pytest.warns(ConstantWarning, match="that no traced op made"):
        _roundtrip(tmp_path, Causal(), cr.randn(5, 2, 8))


def test_a_mask_computed_outside_the_ops_is_warned_about(tmp_path):
    class Padded(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(10, 8)
            self.attention = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, ids):
            x = self.embedding(ids)
            return self.attention(x, x, x, key_padding_mask=ids == 0)[0]

    with pytest.warns(ConstantWarning, match="a comparison such as ids == 0"):
        cr.onnx.export(Padded(), cr.randint(1, 10, (2, 4)), tmp_path / "padded.onnx")


def test_embedding_and_bags(tmp_path):
    cr.manual_seed(3)
    ids = cr.randint(0, 20, (3, 7))
    ids.array[0, 2:] = 1
    ids.array[1, :] = 1  # a bag of padding only: zeros in PyTorch and here
    for layer in (nn.Embedding(20, 4), nn.Embedding(20, 4, padding_idx=1),
                  nn.EmbeddingBag(20, 4, mode="sum"), nn.EmbeddingBag(20, 4, mode="max"),
                  nn.EmbeddingBag(20, 4, mode="mean", padding_idx=1),
                  nn.EmbeddingBag(20, 4, mode="sum", padding_idx=1)):
        _roundtrip(tmp_path, layer, ids, second=(cr.randint(0, 20, (5, 7)),))


def test_a_model_with_its_own_forward(tmp_path):
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(5, 6), nn.Linear(5, 6)

        def forward(self, x):
            h = (self.a(x).tanh() * self.b(x).sigmoid() + 1.0) / 2.0 - x.sum(1, keepdim=True)
            h = h.clamp(-1.5, 1.5) + (h.abs() ** 2).sqrt() - h.max()
            pooled, _ = h.unsqueeze(1).min(dim=2)
            joined = cr.cat([h, pooled.exp(), h.mean(1, keepdim=True)], dim=1)
            return cr.stack([joined, -joined], dim=1).transpose(1, 2).reshape(x.shape[0], -1)

    cr.manual_seed(4)
    proto = _roundtrip(tmp_path, Custom(), cr.randn(3, 5), second=(cr.randn(4, 5),))
    assert {"Tanh", "Sigmoid", "ReduceMin", "ReduceMax", "Concat", "Transpose", "ReduceMean",
            "Clip", "Abs", "Pow", "Sqrt"} <= _ops(proto)


def test_two_inputs_and_names(tmp_path):
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, a, b):
            return self.fc(a) @ self.fc(b).transpose(0, 1)

    cr.manual_seed(5)
    model, a, b = Pair(), cr.randn(4, 3), cr.randn(2, 3)
    path = tmp_path / "pair.onnx"
    proto = cr.onnx.export(model, (a, b), path, input_names=["a", "b"], output_names=["s"])
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert [o.name for o in proto.graph.output] == ["s"]
    assert {i.name for i in proto.graph.initializer} >= {"fc.weight", "fc.bias"}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"a": a.numpy(), "b": b.numpy()})[0]
    numpy.testing.assert_allclose(got, model(a, b).numpy(), rtol=RTOL, atol=ATOL)


def test_export_leaves_the_model_as_it_was(tmp_path):
    model = recipes.build_model(RECIPE_CONFIGS["cnn-image"])
    model.train()
    before = model.state_dict()
    cr.onnx.export(model, cr.randn(1, 1, 8, 8), tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())
    assert hooks.active == ()  # the tracer's op hook is gone
    assert all(not any((m._hooks or {}).values()) for m in model.modules())
    assert all(numpy.array_equal(before[k].numpy(), v.numpy())
               for k, v in model.state_dict().items())
    x = cr.randn(2, 1, 8, 8, requires_grad=True)
    model.eval()
    model(x).sum().backward()  # the autograd engine is untouched
    assert x.grad is not None


# --- what cannot be exported ---------------------------------------------------------------------
def test_basic_indexing(tmp_path):
    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 4, batch_first=True)

        def forward(self, x):
            out, _ = self.rnn(x)
            last = out[:, -1]                                  # (N, H)
            return cr.cat([last, out[:, 1:4:2].sum(1), out[..., ::-1][:, 0, None, 1:][:, 0],
                           x[:, :, 0]], dim=1)

    cr.manual_seed(7)
    proto = _roundtrip(tmp_path, LastStep(), cr.randn(2, 5, 3), second=(cr.randn(6, 5, 3),))
    assert {"Gather", "Slice", "Unsqueeze"} <= _ops(proto)


def test_an_op_without_a_mapping_is_named(tmp_path):
    class Odd(nn.Module):
        def forward(self, x):
            return cr.maximum(x, x * 2)

    with pytest.raises(ExportError, match="op Where has no ONNX mapping"):
        cr.onnx.export(Odd(), cr.randn(2, 3), tmp_path / "odd.onnx")


def test_indexing_with_arrays_is_named(tmp_path):
    class Picks(nn.Module):
        def forward(self, x):
            return x[:, [0, 2]]

    with pytest.raises(ExportError, match="Index with array or mask keys"):
        cr.onnx.export(Picks(), cr.randn(2, 3), tmp_path / "picks.onnx")


@pytest.mark.parametrize("model, args, message", [
    (lambda: nn.MaxPool2d(2, return_indices=True), (cr.randn(1, 1, 4, 4),), "return_indices"),
    (lambda: nn.BatchNorm1d(3, track_running_stats=False), (cr.randn(2, 3),),
     "track_running_stats"),
    (lambda: nn.LSTM(2, 3), (cr.randn(4, 2),), "unbatched"),
])
def test_layer_options_without_a_mapping_are_named(tmp_path, model, args, message):
    with pytest.raises(ExportError, match=message):
        cr.onnx.export(model(), args, tmp_path / "bad.onnx")


def test_bad_arguments(tmp_path):
    model, x = nn.Linear(2, 2), cr.randn(1, 2)
    with pytest.raises(ExportError, match="opset_version 9"):
        cr.onnx.export(model, x, tmp_path / "m.onnx", opset_version=9)
    with pytest.raises(ExportError, match="dynamic_axes names 'nope'"):
        cr.onnx.export(model, x, tmp_path / "m.onnx", dynamic_axes={"nope": [0]})
    with pytest.raises(ExportError, match="args must be a Tensor"):
        cr.onnx.export(model, [numpy.zeros((1, 2))], tmp_path / "m.onnx")


def test_opset_17_writes_reductions_with_axes_attributes(tmp_path):
    config = RECIPE_CONFIGS["lstm-text"]
    cr.manual_seed(6)
    model = recipes.build_model(config)
    _roundtrip(tmp_path, model, _recipe_input(config, 2), opset_version=17)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_as_one_operator_from_opset_20(tmp_path, approximate):
    if onnx.defs.onnx_opset_version() < 20:
        pytest.skip("the installed onnx predates opset 20")
    proto = _roundtrip(tmp_path, nn.GELU(approximate=approximate), cr.randn(3, 5),
                       opset_version=20)
    assert "Gelu" in _ops(proto)


def test_gelu_tanh_before_opset_20_is_named(tmp_path):
    with pytest.raises(ExportError, match=r"GELU\(approximate='tanh'\) needs opset_version"):
        cr.onnx.export(nn.GELU(approximate="tanh"), cr.randn(2, 3), tmp_path / "g.onnx")


def test_export_to_a_file_object(tmp_path):
    import io
    buffer = io.BytesIO()
    model = nn.Linear(3, 2)
    cr.onnx.export(model, cr.randn(1, 3), buffer)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    x = cr.randn(1, 3)
    numpy.testing.assert_allclose(session.run(None, {"input_0": x.numpy()})[0],
                                  model(x).numpy(), rtol=RTOL, atol=ATOL)


def test_names_that_clash_with_generated_ones(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    x = cr.randn(2, 3)
    path = tmp_path / "clash.onnx"
    proto = cr.onnx.export(model, x, path, input_names=["relu"], output_names=["gemm"])
    assert proto.ir_version <= 9  # the lowest IR version that holds opset 18
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    numpy.testing.assert_allclose(session.run(["gemm"], {"relu": x.numpy()})[0],
                                  model(x).numpy(), rtol=RTOL, atol=ATOL)
    with pytest.raises(ExportError, match="'x' is given twice"):
        cr.onnx.export(model, x, path, input_names=["x"], output_names=["x"])


@pytest.mark.parametrize("model, x", [
    (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), (4, 2, 8)),
    (lambda: recipes.build_model({"recipe": "lstm", "kind": "signal", "num_classes": 3,
                                  "length": 6}), (2, 6)),
])
def test_every_node_and_initializer_is_used(tmp_path, model, x):
    """No dangling nodes (each feeds another node or an output), no unread initializers."""
    proto = cr.onnx.export(model(), cr.randn(*x), tmp_path / "t.onnx")
    consumed = {name for node in proto.graph.node for name in node.input}
    consumed |= {output.name for output in proto.graph.output}
    for node in proto.graph.node:
        assert any(name in consumed for name in node.output), node.op_type
    assert all(init.name in consumed for init in proto.graph.initializer)

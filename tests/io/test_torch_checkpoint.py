"""PyTorch checkpoints saved by PyTorch itself load into the same chainrule architecture and
give the same outputs; hostile or damaged files are refused, one clear error each, with no
code run (a sentinel file that the payload would create never appears)."""
from __future__ import annotations

import io
import json
import os
import struct
import zipfile

import numpy
import pytest
import torch

import chainrule as cr
from chainrule.io import UnsafeCheckpointError, load_hf_folder, load_torch_checkpoint
from chainrule.serialize import LoadError

FORMATS = {"zip": True, "legacy": False}


def _save(obj, path, fmt: str) -> None:
    torch.save(obj, path, _use_new_zipfile_serialization=FORMATS[fmt])


# --- the same architectures in both libraries ----------------------------------------------
def _mlp(m):
    return m.nn.Sequential(m.nn.Flatten(), m.nn.Linear(12, 16), m.nn.ReLU(),
                           m.nn.Dropout(0.1), m.nn.Linear(16, 3))


def _cnn(m):
    return m.nn.Sequential(m.nn.Conv2d(1, 4, 3, padding=1), m.nn.BatchNorm2d(4), m.nn.ReLU(),
                           m.nn.MaxPool2d(2), m.nn.Flatten(), m.nn.Linear(4 * 3 * 3, 5))


def _lstm(m):
    return m.nn.LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True)


def _encoder(m):
    layer = m.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                         batch_first=True)
    return m.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


MODELS = {  # builder, input shape
    "mlp": (_mlp, (4, 3, 4)),
    "cnn": (_cnn, (2, 1, 6, 6)),
    "lstm": (_lstm, (3, 4, 5)),
    "transformer": (_encoder, (2, 5, 8)),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _trained_torch_model(name: str):
    torch.manual_seed(0)
    build, shape = MODELS[name]
    model = build(torch)
    if name == "cnn":  # give BatchNorm non-trivial running statistics
        model.train()
        with torch.no_grad():
            model(torch.randn(8, *shape[1:]) * 3 + 1)
    return model.eval(), torch.randn(*shape)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", MODELS)
def test_a_torch_state_dict_loads_into_the_same_chainrule_model(tmp_path, name, fmt):
    model, x = _trained_torch_model(name)
    path = tmp_path / f"{name}.pt"
    _save(model.state_dict(), path, fmt)
    state = cr.load(path)
    assert list(state) == list(model.state_dict())
    ours = MODELS[name][0](cr).eval()
    ours.load_state_dict(state)
    with torch.no_grad():
        expected = _first(model(x)).numpy()
    got = _first(ours(cr.tensor(x.numpy()))).numpy()
    numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8",
                                   "bool"])
def test_dtypes_numpy_holds_load_bit_exact(tmp_path, dtype, fmt):
    torch.manual_seed(1)
    t = (torch.randn(3, 5) * 50).to(getattr(torch, dtype))
    path = tmp_path / "t.pt"
    _save({"t": t, "view": t[1:, ::2]}, path, fmt)
    state = load_torch_checkpoint(path)
    assert state["t"].dtype == numpy.dtype(dtype)
    numpy.testing.assert_array_equal(state["t"].numpy(), t.numpy())
    numpy.testing.assert_array_equal(state["view"].numpy(), t[1:, ::2].numpy())


@pytest.mark.parametrize("fmt", FORMATS)
def test_bfloat16_widens_to_float32_exactly(tmp_path, fmt):
    t = torch.tensor([1.0, -2.5, 3.140625, 1e30, -0.0], dtype=torch.bfloat16)
    path = tmp_path / "bf.pt"
    _save({"t": t}, path, fmt)
    got = cr.load(path)["t"]
    assert got.dtype == numpy.float32
    numpy.testing.assert_array_equal(got.numpy(), t.float().numpy())


def test_complex_storage_is_a_clear_error(tmp_path):
    path = tmp_path / "c.pt"
    torch.save({"z": torch.ones(2, dtype=torch.complex64)}, path)
    with pytest.raises(LoadError, match="ComplexFloatStorage, which NumPy cannot hold"):
        cr.load(path)


def test_nested_containers_and_plain_values_come_back(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"model": {"w": torch.arange(4.0)}, "epoch": 3, "lr": 0.5, "name": "run",
                "steps": [1, 2], "pair": (None, True), "blob": b"\x00\xff"}, path)
    got = cr.load(path)
    assert (got["epoch"], got["lr"], got["name"], got["steps"], got["pair"], got["blob"]) \
        == (3, 0.5, "run", [1, 2], (None, True), b"\x00\xff")
    numpy.testing.assert_array_equal(got["model"]["w"].numpy(), [0, 1, 2, 3])


def test_a_parameter_and_the_device_argument(tmp_path):
    path = tmp_path / "p.pt"
    torch.save({"p": torch.nn.Parameter(torch.ones(2, 2))}, path)
    got = cr.load(path, device="cpu")["p"]
    assert isinstance(got, cr.Tensor) and got.shape == (2, 2)


# --- Hugging Face folders ------------------------------------------------------------------
def test_a_hugging_face_folder_loads_with_its_config(tmp_path):
    from safetensors.torch import save_file
    model, x = _trained_torch_model("mlp")
    save_file(model.state_dict(), str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 16}))
    state, config = load_hf_folder(tmp_path)
    assert config == {"hidden_size": 16}
    ours = _mlp(cr).eval()
    ours.load_state_dict(cr.load(tmp_path))
    with torch.no_grad():
        numpy.testing.assert_allclose(ours(cr.tensor(x.numpy())).numpy(), model(x).numpy(),
                                      rtol=1e-6, atol=1e-6)


def test_sharded_and_bin_folders(tmp_path):
    from safetensors.torch import save_file
    state = {"a": torch.ones(2), "b": torch.zeros(3)}
    save_file({"a": state["a"]}, str(tmp_path / "s1.safetensors"))
    save_file({"b": state["b"]}, str(tmp_path / "s2.safetensors"))
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}))
    assert sorted(cr.load(tmp_path)) == ["a", "b"]
    old = tmp_path / "old"
    old.mkdir()
    torch.save(state, old / "pytorch_model.bin")
    assert cr.load(old)["b"].shape == (3,)


def test_a_folder_without_weights_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        cr.load(tmp_path)


# --- hostile and damaged files -------------------------------------------------------------
class _Payload:
    """What an attacker pickles: unpickling it would call os.system(command)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class _EvalPayload(_Payload):
    def __reduce__(self):
        import builtins
        return builtins.eval, (f"__import__('os').system({self.command!r})",)


@pytest.fixture
def sentinel(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "the checkpoint ran code"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("payload, named", [(_Payload, "posix.system"),
                                            (_EvalPayload, "(__builtin__|builtins).eval")])
def test_a_reduce_payload_never_runs(tmp_path, sentinel, fmt, payload, named):
    path = tmp_path / "evil.pt"
    _save({"weight": torch.ones(2), "x": payload(f"touch {sentinel}")}, path, fmt)
    with pytest.raises(UnsafeCheckpointError, match=f"refusing global {named}") as info:
        cr.load(path)
    assert "\n" not in str(info.value)


def _zip_with_pickle(path, pickled: bytes, entries=()):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickled)
        for name, data in entries:
            z.writestr(name, data)


def test_a_plain_pickle_with_a_hostile_global_is_refused(tmp_path, sentinel):
    path = tmp_path / "raw.pkl"
    path.write_bytes(b"\x80\x02cos\nsystem\nX" + struct.pack("<I", 20 + len(str(sentinel)))
                     + f"touch {sentinel} #####"[:20 + len(str(sentinel))].encode()
                     + b"\x85R.")
    with pytest.raises(UnsafeCheckpointError, match="refusing global os.system"):
        cr.load(path)


@pytest.mark.parametrize("opcode, name", [(b"(cos\nsystem\nS'x'\no.", "OBJ"),
                                          (b"(S'x'\nios\nsystem\n.", "INST"),
                                          (b"\x82\x01.", "EXT1")])
def test_opcodes_that_build_objects_are_refused(tmp_path, sentinel, opcode, name):
    path = tmp_path / "op.pt"
    _zip_with_pickle(path, b"\x80\x02" + opcode)
    with pytest.raises(UnsafeCheckpointError):
        cr.load(path)


def _storage_pickle(numel: int, size, stride=None, offset=0) -> bytes:
    """data.pkl of {"w": tensor} whose storage "0" claims `numel` floats."""
    stride = stride or tuple(int(numpy.prod(size[i + 1:])) for i in range(len(size)))
    buf = io.BytesIO()
    buf.write(b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(")
    buf.write(b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000"
              b"X\x03\x00\x00\x00cpuJ" + struct.pack("<i", numel) + b"tQ")
    buf.write(b"J" + struct.pack("<i", offset))
    for values in (size, stride):
        buf.write(b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t")
    buf.write(b"\x89ccollections\nOrderedDict\n)RtRs.")
    return buf.getvalue()


def test_the_handmade_storage_pickle_is_right(tmp_path):
    path = tmp_path / "ok.pt"
    _zip_with_pickle(path, _storage_pickle(6, (2, 3)),
                     [("archive/data/0", numpy.arange(6, dtype="<f4").tobytes())])
    numpy.testing.assert_array_equal(cr.load(path)["w"].numpy(), [[0, 1, 2], [3, 4, 5]])


@pytest.mark.parametrize("pickled, data, message", [
    (_storage_pickle(1000, (10, 100)), numpy.zeros(6, "<f4").tobytes(),
     "holds 24 bytes but the pickle claims 4000"),
    (_storage_pickle(6, (4, 3)), numpy.zeros(6, "<f4").tobytes(), "reaches element 11"),
    (_storage_pickle(6, (2, 3), offset=5), numpy.zeros(6, "<f4").tobytes(),
     "reaches element 10"),
    (_storage_pickle(6, (2, 3), stride=(-3, 1)), numpy.zeros(6, "<f4").tobytes(),
     "malformed view"),
])
def test_storages_whose_sizes_lie(tmp_path, pickled, data, message):
    path = tmp_path / "lie.pt"
    _zip_with_pickle(path, pickled, [("archive/data/0", data)])
    with pytest.raises(LoadError, match=message):
        cr.load(path)


def test_a_missing_storage_entry(tmp_path):
    path = tmp_path / "missing.pt"
    _zip_with_pickle(path, _storage_pickle(6, (2, 3)))
    with pytest.raises(LoadError, match="has no entry archive/data/0"):
        cr.load(path)


def test_a_zip_bomb_storage_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb.pt"
    numel = 64 * 1024 * 1024  # 256 MiB of zeros, a few hundred kilobytes compressed
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", _storage_pickle(numel, (numel,)))
        with z.open("archive/data/0", "w", force_zip64=True) as entry:
            chunk = bytes(1 << 20)
            for _ in range(256):
                entry.write(chunk)
    assert path.stat().st_size < 2 * 1024 * 1024
    with pytest.raises(LoadError, match="compressed.*zip bomb"):
        cr.load(path)


def test_a_pickle_entry_claiming_gigabytes_is_refused(tmp_path):
    path = tmp_path / "big.pt"
    _zip_with_pickle(path, b"\x80\x02}.")
    data = bytearray(path.read_bytes())
    # patch the uncompressed size of data.pkl in the central directory to 2 GiB
    central = data.rindex(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 2 ** 31)
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError, match="claims 2147483648 bytes"):
        cr.load(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_checkpoints(tmp_path, fmt):
    model, _ = _trained_torch_model("mlp")
    path = tmp_path / "full.pt"
    _save(model.state_dict(), path, fmt)
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    for size in (1, 10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        cut.write_bytes(data[:size])
        with pytest.raises(LoadError) as info:
            cr.load(cut)
        assert str(cut) in str(info.value) and "\n" not in str(info.value)


def test_legacy_storage_counts_that_lie(tmp_path):
    path = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(3)}, path, _use_new_zipfile_serialization=False)
    data = bytearray(path.read_bytes())
    count = data.rindex(struct.pack("<q", 3))  # the storage's element count, before its bytes
    data[count:count + 8] = struct.pack("<q", 10 ** 12)
    path.write_bytes(bytes(data))
    with pytest.raises(LoadError, match="sizes lie"):
        cr.load(path)


def test_a_whole_pickled_module_is_refused(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(UnsafeCheckpointError,
                       match="refusing global torch.nn.modules.linear.Linear"):
        cr.load(path)


def test_the_loader_never_imports_pickle_or_torch():
    import chainrule.io.torch_checkpoint as reader
    import chainrule.io.unpickler as unpickler
    for module in (reader, unpickler):
        source = open(module.__file__, encoding="utf-8").read()
        assert "import pickle\n" not in source and "import torch" not in source


def test_a_big_endian_archive(tmp_path):
    little = tmp_path / "little.pt"
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "n": torch.tensor(7)}, little)
    big = tmp_path / "big.pt"
    with zipfile.ZipFile(little) as source, zipfile.ZipFile(big, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in info.filename:  # storages: float32 "0", int64 "1"
                dtype = "<f4" if info.filename.endswith("/0") else "<i8"
                data = numpy.frombuffer(data, dtype).byteswap().tobytes()
            target.writestr(info.filename, data)
    state = cr.load(big)
    numpy.testing.assert_array_equal(state["w"].numpy(), numpy.arange(6.0).reshape(2, 3))
    assert state["n"].item() == 7 and state["w"].dtype.isnative


def test_a_training_checkpoint_with_optimizer_state(tmp_path):
    model, x = _trained_torch_model("mlp")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(x).sum().backward()
    optimizer.step()
    path = tmp_path / "ckpt.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": 4}, path)
    got = cr.load(path)
    assert got["epoch"] == 4 and got["optimizer"]["param_groups"][0]["lr"] == 1e-3
    first = got["optimizer"]["state"][0]
    numpy.testing.assert_array_equal(first["exp_avg"].numpy(),
                                     optimizer.state_dict()["state"][0]["exp_avg"].numpy())


@pytest.mark.parametrize("protocol", [4, 5])
def test_newer_pickle_protocols(tmp_path, protocol):
    path = tmp_path / "p.pt"
    torch.save({"w": torch.arange(3.0), "names": ("a", "b")}, path, pickle_protocol=protocol)
    got = cr.load(path)
    assert got["names"] == ("a", "b") and got["w"].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_protocol_4_payload_through_stack_global(tmp_path, sentinel, fmt):
    path = tmp_path / "evil4.pt"
    torch.save({"x": _Payload(f"touch {sentinel}")}, path, pickle_protocol=4,
               _use_new_zipfile_serialization=FORMATS[fmt])
    with pytest.raises(UnsafeCheckpointError, match="refusing global posix.system"):
        cr.load(path)


@pytest.mark.parametrize("body, message", [
    (b"h\x05.", "malformed pickle"),                     # a memo entry never stored
    (b"t.", "no MARK"),                                  # TUPLE without MARK
    (b"\x86.", "malformed pickle"),                      # TUPLE2 on an empty stack
    (b"ccollections\nOrderedDict\nK\x01R.", "malformed pickle"),  # REDUCE without a tuple
    (b"K\x01)b.", "BUILD on a int"),
    (b"K\x01", "truncated"),
])
def test_malformed_pickles(tmp_path, body, message):
    path = tmp_path / "bad.pt"
    _zip_with_pickle(path, b"\x80\x02" + body)
    with pytest.raises(LoadError, match=message):
        cr.load(path)


def test_loading_needs_no_torch(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "m.pt"
    torch.save({"w": torch.arange(4.0)}, path)
    script = ("import sys; sys.modules['torch'] = None\n"  # any `import torch` now fails
              "import chainrule as cr\n"
              f"print(cr.load({str(path)!r})['w'].tolist())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0.0, 1.0, 2.0, 3.0]"


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "uint16", "uint32"])
def test_dtypes_chainrule_cannot_hold_are_named(tmp_path, dtype):
    path = tmp_path / "odd.pt"
    torch.save({"t": torch.ones(3).to(getattr(torch, dtype))}, path)
    with pytest.raises(LoadError, match=f"a tensor of dtype torch.{dtype}, which chainrule "
                                        "cannot hold"):
        cr.load(path)


def test_hugging_face_folders_that_are_damaged(tmp_path):
    from safetensors.torch import save_file
    save_file({"a": torch.ones(2)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(LoadError, match="config.json: not valid JSON"):
        load_hf_folder(tmp_path)
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "../model.safetensors"}}))
    with pytest.raises(LoadError, match="is not a file in the folder"):
        cr.load(sharded)
    (sharded / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"a": "s.safetensors", "b": "s.safetensors"}}))
    save_file({"a": torch.ones(2)}, str(sharded / "s.safetensors"))
    with pytest.raises(LoadError, match="names tensors no shard holds: b"):
        cr.load(sharded)

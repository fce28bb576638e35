"""cr.save / cr.load: safetensors checkpoints, exact round trips, atomic writes, no pickle."""
from __future__ import annotations

import ast
import errno
import math
import os
import random
import stat
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, serialize
from chainrule.serialize import LoadError, SaveError, load, save

safetensors = pytest.importorskip("safetensors")
from safetensors.numpy import load_file as st_load_file  # noqa: E402
from safetensors.numpy import save_file as st_save_file  # noqa: E402


def _same(a, b):
    """Deep equality that also checks types, dtypes and shapes (NaN equals NaN)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, cr.Tensor):
        _same(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k))
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and (a == b or (np.isnan(a) and np.isnan(b)))
    else:
        assert a == b
        if isinstance(a, float):
            assert math.copysign(1, a) == math.copysign(1, b)


def _roundtrip(obj, tmp_path, **kw):
    path = tmp_path / "ckpt.safetensors"
    save(obj, path)
    return load(path, **kw)


# --- round trips -----------------------------------------------------------------------

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "uint16", "uint32", "uint64", "bool"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_dtypes_and_shapes_exact(tmp_path, dtype):
    rng = np.random.default_rng(0)
    arrays = {"scalar": np.array(7).astype(dtype), "empty": np.zeros((0, 3), dtype),
              "matrix": (rng.standard_normal((3, 4)) * 50).astype(dtype)}
    obj = {k: cr.Tensor._wrap(v) for k, v in arrays.items()}
    out = _roundtrip(obj, tmp_path)
    _same(obj, out)
    for k, t in out.items():
        assert isinstance(t, cr.Tensor) and t.dtype == np.dtype(dtype)
        assert t.shape == arrays[k].shape


def test_model_state_dict_keeps_its_own_keys_for_other_tools(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    state = model.state_dict()
    path = tmp_path / "model.safetensors"
    save(state, path)
    plain = st_load_file(str(path))                 # any safetensors reader sees the keys
    assert sorted(plain) == sorted(state) == ["0.bias", "0.weight", "1.bias", "1.weight"]
    for k, t in state.items():
        np.testing.assert_array_equal(plain[k], t.numpy())
    out = load(path)
    assert list(out) == list(state)                  # and load keeps the module's order
    assert isinstance(out, OrderedDict)
    _same(state, out)


def test_module_save_load_gives_identical_outputs(tmp_path):
    cr.manual_seed(0)
    a = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 3))
    cr.manual_seed(1)
    b = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 3))
    x = cr.randn(4, 5)
    assert not np.array_equal(a(x).numpy(), b(x).numpy())
    save(a.state_dict(), tmp_path / "a.safetensors")
    b.load_state_dict(load(tmp_path / "a.safetensors"))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())


def test_optimizer_state_dict_int_keys_and_tuples(tmp_path):
    opt = {"state": {0: {"momentum_buffer": cr.randn(3, 2), "step": 3},
                     1: {"exp_avg": cr.zeros(2), "exp_avg_sq": cr.ones(2, dtype="float64"),
                         "step": cr.tensor(7.0)}},
           "param_groups": [{"lr": 0.1, "params": [0, 1], "betas": (0.9, 0.999),
                             "weight_decay": 0, "nesterov": False, "eps": 1e-8,
                             "maximize": None}]}
    out = _roundtrip(opt, tmp_path)
    _same(opt, out)
    assert list(out["state"]) == [0, 1] and all(type(k) is int for k in out["state"])
    assert isinstance(out["param_groups"][0]["betas"], tuple)
    assert out["param_groups"][0]["nesterov"] is False
    assert type(out["param_groups"][0]["weight_decay"]) is int


def test_training_checkpoint_with_rng_states(tmp_path):
    gen = np.random.default_rng(12345)
    gen.standard_normal(10)
    mt = np.random.Generator(np.random.MT19937(5))
    random.seed(3)
    model = nn.Linear(3, 2)
    ckpt = {"model": model.state_dict(),
            "optimizer": {"state": {0: {"momentum_buffer": cr.zeros(2, 3)}},
                          "param_groups": [{"lr": 0.01, "params": [0, 1]}]},
            "scheduler": {"last_epoch": 3, "base_lrs": [0.1], "_step_count": 4},
            "rng": gen.bit_generator.state, "mt": mt.bit_generator.state,
            "py_random": random.getstate(), "epoch": 3}
    assert ckpt["rng"]["state"]["state"] > 2 ** 64             # the reason for strings
    out = _roundtrip(ckpt, tmp_path)
    _same(ckpt, out)
    again = np.random.default_rng()
    again.bit_generator.state = out["rng"]
    np.testing.assert_array_equal(again.standard_normal(5), gen.standard_normal(5))
    mt2 = np.random.Generator(np.random.MT19937())
    mt2.bit_generator.state = out["mt"]
    np.testing.assert_array_equal(mt2.integers(0, 100, 5), mt.integers(0, 100, 5))
    random.setstate(out["py_random"])
    expect = random.random()
    random.setstate(ckpt["py_random"])
    assert random.random() == expect


def test_plain_values_round_trip_exactly(tmp_path):
    obj = {"none": None, "t": True, "f": False, "one": 1, "onef": 1.0, "neg0": -0.0,
           "big": 2 ** 200, "neg_big": -(2 ** 70) - 1, "edge": 2 ** 53 + 1,
           "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
           "pi": math.pi, "tiny": 5e-324, "uni": "héllo ✓ 日本語 🎉", "empty_s": "",
           "nested": [[1, [2, [3, None]]], (), [], {}, ((1,), [2.5])],
           "np_scalars": [np.float32(0.1), np.float64(0.2), np.int64(-3), np.uint8(200),
                          np.bool_(True), np.float16(np.inf), np.uint64(2 ** 64 - 1)],
           "dtype": np.dtype("float32"),
           2: "int key", -1.5: "float key", None: "none key", True: "bool key",
           (1, "a"): "tuple key", "dotted.key": cr.ones(1)}
    _same(obj, _roundtrip(obj, tmp_path))


def test_top_level_values_other_than_dicts(tmp_path):
    for obj in ([cr.ones(2), np.arange(3)], cr.tensor([1, 2]), (1, "x"), 5, None, "s"):
        _same(obj, _roundtrip(obj, tmp_path))


def test_numpy_arrays_stay_numpy_and_odd_layouts_are_saved_right(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    obj = {"transposed": base.T, "strided": base[::2, ::3], "big_endian": base.astype(">f4"),
           "fortran": np.asfortranarray(base), "as_tensor": cr.Tensor._wrap(base.T)}
    out = _roundtrip(obj, tmp_path)
    for k in ("transposed", "strided", "fortran"):
        assert type(out[k]) is np.ndarray
        np.testing.assert_array_equal(out[k], obj[k])
        assert out[k].dtype == obj[k].dtype
    np.testing.assert_array_equal(out["big_endian"], base.astype(np.float32))
    assert out["big_endian"].dtype == np.float32
    np.testing.assert_array_equal(out["as_tensor"].numpy(), base.T)
    out["transposed"][0, 0] = -1                      # loaded arrays are writable
    out["as_tensor"].array[0, 0] = -1


def test_colliding_names_and_shared_arrays(tmp_path):
    w = cr.randn(2, 2)
    obj = {"a": {"b": cr.ones(1)}, "a.b": cr.zeros(1), 0: cr.full((1,), 2.0),
           "0": cr.full((1,), 3.0), "__metadata__": cr.full((1,), 4.0),
           "enc.weight": w, "dec.weight": w.detach()}         # tied weights: one array
    out = _roundtrip(obj, tmp_path)
    _same(obj, out)
    names = st_load_file(str(tmp_path / "ckpt.safetensors"))
    assert len(names) == 6 and "a.b" in names and "enc.weight" in names
    assert out["enc.weight"].array is out["dec.weight"].array


def test_load_on_device_and_bad_device(tmp_path):
    out = _roundtrip({"w": cr.ones(2)}, tmp_path, device="cpu")
    assert out["w"].device == "cpu"
    with pytest.raises(RuntimeError, match="device type at start of device string: tpu"):
        load(tmp_path / "ckpt.safetensors", device="tpu")


def test_unsupported_values_raise_type_error_before_writing(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"ok": 1}, path)
    before = path.read_bytes()
    for bad in ({"o": object()}, {"f": lambda x: x},
                {"a": np.array(["x"])}, {"c": np.zeros(2, np.complex128)},
                {cr.ones(1): 1}, {"b": b"bytes"}):
        with pytest.raises(TypeError, match="cannot save obj"):
            save(bad, path)
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save({"loop": loop}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


# --- PyTorch interop -------------------------------------------------------------------

class _ReLU(nn.Module):
    def forward(self, x):
        return cr.relu(x)


def test_torch_written_file_loads_into_the_same_architecture(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as torch_save_file
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    path = tmp_path / "torch.safetensors"
    torch_save_file(tmodel.state_dict(), str(path))

    state = load(path)
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(isinstance(t, cr.Tensor) and t.dtype == np.float32 for t in state.values())
    relu = nn.ReLU() if hasattr(nn, "ReLU") else _ReLU()
    model = nn.Sequential(nn.Linear(4, 3), relu, nn.Linear(3, 2))
    model.load_state_dict(state)

    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_chainrule_file_loads_into_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as torch_load_file
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    save(model.state_dict(), tmp_path / "cr.safetensors")
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    tmodel.load_state_dict(torch_load_file(str(tmp_path / "cr.safetensors")))
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(cr.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_bfloat16_tensors_load_as_exact_float32(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file as torch_save_file
    values = torch.tensor([[1.5, -2.0, 3.140625], [0.0, 1e-3, 65280.0]], dtype=torch.bfloat16)
    torch_save_file({"w": values, "i": torch.arange(3)}, str(tmp_path / "bf.safetensors"))
    out = load(tmp_path / "bf.safetensors")
    assert out["w"].dtype == np.float32 and out["i"].dtype == np.int64
    np.testing.assert_array_equal(out["w"].numpy(), values.float().numpy())


def test_foreign_numpy_file_without_metadata(tmp_path):
    st_save_file({"x": np.arange(3, dtype=np.int16), "y": np.ones((2, 2), bool)},
                 str(tmp_path / "np.safetensors"), metadata={"format": "np"})
    out = load(tmp_path / "np.safetensors")
    assert set(out) == {"x", "y"}
    assert out["x"].dtype == np.int16 and out["y"].dtype == np.bool_


# --- atomic writes ---------------------------------------------------------------------

def _disk_full_after(n_bytes):
    real_write = os.write

    def write(fd, data):
        nonlocal n_bytes
        if n_bytes <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        chunk = bytes(data[:n_bytes])
        n_bytes -= len(chunk)
        return real_write(fd, chunk)
    return write


def test_disk_full_mid_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"w": cr.ones(10), "epoch": 1}, path)
    before = path.read_bytes()
    monkeypatch.setattr(serialize, "_os_write", _disk_full_after(100))
    with pytest.raises(SaveError) as info:
        save({"w": cr.zeros(10_000), "epoch": 2}, path)
    err = info.value
    assert isinstance(err, OSError) and err.errno == errno.ENOSPC
    assert str(path) in str(err) and "previous file is untouched" in str(err)
    assert "no space left" in str(err).lower()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]     # temp file removed
    monkeypatch.undo()
    assert load(path)["epoch"] == 1


def test_fsync_or_rename_failure_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"v": 1}, path)

    def fail(*args):
        raise OSError(errno.EIO, "Input/output error")
    for name in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(serialize.os, name, fail)
            with pytest.raises(SaveError, match="previous file is untouched"):
                save({"v": 2}, path)
        assert load(path) == {"v": 1}
        assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_interrupt_mid_write_removes_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"v": 1}, path)

    def interrupted(fd, data):
        raise KeyboardInterrupt
    monkeypatch.setattr(serialize, "_os_write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"v": 2}, path)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    monkeypatch.undo()
    assert load(path) == {"v": 1}


def test_unwritable_or_missing_directory(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("I am a file")
    with pytest.raises(SaveError, match="could not save checkpoint to .*not a directory"):
        save({"v": 1}, not_a_dir / "ckpt.safetensors")
    with pytest.raises(SaveError, match="does not exist; no file was written"):
        save({"v": 1}, tmp_path / "missing" / "ckpt.safetensors")
    assert not_a_dir.read_text() == "I am a file"
    assert os.listdir(tmp_path) == ["file"]


def test_target_is_a_directory(tmp_path):
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(SaveError):
        save({"v": 1}, tmp_path / "ckpt")
    assert os.listdir(tmp_path) == ["ckpt"]


def test_file_mode_and_symlinks(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"v": 1}, path)
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask   # not mkstemp's 0o600
    path.chmod(0o640)
    save({"v": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640            # overwrite keeps the mode
    link = tmp_path / "latest"
    link.symlink_to(path.name)
    save({"v": 3}, link)
    assert link.is_symlink() and load(path) == {"v": 3}


def test_accepts_str_and_pathlike(tmp_path):
    save({"v": 1}, str(tmp_path / "a"))
    assert load(str(tmp_path / "a")) == load(Path(tmp_path / "a")) == {"v": 1}


# --- damaged and foreign files ---------------------------------------------------------

def _good_bytes(tmp_path):
    path = tmp_path / "good.safetensors"
    save({"model": {"w": cr.randn(8, 8)}, "epoch": 3}, path)
    return path.read_bytes()


@pytest.mark.parametrize("content", [
    b"", b"abc", b"\x00" * 7, b"hello, this is a text file\n" * 10,
    b'{"not": "safetensors"}', bytes(range(256)) * 4,
    np.random.default_rng(0).bytes(4096)], ids=["empty", "tiny", "zeros", "text", "json",
                                              "bytes", "random"])
def test_garbage_files_give_load_error(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(LoadError, match="is not a chainrule/safetensors checkpoint "
                                        r"\(truncated or foreign file\)") as info:
        load(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)


def test_truncated_files_give_load_error(tmp_path):
    data = _good_bytes(tmp_path)
    path = tmp_path / "cut.safetensors"
    for cut in (4, 8, 20, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        with pytest.raises(LoadError, match="truncated or foreign"):
            load(path)


def test_torch_zip_file_goes_to_the_restricted_reader(tmp_path):
    path = tmp_path / "model.pt"  # (tests/io tests that reader; here: load dispatches)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    assert load(path) == {}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02cposix\nsystem\nq\x00.")
    with pytest.raises(LoadError, match="refusing global posix.system"):
        load(path)


@pytest.mark.parametrize("meta, message", [
    ("{not json", "damaged chainrule metadata"),
    ('{"format": "chainrule"}', "damaged chainrule metadata"),
    ('{"format": "chainrule", "version": 1, "tree": {"t": "tensor", "k": "nope"}}',
     "does not hold"),
    ('{"format": "chainrule", "version": 1, "tree": {"t": "mystery"}}', "unknown node"),
    ('{"format": "chainrule", "version": 1, "tree": {"t": "dict", "items": [[1]]}}',
     "bad 'dict' node"),
    ('{"format": "chainrule", "version": 1, "tree": [1, 2]}', "bare JSON list"),
    ('{"format": "chainrule", "version": 99, "tree": null}', "newer chainrule"),
])
def test_damaged_chainrule_metadata(tmp_path, meta, message):
    path = tmp_path / "bad.safetensors"
    st_save_file({"x": np.zeros(2, np.float32)}, str(path), metadata={"__chainrule__": meta})
    with pytest.raises(LoadError, match=message):
        load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at .*nope") as info:
        load(tmp_path / "nope.safetensors")
    assert info.value.filename == str(tmp_path / "nope.safetensors")
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


def test_serialize_never_imports_pickle():
    source = Path(serialize.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal",
                           "shelve", "joblib"}
    assert "allow_pickle" not in source and "eval(" not in source

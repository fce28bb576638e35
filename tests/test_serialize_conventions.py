"""PyTorch's save/load conventions: file objects, torch.load's arguments, whole modules."""
import io

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_save_to_and_load_from_a_file_object():
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    cr.save({"model": model.state_dict(), "epoch": 4}, buffer)
    buffer.seek(0)
    loaded = cr.load(buffer, map_location="cpu", weights_only=True)
    assert loaded["epoch"] == 4
    np.testing.assert_array_equal(loaded["model"]["weight"].numpy(), model.weight.numpy())


@pytest.mark.parametrize("map_location", [None, "cpu", lambda storage, loc: storage,
                                          {"cuda:0": "cpu"}])
def test_load_accepts_torch_arguments(tmp_path, map_location):
    path = tmp_path / "w.pt"
    cr.save({"w": cr.ones(2)}, path)
    loaded = cr.load(path, map_location=map_location, weights_only=False, mmap=None)
    assert loaded["w"].numpy().tolist() == [1.0, 1.0]


class TwoHeads(nn.Module):
    """A model as programs write them: submodules, a tied layer, a function, settings."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4))
        self.rnn = nn.LSTM(4, 5, batch_first=True)
        self.head = nn.Linear(5, 2)
        self.same_head = self.head
        self.act = cr.nn.functional.relu
        self.scale = 2.5
        self.register_buffer("step", cr.zeros(1), persistent=False)

    def forward(self, x):
        out, _ = self.rnn(self.body(x)[:, None, :])
        return self.act(self.head(out[:, -1])) * self.scale


def test_a_whole_model_saves_and_loads_as_torch_save_and_load_do(tmp_path):
    cr.manual_seed(0)
    model, x = TwoHeads(), cr.randn(6, 3)
    model.eval()
    cr.save(model, tmp_path / "model.pt")
    loaded = cr.load(tmp_path / "model.pt", weights_only=False)
    assert type(loaded) is TwoHeads and loaded is not model and not loaded.training
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.head is loaded.same_head  # one object reached twice stays one
    assert loaded.head.weight is loaded.head._parameters["weight"]
    assert isinstance(loaded.head.weight, nn.Parameter) and loaded.head.weight.requires_grad
    assert loaded.act is cr.nn.functional.relu and loaded.scale == 2.5
    assert "step" not in loaded.state_dict()  # a non-persistent buffer stays one
    # it trains: the optimizer's parameters are the ones the forward reads
    loaded.train()
    opt = cr.optim.SGD(loaded.parameters(), lr=0.5)
    before = loaded(x).numpy()
    loaded(x).sum().backward()
    opt.step()
    assert not np.array_equal(loaded(x).numpy(), before)


def test_a_whole_model_inside_a_checkpoint_dict(tmp_path):
    cr.save({"model": nn.Linear(2, 3), "epoch": 7}, tmp_path / "ckpt.pt")
    loaded = cr.load(tmp_path / "ckpt.pt")
    assert loaded["epoch"] == 7 and isinstance(loaded["model"], nn.Linear)


def test_loading_runs_nothing_the_file_names(tmp_path):
    """Classes and functions come only from modules already imported, never from the
    standard library; a file naming anything else is refused in one line."""
    import json
    import struct

    cr.save(nn.Linear(2, 2), tmp_path / "m.pt")
    raw = (tmp_path / "m.pt").read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    for forged in ("os:system", "builtins:eval", "not_imported_anywhere:Model"):
        meta = json.loads(header["__metadata__"]["__chainrule__"])
        meta["tree"]["class"] = forged
        header["__metadata__"]["__chainrule__"] = json.dumps(meta)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        (tmp_path / "forged.pt").write_bytes(struct.pack("<Q", len(text)) + text
                                             + raw[8 + length:])
        with pytest.raises(cr.LoadError) as info:
            cr.load(tmp_path / "forged.pt")
        assert forged.partition(":")[0] in str(info.value) and "\n" not in str(info.value)


def test_a_class_defined_inside_a_function_cannot_be_found_again(tmp_path):
    class Local(nn.Module):
        def forward(self, x):
            return x
    with pytest.raises(TypeError, match="module level"):
        cr.save(Local(), tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_serialization_module_path():
    from chainrule.serialization import load, save
    assert (load, save) == (cr.load, cr.save)


def test_pytorchs_allowlist_for_weights_only_loads_is_kept(tmp_path):
    """word_language_model loads its whole model inside `with safe_globals([...])`."""
    from chainrule import serialization
    serialization.clear_safe_globals()
    serialization.add_safe_globals([nn.Linear])
    with serialization.safe_globals([TwoHeads]):
        assert serialization.get_safe_globals() == [nn.Linear, TwoHeads]
        cr.save(TwoHeads(), tmp_path / "m.pt")
        assert isinstance(cr.serialization.load(tmp_path / "m.pt"), TwoHeads)
    assert serialization.get_safe_globals() == [nn.Linear]
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


def test_a_module_whose_hook_holds_the_module_comes_back_whole(tmp_path):
    """weight_norm's hook object holds a handle that leads back to the module: a cycle,
    rebuilt as one (each object made before its attributes)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = nn.utils.weight_norm(nn.Linear(3, 2))
    cr.save(model, tmp_path / "wn.pt")
    loaded = cr.load(tmp_path / "wn.pt")
    x = cr.randn(4, 3)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    assert set(loaded.state_dict()) == {"bias", "weight_g", "weight_v"}


def test_a_parametrized_module_asks_for_its_state_dict(tmp_path):
    """Its class is made at run time, so loading could not find it (PyTorch refuses to
    pickle it too)."""
    model = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3))
    with pytest.raises(TypeError, match="state_dict"):
        cr.save(model, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_defaultdicts_keep_their_factory(tmp_path):
    from collections import OrderedDict, defaultdict
    counts = defaultdict(OrderedDict, {"a": OrderedDict(b=1)})
    cr.save({"counts": counts}, tmp_path / "d.pt")
    loaded = cr.load(tmp_path / "d.pt")["counts"]
    assert isinstance(loaded, defaultdict) and loaded.default_factory is OrderedDict
    assert loaded == counts and isinstance(loaded["new"], OrderedDict)
    with pytest.raises(TypeError, match="defaultdict"):
        cr.save({"odd": defaultdict(lambda: 0)}, tmp_path / "e.pt")


class Settings(nn.Module):
    """Attributes models keep beside their layers."""

    def __init__(self):
        super().__init__()
        self.device = cr.device("cpu")
        self.dtype = cr.float32
        self.shape = cr.Size([2, 3])
        self.loss_fn = nn.CrossEntropyLoss()
        self.vocab = {"a": 1, "b": 2}

    def forward(self, x):
        return x


def test_a_model_keeps_its_device_dtype_and_settings(tmp_path):
    cr.save(Settings(), tmp_path / "m.pt")
    loaded = cr.load(tmp_path / "m.pt")
    assert loaded.device == cr.device("cpu") and isinstance(loaded.device, cr.device)
    assert loaded.dtype == cr.float32 and tuple(loaded.shape) == (2, 3)
    assert isinstance(loaded.loss_fn, nn.CrossEntropyLoss) and loaded.vocab == {"a": 1, "b": 2}
    assert cr.load(tmp_path / "m.pt", map_location="cpu").device == cr.device("cpu")


class Config:
    """A program's settings object, as GPT-style models keep one (`self.config`)."""

    def __init__(self, width):
        self.width = width


class Configured(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.fc = nn.Linear(config.width, 2)

    def forward(self, x):
        return self.fc(x)


def test_a_models_config_object_comes_back_with_it(tmp_path):
    model = Configured(Config(3))
    cr.save({"model": model, "config": model.config}, tmp_path / "ckpt.pt")
    loaded = cr.load(tmp_path / "ckpt.pt")
    assert isinstance(loaded["config"], Config) and loaded["config"].width == 3
    assert loaded["model"].config is loaded["config"]
    with pytest.raises(TypeError, match="Generator"):
        cr.save({"rng": np.random.default_rng(0)}, tmp_path / "rng.pt")

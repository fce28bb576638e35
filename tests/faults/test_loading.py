"""Model files and checkpoints under attack: loading one runs no code, and a damaged or
crafted file is one line naming it, never a traceback or a wrong model."""
from __future__ import annotations

import json
import shutil
import struct

import numpy as np
import pytest

from chainrule.serialize import LoadError, load, save
from chainrule.train import pipeline

MODEL_CODE = '''
from chainrule import nn

def build_model(config):
    return nn.Sequential(nn.Flatten(), nn.Linear(64, {hidden}), nn.ReLU(),
                         nn.Linear({hidden}, config["num_classes"]))
'''


@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
    """A digits model trained from a user's Python file (1 epoch)."""
    folder = tmp_path_factory.mktemp("user-run")
    code = folder / "net.py"
    code.write_text(MODEL_CODE.format(hidden=16))
    pipeline.train("digits", str(code), epochs=1, out_dir=str(folder / "run"), progress=False,
                   log=lambda *_: None)
    return folder


def evil_code(tmp_path):
    """A .py file that leaves a marker when it runs."""
    marker = tmp_path / "ran"
    code = tmp_path / "x.py"
    code.write_text(f"open({str(marker)!r}, 'w').write('ran')\n" + MODEL_CODE.format(hidden=16))
    return code, marker


def crafted(tmp_path, source, change) -> str:
    """A copy of model file `source` whose state `change(state)` edited."""
    state = load(str(source))
    change(state)
    path = tmp_path / "crafted.safetensors"
    save(state, str(path))
    return str(path)


# --- item 1: a model file never names code to run --------------------------------------
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_model_file_naming_code_runs_nothing(chainrule, tmp_path, digits_run, command):
    code, marker = evil_code(tmp_path)

    def point_at_code(state):
        state["config"]["recipe"] = str(code)
    path = crafted(tmp_path, digits_run / "model.safetensors", point_at_code)
    args = ["predict", path, "hello"] if command == "predict" else ["evaluate", path]
    assert chainrule.error(*args) == (
        f"{path} holds a model built from user code (x.py); loading a model file runs no "
        "code, so pass that file again: --model FILE.py")
    assert not marker.exists()


def test_a_relative_code_name_in_the_current_folder_runs_nothing(chainrule, tmp_path, digits_run,
                                                                monkeypatch):
    code, marker = evil_code(tmp_path)
    monkeypatch.chdir(tmp_path)
    path = crafted(tmp_path, digits_run / "model.safetensors",
                   lambda state: state["config"].__setitem__("recipe", "x.py"))
    chainrule.error("evaluate", path)
    assert not marker.exists()


def test_user_code_is_loaded_when_passed_again(chainrule, user_run):
    code, out, err = chainrule("evaluate", user_run / "run" / "model.safetensors",
                               "--model", user_run / "net.py")
    assert code == 0, err
    assert out.startswith("test accuracy ")


def test_user_code_whose_network_does_not_fit_is_one_line(chainrule, user_run, tmp_path):
    other = tmp_path / "wider.py"
    other.write_text(MODEL_CODE.format(hidden=32))
    model = user_run / "run" / "model.safetensors"
    line = chainrule.error("evaluate", model, "--model", other)
    assert line.startswith(f"{model}: its weights do not fit the network built by {other}: "
                           "error loading state dict into Sequential: size mismatch for "
                           "1.weight: checkpoint has shape (16, 64), this model has (32, 64)")


def test_resuming_a_run_from_user_code_needs_the_code_again(chainrule, user_run, tmp_path):
    code, marker = evil_code(tmp_path)
    run = user_run / "run"
    state = load(str(run / "checkpoint.safetensors"))
    state["run"]["model"] = str(code)  # a crafted checkpoint naming code
    crafted_run = tmp_path / "run"
    crafted_run.mkdir()
    save(state, str(crafted_run / "checkpoint.safetensors"))
    assert chainrule.error("train", "--resume", "--epochs", "2", "--out", crafted_run) == (
        f"--resume: the run in {crafted_run} trains a model from user code (x.py); a "
        "checkpoint runs no code, so pass that file again: --model FILE.py")
    assert not marker.exists()


@pytest.mark.parametrize("key,value,problem", [
    ("epochs", "ten", "epochs must be an integer of at least 1, got 'ten'"),
    ("batch_size", 0, "batch_size must be an integer of at least 1, got 0"),
    ("lr", -1.0, "lr must be a finite number above 0, got -1.0"),
    ("seed", -2, "seed must be an integer of at least 0, got -2"),
])
def test_a_checkpoint_with_damaged_settings_is_one_line(chainrule, digits_run, tmp_path, key,
                                                        value, problem):
    state = load(str(digits_run / "checkpoint.safetensors"))
    state["run"][key] = value
    run = tmp_path / "run"
    run.mkdir()
    save(state, str(run / "checkpoint.safetensors"))
    assert chainrule.error("train", "--resume", "--out", run, "--quiet") == (
        f"--resume: the checkpoint in {run} is damaged: train: {problem}")


def test_resuming_a_run_from_user_code_with_the_code(chainrule, user_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(user_run / "run", run)
    code, out, err = chainrule("train", "--resume", "--epochs", "2", "--model",
                               user_run / "net.py", "--out", run, "--quiet")
    assert code == 0, err
    assert load(str(run / "checkpoint.safetensors"))["epoch"] == 2


def test_model_code_for_a_builtin_recipe_is_refused(chainrule, digits_run, user_run):
    model = digits_run / "model.safetensors"
    assert chainrule.error("evaluate", model, "--model", user_run / "net.py") == (
        f"{model} holds the built-in recipe 'mlp', not a model from user code; leave out "
        "--model")


BROKEN_CODE = [
    ("def build_model(config):\n    return None\n",
     "{path}: build_model(config) returned NoneType, not an nn.Module"),
    ("def build_model(config)\n    return 1\n", "{path}:1: syntax error: expected ':'"),
    ("import no_such_module_xyz\n",
     "{path}: running it failed: ModuleNotFoundError: No module named 'no_such_module_xyz'"),
    ("x = 1\n", "{path} must define build_model(config) returning an nn.Module"),
    ("build_model = 3\n", "{path} must define build_model(config) returning an nn.Module"),
    ("def build_model(config):\n    return config['nope']\n",
     "{path}: build_model(config) failed: KeyError: 'nope'"),
    ("raise SystemError('boom')\n", "{path}: running it failed: SystemError: boom"),
]


@pytest.mark.parametrize("source,message", BROKEN_CODE,
                         ids=["returns-None", "syntax", "import", "no-builder", "not-callable",
                              "raises", "raises-at-import"])
def test_broken_user_code_is_one_line(chainrule, tmp_path, source, message):
    code = tmp_path / "net.py"
    code.write_text(source)
    assert chainrule.error("train", "--model", code, "--out", tmp_path / "run") == \
        message.format(path=code)


def test_missing_user_code_is_one_line(chainrule, tmp_path):
    assert chainrule.error("train", "--model", tmp_path / "gone.py", "--out", tmp_path) == \
        f"model file not found: {tmp_path / 'gone.py'}"


# --- item 8: crafted configs, classes and encoders ---------------------------------------
def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(state):
        target = state
        for key in keys[:-1]:
            target = target[key]
        if value is DELETE:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return change


DELETE = object()
CRAFTED = [
    ("no-recipe", _set("config", "recipe", DELETE), "unknown recipe None"),
    ("recipe-number", _set("config", "recipe", 9), "unknown recipe 9"),
    ("recipe-unknown", _set("config", "recipe", "resnet"), "unknown recipe 'resnet'"),
    ("kind-unknown", _set("config", "kind", "audio"), "unknown data kind 'audio'"),
    ("no-kind", _set("config", "kind", DELETE), "unknown data kind None"),
    ("classes-zero", _set("config", "num_classes", 0),
     "num_classes is 0, not a whole number of at least 2"),
    ("classes-text", _set("config", "num_classes", "10"),
     "num_classes is '10', not a whole number of at least 2"),
    ("classes-bool", _set("config", "num_classes", True),
     "num_classes is True, not a whole number of at least 2"),
    ("image-huge", _set("config", "image_shape", [1, 1000000, 1000000]),
     "image_shape [1, 1000000, 1000000] asks for a larger network than the 50826 numbers "
     "stored in it"),
    ("image-negative", _set("config", "image_shape", [1, -8, 8]), "image_shape is [1, -8, 8]"),
    ("image-2d", _set("config", "image_shape", [8, 8]), "image_shape is [8, 8]"),
    ("image-text", _set("config", "image_shape", "8x8"), "image_shape is '8x8'"),
    ("image-float", _set("config", "image_shape", [1, 8.0, 8]), "image_shape is [1, 8.0, 8]"),
    ("classes-short", _set("classes", ["0", "1"]),
     "it names 2 classes for a model with 10 outputs"),
    ("classes-none", _set("classes", None),
     "it names no list of classes for a model with 10 outputs"),
    ("classes-numbers", _set("classes", list(range(10))),
     "it names 10 classes for a model with 10 outputs"),
    ("config-list", _set("config", [1, 2]), "no config, encoder or weights"),
    ("no-weights", _set("state_dict", DELETE), "no config, encoder or weights"),
    ("no-encoder", _set("encoder", DELETE), "no config, encoder or weights"),
    ("run-text", _set("run", "digits"), "its run record is not a table of settings"),
    ("encoder-kind", _set("encoder", "type", "BagOfWords"),
     "an encoder of type 'BagOfWords' for image data"),
]


@pytest.mark.parametrize("change,problem", [c[1:] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_a_crafted_model_file_is_one_line(chainrule, tmp_path, digits_run, change, problem):
    path = crafted(tmp_path, digits_run / "model.safetensors", change)
    assert chainrule.error("predict", path, "a") == f"{path}: damaged model file: {problem}"


ENCODERS = [
    ("type-unknown", _set("encoder", "type", "Pickle"), "DataError: unknown encoder type "
     "'Pickle'; known: BagOfWords, ImageEncoder, SequenceEncoder, Vocab"),
    ("extra-field", _set("encoder", "evil", 1), "TypeError: ImageEncoder.__init__() got an "
     "unexpected keyword argument 'evil'"),
]


@pytest.mark.parametrize("change,problem", [c[1:] for c in ENCODERS], ids=[c[0] for c in ENCODERS])
def test_a_damaged_encoder_record_is_one_line(chainrule, tmp_path, digits_run, change, problem):
    path = crafted(tmp_path, digits_run / "model.safetensors", change)
    assert chainrule.error("predict", path, "a") == (
        f"{path}: damaged model file: its encoder record does not load ({problem})")


def test_weights_of_the_wrong_shape_are_one_line(chainrule, tmp_path, digits_run):
    def shrink(state):
        state["state_dict"]["1.weight"] = state["state_dict"]["1.weight"][:3]
    path = crafted(tmp_path, digits_run / "model.safetensors", shrink)
    assert chainrule.error("predict", path, "a").startswith(
        f"{path}: its weights do not fit the network built by the recipe 'mlp': error loading "
        "state dict into Sequential: size mismatch for 1.weight: checkpoint has shape (3, 64)")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_model_file_with_non_finite_weights_is_refused(chainrule, tmp_path, digits_run, value):
    def poison(state):
        state["state_dict"]["4.bias"].array[3] = value
    path = crafted(tmp_path, digits_run / "model.safetensors", poison)
    assert chainrule.error("predict", path, "a") == (
        f"{path}: damaged model file: weight 4.bias holds NaN or infinite values")


def test_a_checkpoint_is_not_a_model_file(chainrule, digits_run):
    path = digits_run / "checkpoint.safetensors"
    assert chainrule.error("predict", path, "a") == (
        f"{path} is not a chainrule model file (train one with `chainrule train`)")


# --- files that are not what they claim ------------------------------------------------
def _header_file(path, header: bytes, body: bytes = b"") -> str:
    path.write_bytes(struct.pack("<Q", len(header)) + header + body)
    return str(path)


def test_a_pickle_is_never_unpickled(chainrule, tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "ran"), "w"))
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(Boom()))
    assert chainrule.error("predict", path, "a") == (
        f"{path}: refusing global io.open: only tensors, storages and plain containers are "
        "loaded")
    assert not (tmp_path / "ran").exists()


def test_a_safetensors_header_whose_length_starts_like_a_pickle_loads(tmp_path):
    """1 header length in 256 has 0x80 as its first byte, as a pickle stream has."""
    path = tmp_path / "m.safetensors"
    for pad in range(300):
        save({"w": np.arange(3.0), "pad": "x" * pad}, str(path))
        if path.read_bytes()[:1] == b"\x80":
            break
    assert path.read_bytes()[:1] == b"\x80"
    assert load(str(path))["pad"] == "x" * pad


@pytest.mark.parametrize("content", [b"", b"\x00" * 3, b"hello world, not a model",
                                     b"\xff" * 64], ids=["empty", "short", "text", "ones"])
def test_garbage_files_are_one_line(chainrule, tmp_path, content):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    assert chainrule.error("predict", path, "a").startswith(
        f"{path} is not a chainrule/safetensors checkpoint (truncated or foreign file): ")


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.999])
def test_a_truncated_model_file_is_one_line(chainrule, tmp_path, digits_run, cut):
    data = (digits_run / "model.safetensors").read_bytes()
    path = tmp_path / "model.safetensors"
    path.write_bytes(data[:int(len(data) * cut)])
    assert chainrule.error("predict", path, "a").startswith(
        f"{path} is not a chainrule/safetensors checkpoint (truncated or foreign file): ")


def test_metadata_nested_100k_deep_is_a_load_error(chainrule, tmp_path):
    tree = "[" * 100_000 + "]" * 100_000
    meta = json.dumps({"__chainrule__": '{"format":"chainrule","version":1,"tree":' + tree
                       + "}"})
    path = _header_file(tmp_path / "deep.safetensors",
                        ('{"__metadata__":' + meta + "}").encode())
    assert chainrule.error("predict", path, "a") == (
        f"{path}: damaged chainrule metadata: nested too deeply")
    with pytest.raises(LoadError, match="nested too deeply"):
        load(path)


def test_a_tree_nested_deep_in_dicts_is_a_load_error(tmp_path):
    node = "null"
    for _ in range(5000):
        node = '{"t":"list","v":[' + node + "]}"
    meta = json.dumps({"__chainrule__": '{"format":"chainrule","version":1,"tree":' + node + "}"})
    path = _header_file(tmp_path / "deep.safetensors", ('{"__metadata__":' + meta + "}").encode())
    with pytest.raises(LoadError, match="nested too deeply"):
        load(path)


def test_a_newer_format_asks_for_an_upgrade(chainrule, tmp_path):
    meta = json.dumps({"__chainrule__": '{"format":"chainrule","version":99,"tree":null}'})
    path = _header_file(tmp_path / "new.safetensors", ('{"__metadata__":' + meta + "}").encode())
    assert chainrule.error("predict", path, "a") == (
        f"{path} was written by a newer chainrule (checkpoint format 99; this version reads up "
        "to 1): upgrade chainrule to load it")


def test_a_tree_naming_a_missing_tensor_is_one_line(chainrule, tmp_path):
    meta = json.dumps({"__chainrule__": '{"format":"chainrule","version":1,"tree":'
                                        '{"t":"tensor","k":"../../etc/passwd"}}'})
    path = _header_file(tmp_path / "m.safetensors", ('{"__metadata__":' + meta + "}").encode())
    assert chainrule.error("predict", path, "a") == (
        f"{path}: damaged chainrule metadata: the tree names tensor '../../etc/passwd', which "
        "the file does not hold")


def test_a_foreign_safetensors_file_is_not_a_model_file(chainrule, tmp_path):
    from safetensors.numpy import save_file
    path = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(path))
    assert chainrule.error("predict", path, "a") == (
        f"{path} is not a chainrule model file (train one with `chainrule train`)")


def test_a_folder_is_not_a_model_file(chainrule, tmp_path):
    assert chainrule.error("predict", tmp_path, "a") == (
        f"{tmp_path} is a directory, not a checkpoint")


def test_a_missing_model_file_is_one_line(chainrule, tmp_path):
    assert chainrule.error("predict", tmp_path / "none.safetensors", "a") == (
        f"no such file: {tmp_path / 'none.safetensors'}")

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


def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path):
    with pytest.raises(TypeError) as info:
        cr.save(nn.Sequential(nn.Linear(2, 2)), tmp_path / "m.pt")
    message = str(info.value)
    assert "Sequential" in message and ".state_dict()" in message and "\n" not in message
    assert not (tmp_path / "m.pt").exists()


def test_serialization_module_path():
    from chainrule.serialization import load, save
    assert (load, save) == (cr.load, cr.save)

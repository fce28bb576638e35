"""Hugging Face-style model folders: `config.json` beside the weights.

    state, config = cr.io.load_hf_folder("bert-tiny/")   # cr.load("bert-tiny/") gives state

The weights are `model.safetensors`, or shards listed in `model.safetensors.index.json`
({"weight_map": {name: shard file}}), or, in older folders, `pytorch_model.bin` (a
torch.save file, read by the restricted reader). The state dict maps each tensor's name in
the files to a chainrule Tensor; `config` is the parsed config.json ({} when absent).
"""
from __future__ import annotations

import json
import os

from .. import serialize
from ..serialize import LoadError
from .torch_checkpoint import load_torch_checkpoint

__all__ = ["load_hf_folder", "is_hf_folder"]

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def is_hf_folder(path) -> bool:
    return os.path.isdir(path) and any(os.path.isfile(os.path.join(path, name))
                                       for name in WEIGHT_FILES)


def load_hf_folder(path, device=None) -> tuple[dict, dict]:
    """(state dict, config) of the model folder `path`."""
    path = os.fspath(path)
    if not is_hf_folder(path):
        raise LoadError(f"{path} is a directory without model weights (expected one of "
                        f"{', '.join(WEIGHT_FILES)})")
    config = _read_json(os.path.join(path, "config.json"), missing={})
    single = os.path.join(path, "model.safetensors")
    index = os.path.join(path, "model.safetensors.index.json")
    if os.path.isfile(single):
        state = serialize.load(single, device=device)
    elif os.path.isfile(index):
        state = _load_shards(path, _read_json(index), device)
    else:
        state = load_torch_checkpoint(os.path.join(path, "pytorch_model.bin"))
        if device is not None:
            state = {name: tensor.to(device) for name, tensor in state.items()}
    return dict(state), config


def _load_shards(folder: str, index, device) -> dict:
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict):
        raise LoadError(f"{folder}/model.safetensors.index.json has no weight_map")
    state = {}
    for shard in dict.fromkeys(weight_map.values()):  # each shard once, in order
        if not isinstance(shard, str) or os.path.basename(shard) != shard:
            raise LoadError(f"{folder}: shard name {shard!r} is not a file in the folder")
        state.update(serialize.load(os.path.join(folder, shard), device=device))
    missing = sorted(set(weight_map) - set(state))
    if missing:
        raise LoadError(f"{folder}: the index names tensors no shard holds: "
                        f"{', '.join(missing[:5])}")
    return state


def _read_json(file: str, missing=None):
    if missing is not None and not os.path.isfile(file):
        return missing
    try:
        with open(file, encoding="utf-8") as handle:
            return json.load(handle)
    except ValueError as err:
        raise LoadError(f"{file}: not valid JSON ({err})") from None

"""A full disk: one line naming the file, the last checkpoint kept and loadable, and no
temporary files left behind. Runs on a small tmpfs, which needs root to mount."""
from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from chainrule.serialize import load, save

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@pytest.fixture
def small_disk(tmp_path):
    """A factory: `small_disk(kilobytes)` mounts a tmpfs of that size and returns its path."""
    mounted = []

    def mount(kilobytes: int):
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs",
                               str(folder)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=False)


def leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith((".tmp", ".partial")))


def test_no_room_for_the_first_checkpoint_is_one_line(chainrule, small_disk):
    disk = small_disk(400)  # the best model (200 KB) fits, the checkpoint (600 KB) does not
    line = chainrule.error("train", "--epochs", "2", "--out", disk, "--quiet")
    assert line == (f"could not save checkpoint to {disk / 'checkpoint.safetensors'}: no space "
                    "left on device; no file was written")
    assert leftovers(disk) == []
    assert not (disk / "checkpoint.safetensors").exists()


def test_a_full_disk_mid_run_keeps_the_last_checkpoint(chainrule, small_disk):
    disk = small_disk(1200)  # epoch 1's files fit; epoch 2's new checkpoint does not
    line = chainrule.error("train", "--epochs", "3", "--out", disk, "--quiet")
    assert line == (f"could not save checkpoint to {disk / 'checkpoint.safetensors'}: no space "
                    "left on device; the previous file is untouched")
    assert leftovers(disk) == []
    assert load(str(disk / "checkpoint.safetensors"))["epoch"] == 1


def test_a_full_disk_for_a_save_is_one_line(small_disk):
    disk = small_disk(64)
    model = disk / "big.safetensors"
    with pytest.raises(OSError) as caught:
        save({"w": np.zeros(100_000, np.float32)}, str(model))
    assert str(caught.value) == (f"could not save checkpoint to {model}: no space left on "
                                 "device; no file was written")
    assert os.listdir(disk) == []

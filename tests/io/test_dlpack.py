"""DLPack: tensors cross to NumPy, PyTorch and JAX and back without a copy (the memory is
shared: a write on one side shows on the other, where the producer allows writes)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy
import pytest
import torch

import chainrule as cr


def _address(array) -> int:
    return array.__array_interface__["data"][0]


def test_the_device_is_the_cpu():
    assert cr.arange(3.0).__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32",
                                   "uint8", "bool"])
def test_to_pytorch_and_back_shares_memory(dtype):
    t = cr.tensor(numpy.arange(12).reshape(3, 4) % 3).to(numpy.dtype(dtype))
    theirs = torch.from_dlpack(t)
    assert theirs.data_ptr() == _address(t.array)
    assert str(theirs.dtype) == f"torch.{dtype}"
    numpy.testing.assert_array_equal(theirs.numpy(), t.numpy())
    back = cr.from_dlpack(theirs)
    assert _address(back.array) == _address(t.array)
    theirs[0, 0] = 1 if dtype != "bool" else True
    assert back.array[0, 0] == t.array[0, 0] == 1


def test_writes_from_pytorch_show_in_chainrule():
    source = torch.zeros(2, 3)
    ours = cr.from_dlpack(source)
    source.add_(5)
    numpy.testing.assert_array_equal(ours.numpy(), numpy.full((2, 3), 5.0, numpy.float32))
    ours.array[1, 2] = -1
    assert source[1, 2].item() == -1


def test_strided_views_keep_their_strides():
    base = torch.arange(24.0).reshape(4, 6)
    view = base[:, ::2].t()
    ours = cr.from_dlpack(view)
    numpy.testing.assert_array_equal(ours.numpy(), view.numpy())
    assert _address(ours.array) == view.data_ptr()
    again = torch.from_dlpack(ours)
    assert again.stride() == view.stride()


def test_to_dlpack_gives_the_capsule():
    t = cr.arange(3.0)
    theirs = torch.utils.dlpack.from_dlpack(cr.to_dlpack(t))
    assert theirs.data_ptr() == _address(t.array)


def test_numpy_both_ways():
    a = numpy.arange(6.0)
    ours = cr.from_dlpack(a)
    assert numpy.shares_memory(ours.array, a)
    back = numpy.from_dlpack(ours)
    assert numpy.shares_memory(back, a)


JAX_SCRIPT = """
import numpy, jax.numpy as jnp
import chainrule as cr
from test_dlpack import _address, _aligned
j = jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3)
ours = cr.from_dlpack(j)
assert numpy.array_equal(ours.numpy(), numpy.asarray(j))
assert not ours.array.flags.writeable  # JAX arrays are immutable: shared read-only
assert _address(ours.array) == j.unsafe_buffer_pointer()
# XLA takes a CPU buffer without copying when it is 64-byte aligned (else it copies)
t = cr.from_dlpack(_aligned(numpy.arange(4.0, dtype=numpy.float32)))
theirs = jnp.from_dlpack(t)
assert numpy.array_equal(numpy.asarray(theirs), [0, 1, 2, 3])
assert theirs.unsafe_buffer_pointer() == _address(t.array)
print("shared")
"""


def test_jax_both_ways():
    """In a process of its own: once JAX is imported, a later fork (data loader workers in
    other tests) may deadlock, as JAX warns."""
    pytest.importorskip("jax", reason="jax is not installed (pip install 'chainrule[jax]')")
    done = subprocess.run([sys.executable, "-c", JAX_SCRIPT], capture_output=True,
                          text=True, timeout=300, cwd=os.path.dirname(__file__))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "shared"


def _aligned(values: numpy.ndarray, alignment: int = 64) -> numpy.ndarray:
    raw = numpy.empty(values.nbytes + alignment, numpy.uint8)
    start = -_address(raw) % alignment
    array = raw[start:start + values.nbytes].view(values.dtype)
    array[...] = values
    return array


def test_a_tensor_that_requires_grad_is_refused_as_pytorch_does():
    t = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="require gradient, use tensor.detach"):
        torch.from_dlpack(t)
    assert torch.from_dlpack(t.detach()).sum().item() == 2


def test_bad_producers_are_named():
    with pytest.raises(TypeError, match="a list is not a DLPack producer"):
        cr.from_dlpack([1, 2])
    with pytest.raises(TypeError, match="from_dlpack: cannot import"):
        cr.from_dlpack(torch.ones(2, dtype=torch.bfloat16))
    with pytest.raises(TypeError, match="complex"):
        cr.from_dlpack(torch.ones(2, dtype=torch.complex64))


def test_gpu_exchange_with_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy and a GPU are needed for the CUDA path")
    try:
        x = cupy.arange(6, dtype=cupy.float32)
    except Exception as err:  # noqa: BLE001 - CuPy installed but no usable GPU
        pytest.skip(f"no usable GPU: {err}")
    ours = cr.from_dlpack(x)
    assert ours.device.startswith("cuda") and ours.array.data.ptr == x.data.ptr
    back = cupy.from_dlpack(ours)
    assert back.data.ptr == x.data.ptr
    if torch.cuda.is_available():
        assert torch.from_dlpack(ours).data_ptr() == x.data.ptr

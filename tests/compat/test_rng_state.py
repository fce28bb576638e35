"""The random streams' states as PyTorch hands them out (random.py): uint8 tensors that a
program clones, saves in a checkpoint and gives back, and fork_rng around a block."""
import pytest
import torch

import chainrule as cr


def round_trip(m, tmp_path):
    """A checkpointing program's use of the state: clone it, save it, load it, restore it."""
    m.manual_seed(0)
    state = m.get_rng_state()
    first = m.rand(3).tolist()
    m.save({"rng": state.clone()}, tmp_path / f"{m.__name__}.pt")
    m.rand(5)
    m.set_rng_state(m.load(tmp_path / f"{m.__name__}.pt")["rng"])
    return state, first, m.rand(3).tolist()


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_the_global_state_is_a_byte_tensor_that_restores_the_stream(m, tmp_path):
    state, first, again = round_trip(m, tmp_path)
    assert isinstance(state, m.Tensor) and state.dtype == m.uint8 and state.ndim == 1
    assert again == first


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_a_generators_state_is_a_byte_tensor(m):
    g = m.Generator().manual_seed(5)
    state = g.get_state()
    first = m.rand(2, generator=g).tolist()
    assert isinstance(state, m.Tensor) and state.dtype == m.uint8
    assert g.set_state(state) is g and m.rand(2, generator=g).tolist() == first


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_fork_rng_puts_the_global_stream_back(m):
    m.manual_seed(1)
    expected = m.rand(2).tolist()
    m.manual_seed(1)
    with m.random.fork_rng():
        m.rand(7)
    with m.random.fork_rng(enabled=False):
        pass
    assert m.rand(2).tolist() == expected


def test_a_state_that_is_not_a_byte_tensor_is_refused_in_one_line():
    with pytest.raises(TypeError, match="ByteTensor"):
        cr.set_rng_state(cr.zeros(3))
    with pytest.raises(RuntimeError, match="not made by chainrule"):
        cr.set_rng_state(cr.zeros(3, dtype=cr.uint8))
    with pytest.raises(TypeError):
        torch.set_rng_state(torch.zeros(3))

"""Start-up idioms of PyTorch programs: `g = torch.manual_seed(0)` and
`with torch.device(...):` as the default device of a block."""
import pytest
import torch

import chainrule as cr


def test_manual_seed_returns_the_global_generator_as_torch():
    for m in (cr, torch):
        generator = m.manual_seed(3)
        assert generator is m.default_generator and generator.initial_seed() == 3
        first = m.randn(3)
        m.manual_seed(3)
        assert m.equal(first, m.randn(3))


def test_a_device_block_sets_the_default_device_as_torch():
    for m, there in ((cr, "cpu"), (torch, "meta")):
        before = m.get_default_device()
        with m.device(there) as inside:
            assert m.get_default_device() == inside == m.device(there)
            assert m.zeros(2).device == m.device(there)
            with m.device("cpu"):
                assert m.get_default_device() == m.device("cpu")
            assert m.get_default_device() == m.device(there)
        assert m.get_default_device() == before


def test_a_block_on_a_device_chainrule_cannot_compute_on_refuses_new_tensors():
    with cr.device("mps"):
        with pytest.raises(RuntimeError, match="device 'mps' is not available"):
            cr.zeros(2)
    assert cr.zeros(2).device == cr.device("cpu")

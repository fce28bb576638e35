"""What running public generative, autoencoder and vision programs (GANs, DCGAN, siamese
networks, CNNs) on chainrule found missing or different, each checked against PyTorch."""
import pytest
import torch as real_torch

import chainrule

DEVICE_FLAGS = ("is_cpu", "is_cuda", "is_xpu", "is_mps", "is_ipu", "is_xla", "is_maia",
                "is_mtia", "is_vulkan", "is_mkldnn", "is_meta", "is_quantized", "is_sparse",
                "is_nested", "is_sparse_csr")


@pytest.mark.parametrize("name", DEVICE_FLAGS)
def test_device_and_layout_flags_are_pytorchs_properties(name):
    """pytorch/examples dcgan: `if (input.is_cuda or input.is_xpu) and self.ngpu > 1`."""
    ours, theirs = chainrule.zeros(2), real_torch.zeros(2)
    assert getattr(ours, name) is getattr(theirs, name)


def test_shape_errors_are_runtime_errors_as_pytorchs():
    for m in (chainrule, real_torch):
        with pytest.raises(RuntimeError):
            m.zeros(3) + m.zeros(4)
        with pytest.raises(RuntimeError):
            m.zeros(2, 3) @ m.zeros(2, 3)


@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor", "ByteTensor", "DoubleTensor"])
def test_cuda_legacy_types_exist_and_hold_only_gpu_tensors(name):
    """eriklindernoren/PyTorch-GAN: `Tensor = torch.cuda.FloatTensor if cuda else
    torch.FloatTensor`, `isinstance(x, torch.cuda.FloatTensor)`; clustergan names the cuda
    type on a CPU machine, and PyTorch refuses to build one there as chainrule does."""
    ours, theirs = getattr(chainrule.cuda, name), getattr(real_torch.cuda, name)
    for m, legacy in ((chainrule, ours), (real_torch, theirs)):
        x = m.zeros(2).to(getattr(m, name).dtype if m is chainrule else legacy.dtype)
        assert not isinstance(x, legacy) and isinstance(x, getattr(m, name))
    if not chainrule.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            ours(2, 3)


def test_type_with_a_cuda_legacy_type_moves_to_the_gpu():
    x = chainrule.ones(2)
    assert x.type(chainrule.DoubleTensor).dtype == chainrule.float64
    assert x.type("torch.LongTensor").dtype == chainrule.int64
    if not chainrule.cuda.is_available():
        for cuda_type in (chainrule.cuda.DoubleTensor, "torch.cuda.DoubleTensor"):
            with pytest.raises(RuntimeError, match="cuda"):
                x.type(cuda_type)

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

"""`torch.functional` (chainrule/functional.py): PyTorch's second path to some functions."""
import numpy
import torch

import chainrule as cr
import chainrule.functional as F

ABSENT = {"lu", "stft", "istft", "pca_lowrank", "svd_lowrank"}


def test_it_holds_pytorchs_names_as_the_top_level_functions():
    assert set(F.NAMES) == set(torch.functional.__all__) - ABSENT
    for name in F.NAMES:
        assert getattr(F, name) is getattr(cr, name) or \
            getattr(F, name) is cr.composites.TOP_LEVEL[name]


def test_its_functions_compute_as_pytorchs():
    a = numpy.arange(6.0).reshape(2, 3)
    ours = F.einsum("ij,kj->ik", cr.tensor(a), cr.tensor(a))
    theirs = torch.functional.einsum("ij,kj->ik", torch.tensor(a), torch.tensor(a))
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert [t.shape for t in F.split(cr.tensor(a), 1, 1)] == [(2, 1)] * 3

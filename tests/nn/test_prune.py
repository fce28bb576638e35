"""torch.nn.utils.prune (chainrule/nn/utils/prune.py) against torch: the masks each method
chooses (alone, again on what is left, over several layers at once), the forward and the
gradient through a pruned weight, remove, and the errors."""
from __future__ import annotations

import importlib

import pytest
import torch

import chainrule as cr

W = [[0.5, -0.1, 0.9, -0.3], [0.05, 0.7, -0.6, 0.2], [0.8, -0.45, 0.15, 0.35]]


def _run(lib):
    prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")
    lin = lib.nn.Linear(4, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(W))
        lin.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
    prune.l1_unstructured(lin, "weight", amount=0.25)
    names = ([n for n, _ in lin.named_parameters()], [n for n, _ in lin.named_buffers()])
    first = lin.weight_mask.tolist()
    prune.l1_unstructured(lin, "weight", amount=2)  # two more, among the nine left
    prune.l1_unstructured(lin, "bias", amount=1)
    x = lib.tensor([[1.0, 2.0, 3.0, 4.0]], requires_grad=True)
    out = lin(x)
    out.sum().backward()
    result = [names, first, lin.weight_mask.tolist(), lin.bias_mask.tolist(),
              [round(v, 5) for v in out.flatten().tolist()], lin.weight_orig.grad.tolist(),
              prune.is_pruned(lin)]
    prune.remove(lin, "weight")
    result += [[n for n, _ in lin.named_parameters()], sorted(lin.state_dict())]
    conv = lib.nn.Conv2d(2, 4, 2)
    with lib.no_grad():
        conv.weight.copy_(lib.arange(32.0).reshape(4, 2, 2, 2) - 15.5)
    prune.ln_structured(conv, "weight", amount=0.5, n=2, dim=0)
    a, b = lib.nn.Linear(3, 2), lib.nn.Linear(2, 2)
    with lib.no_grad():
        a.weight.copy_(lib.tensor([[0.1, -0.9, 0.3], [0.4, 0.05, -0.6]]))
        b.weight.copy_(lib.tensor([[0.2, -0.7], [0.01, 0.8]]))
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.4)
    prune.custom_from_mask(a, "bias", lib.tensor([0.0, 1.0]))
    return result + [conv.weight_mask.sum((1, 2, 3)).tolist(), a.weight_mask.tolist(),
                     b.weight_mask.tolist(), a.bias_mask.tolist()]


def test_pruning_matches_torch():
    ours = _run(cr)
    assert ours == _run(torch)
    assert ours[2] == [[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]]


@pytest.mark.parametrize("call, error", [
    (lambda p: p.l1_unstructured(cr.nn.Linear(2, 2), "weight", amount=1.5), ValueError),
    (lambda p: p.l1_unstructured(cr.nn.Linear(2, 2), "weight", amount=10), ValueError),
    (lambda p: p.ln_structured(cr.nn.Linear(2, 2), "bias", amount=1, n=1, dim=0), ValueError),
    (lambda p: p.remove(cr.nn.Linear(2, 2), "weight"), ValueError),
])
def test_bad_pruning_is_refused(call, error):
    with pytest.raises(error):
        call(cr.nn.utils.prune)

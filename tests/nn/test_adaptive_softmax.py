"""AdaptiveLogSoftmaxWithLoss against PyTorch: the (output, loss) pair, log_prob and
predict, their gradients with respect to the input and to every weight, finite
differences, the unbatched form and the argument checks."""
from __future__ import annotations

import numpy
import pytest
import torch
from ops.harness import case, op_table_tests  # tests/ops

import chainrule as cr

TARGETS = numpy.array([0, 3, 5, 12, 19, 15, 9])        # shortlist and every cluster


def model(m, dtype, head_bias=True, cutoffs=(4, 10, 15), trainable=False):
    """The same model in chainrule and torch: weights from one seeded generator (fixed
    unless trainable: the table's cases differentiate with respect to the input)."""
    layer = m.nn.AdaptiveLogSoftmaxWithLoss(8, 20, list(cutoffs), div_value=2.0,
                                            head_bias=head_bias)
    generator = numpy.random.default_rng(3)
    make = torch.tensor if m is torch else cr.tensor
    with m.no_grad():
        for _, p in sorted(layer.named_parameters(), key=lambda item: item[0]):
            p.copy_(make(generator.standard_normal(tuple(p.shape)) * 0.5).to(p.dtype))
    layer.requires_grad_(trainable)
    return layer.to(dtype) if m is torch else layer.to(dtype=dtype)



def output(m, x, which):
    layer = model(m, x.dtype)
    target = (torch.tensor if m is torch else cr.tensor)(TARGETS)
    return layer(x, target)[which]


CASES = [
    case("adaptive-output", lambda m, x: output(m, x, 0), (7, 8)),
    case("adaptive-loss", lambda m, x: output(m, x, 1), (7, 8)),
    case("adaptive-log-prob", lambda m, x: model(m, x.dtype).log_prob(x), (5, 8)),
    case("adaptive-unbatched", lambda m, x: model(m, x.dtype, head_bias=False)(
        x, (torch.tensor if m is torch else cr.tensor)(17)).output, (8,)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 _) = op_table_tests([], first_order=CASES)


def test_weight_gradients_match_torch():
    x = numpy.random.default_rng(0).standard_normal((7, 8))
    grads = []
    for m in (cr, torch):
        layer = model(m, m.float64, trainable=True)
        result = layer((torch.tensor if m is torch else cr.tensor)(x),
                       (torch.tensor if m is torch else cr.tensor)(TARGETS))
        result.loss.backward()
        grads.append({n: p.grad.numpy() for n, p in layer.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        numpy.testing.assert_allclose(grads[0][name], grads[1][name], rtol=1e-10,
                                      atol=1e-12, err_msg=name)


def test_predict_the_named_tuple_and_the_modules_shape_as_torch():
    x = numpy.random.default_rng(1).standard_normal((30, 8)) * 3
    ours, theirs = model(cr, cr.float64), model(torch, torch.float64)
    assert ours.predict(cr.tensor(x)).tolist() == theirs.predict(torch.tensor(x)).tolist()
    result = ours(cr.tensor(x[:7]), cr.tensor(TARGETS))
    assert result._fields == ("output", "loss") and result.output.shape == (7,)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert (ours.shortlist_size, ours.n_clusters, ours.head_size, ours.cutoffs) == \
        (theirs.shortlist_size, theirs.n_clusters, theirs.head_size, theirs.cutoffs)


def test_bad_cutoffs_targets_and_shapes_are_refused():
    for cutoffs in ([], [5, 3], [0, 4], [4, 20], [4, 4]):
        with pytest.raises(ValueError, match="cutoffs"):
            cr.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)
    layer = cr.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4])
    with pytest.raises(RuntimeError, match=r"target values should be in \[0, 19\]"):
        layer(cr.randn(2, 8), cr.tensor([1, 20]))
    with pytest.raises(RuntimeError, match="batch dimension"):
        layer(cr.randn(3, 8), cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="expects"):
        layer(cr.randn(3, 8), cr.tensor([[1, 2]]))

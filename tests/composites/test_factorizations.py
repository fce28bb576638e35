"""torch.lu / Tensor.lu and torch.lu_unpack (composites/factorizations.py) against PyTorch:
the packed factors, the 1-based row swaps, P @ L @ U = A for batches and rectangular
matrices, gradients through lu_unpack, and the refusal of a gradient through lu itself."""
import numpy
import pytest
import torch

import chainrule as cr


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (4, 3), (3, 5)])
def test_lu_and_lu_unpack_match_pytorch(shape):
    a = numpy.random.default_rng(0).standard_normal(shape)
    results = []
    for m in (cr, torch):
        packed, pivots = m.lu(m.tensor(a)) if len(shape) > 2 else m.tensor(a).lu()
        data = packed.clone().requires_grad_()
        p, lower, upper = m.lu_unpack(data, pivots)
        (lower.sum() + (upper ** 2).sum()).backward()
        results.append([packed.numpy(), numpy.asarray(pivots.numpy(), numpy.int64),
                        p.numpy(), lower.detach().numpy(), upper.detach().numpy(),
                        data.grad.numpy()])
        assert str(pivots.dtype).endswith("int32")
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    p, lower, upper = results[0][2:5]
    numpy.testing.assert_allclose(p @ lower @ upper, a, atol=1e-12)


def test_lu_with_infos_and_its_refusals():
    packed, pivots, infos = cr.lu(cr.eye(3), get_infos=True)
    assert infos.tolist() == 0 and pivots.tolist() == [1, 2, 3]
    with pytest.raises(RuntimeError, match="without pivoting"):
        cr.lu(cr.eye(3), pivot=False)
    w = cr.eye(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no gradient"):
        w.lu()
    with cr.no_grad():
        assert w.lu()[0].tolist() == cr.eye(3).tolist()


def test_lu_and_lu_unpack_write_into_out_tensors():
    a = cr.tensor([[4.0, 3.0], [6.0, 3.0]])
    packed, pivots = cr.zeros(2, 2), cr.zeros(2, dtype=cr.int32)
    assert cr.lu(a, out=(packed, pivots))[0] is packed
    p, lower, upper = cr.zeros(2, 2), cr.zeros(2, 2), cr.zeros(2, 2)
    cr.lu_unpack(packed, pivots, out=(p, lower, upper))
    assert (p @ lower @ upper).tolist() == a.tolist()

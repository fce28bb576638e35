"""`torch.linalg` (chainrule/linalg.py) and torch.svd, against PyTorch."""
import numpy
import pytest
import torch

import chainrule as cr

rng = numpy.random.default_rng(0)
A = rng.standard_normal((4, 3))
SQUARE = rng.standard_normal((3, 3)) + 3 * numpy.eye(3)
B = rng.standard_normal((3, 2))

CALLS = {
    "norm": lambda m: m.linalg.norm(m.tensor(A)),
    "norm dim": lambda m: m.linalg.norm(m.tensor(A), dim=1),
    "norm ord 1 dim": lambda m: m.linalg.norm(m.tensor(A), 1, dim=0),
    "norm fro keepdim": lambda m: m.linalg.norm(m.tensor(A), "fro", dim=(0, 1), keepdim=True),
    "norm spectral": lambda m: m.linalg.norm(m.tensor(A), 2),
    "vector_norm inf": lambda m: m.linalg.vector_norm(m.tensor(A), float("inf")),
    "matrix_norm nuc keepdim": lambda m: m.linalg.matrix_norm(m.tensor(A), "nuc", keepdim=True),
    "svdvals": lambda m: m.linalg.svdvals(m.tensor(A)),
    "svd S full": lambda m: m.linalg.svd(m.tensor(A)).S,
    "det": lambda m: m.linalg.det(m.tensor(SQUARE)),
    "inv": lambda m: m.linalg.inv(m.tensor(SQUARE)),
    "solve": lambda m: m.linalg.solve(m.tensor(SQUARE), m.tensor(B)),
    "solve right": lambda m: m.linalg.solve(m.tensor(SQUARE), m.tensor(B.T), left=False),
    "multi_dot": lambda m: m.linalg.multi_dot([m.tensor(A), m.tensor(SQUARE), m.tensor(B)]),
    "cross": lambda m: m.linalg.cross(m.tensor(A[:, :3]), m.tensor(A[::-1, :3].copy())),
    "svd S only": lambda m: m.svd(m.tensor(A), compute_uv=False).S,
}


@pytest.mark.parametrize("name", CALLS)
def test_values_match_pytorch(name):
    numpy.testing.assert_allclose(CALLS[name](cr).numpy(), CALLS[name](torch).numpy(),
                                  rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("full", [True, False])
def test_svd_reconstructs_with_pytorchs_shapes(full):
    u, s, vh = cr.linalg.svd(cr.tensor(A), full_matrices=full)
    tu, ts, tvh = torch.linalg.svd(torch.tensor(A), full_matrices=full)
    assert (u.shape, s.shape, vh.shape) == (tu.shape, ts.shape, tvh.shape)
    k = s.shape[0]
    numpy.testing.assert_allclose((u.numpy()[:, :k] * s.numpy()) @ vh.numpy()[:k], A,
                                  atol=1e-12)
    assert type(cr.linalg.svd(cr.tensor(A))).__name__ == "linalg_svd"


def test_svd_without_uv_gives_zero_matrices_as_pytorch():
    ours, theirs = cr.svd(cr.tensor(A), compute_uv=False), torch.svd(torch.tensor(A),
                                                                    compute_uv=False)
    assert ours.U.shape == theirs.U.shape and ours.V.shape == theirs.V.shape
    assert not ours.U.numpy().any() and not ours.V.numpy().any()


def test_full_svd_of_a_non_square_matrix_refuses_gradients():
    with pytest.raises(RuntimeError, match="svd: the full decomposition"):
        cr.svd(cr.tensor(A, requires_grad=True), some=False)
    with cr.no_grad():
        assert cr.svd(cr.tensor(A, requires_grad=True), some=False).U.shape == (4, 4)

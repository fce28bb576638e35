"""How a tensor prints (tensor.py's __repr__), against PyTorch: which dtypes it names (all
but the default float, int64 and bool, which its values show), an empty tensor's dtype and
size, and the gradient suffix."""
import pytest
import torch

import chainrule as cr

DTYPES = ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bool"]


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("shape", [(3,), (), (0,), (0, 2), (2, 0, 3)])
def test_repr_names_the_dtype_and_empty_sizes_as_pytorch(name, shape):
    def make(m):
        return (m.arange(6).reshape(6)[:3] % 3 if shape == (3,) else
                m.tensor(2) if shape == () else m.zeros(shape)).to(getattr(m, name))

    assert repr(make(cr)) == repr(make(torch))


def test_repr_suffixes_follow_pytorchs_order():
    for dtype in ("float64", "float32"):
        ours = cr.ones(2, dtype=getattr(cr, dtype), requires_grad=True)
        theirs = torch.ones(2, dtype=getattr(torch, dtype), requires_grad=True)
        assert repr(ours) == repr(theirs)
        assert repr(ours * 2).split("grad_fn")[0] == repr(theirs * 2).split("grad_fn")[0]

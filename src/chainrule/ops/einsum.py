"""`einsum`: a sum of products named by subscripts, `einsum("bij,bjk->bik", a, b)`.

Its gradient is an einsum too: for operand i, contract the output's gradient with all
the other operands into operand i's subscripts,

    y = einsum("ij,jk->ik", a, b);   dL/da = einsum("ik,jk->ij", dL/dy, b)

and letters that only operand i has (summed away in the forward) come back by
broadcasting, since each of their elements contributed equally.
"""
from __future__ import annotations

import string

from ..autograd.op import Op
from ..backend import xp
from ..tensor import Tensor


class Einsum(Op):
    # y = Σ over the letters not in the output of Π operands;  dL/dxᵢ: see the module note
    def forward(ctx, *operands, subscripts=(), output=""):
        ctx.subscripts, ctx.output = subscripts, output
        ctx.save_for_backward(*operands)
        return xp(operands[0]).einsum(f"{','.join(subscripts)}->{output}", *operands)

    def backward(ctx, grad):
        operands, grads = ctx.saved, []
        for i, letters in enumerate(ctx.subscripts):
            if not ctx.needs_grad(i):
                grads.append(None)
                continue
            others = [s for j, s in enumerate(ctx.subscripts) if j != i]
            tensors = [t for j, t in enumerate(operands) if j != i]
            present = set(ctx.output).union(*others)
            kept = "".join(c for c in letters if c in present)
            g = Einsum.call(grad, *tensors, subscripts=(ctx.output, *others), output=kept)
            if kept != letters:  # broadcast back over the letters only this operand had
                sizes = dict(zip(kept, g.shape))
                g = g.reshape(tuple(sizes.get(c, 1) for c in letters)) + 0 * operands[i]
            grads.append(g)
        return tuple(grads)


def einsum(equation: str, *operands) -> Tensor:
    """PyTorch's einsum: explicit (`"ij,jk->ik"`) or implicit output, `...` for leading
    dimensions; operands as arguments or as one list. A letter repeated within one operand
    (a diagonal, "ii->i") is not supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subscripts, output = _parse(equation.replace(" ", ""), [t.ndim for t in operands])
    for letters in subscripts:
        if len(set(letters)) != len(letters):
            raise NotImplementedError(f"einsum: a letter repeated within one operand "
                                      f"({equation!r}) is not supported")
    return Einsum.apply(*operands, subscripts=tuple(subscripts), output=output)


def _parse(equation: str, ndims: list) -> tuple:
    """Subscripts per operand and of the output, with `...` spelled out as letters."""
    left, arrow, right = equation.partition("->")
    parts = left.split(",")
    if len(parts) != len(ndims):
        raise ValueError(f"einsum: {len(parts)} subscripts for {len(ndims)} operands")
    unused = [c for c in string.ascii_letters if c not in equation]
    widest = max((n - len(p.replace("...", "")) for p, n in zip(parts, ndims) if "..." in p),
                 default=0)
    ellipsis = "".join(unused[:widest])
    subscripts = []
    for p, n in zip(parts, ndims):
        if "..." in p:
            p = p.replace("...", ellipsis[widest - (n - len(p.replace("...", ""))):])
        subscripts.append(p)
    if arrow:
        output = right.replace("...", ellipsis)
    else:
        counts = {c: "".join(subscripts).count(c) for c in "".join(subscripts)}
        output = ellipsis + "".join(sorted(c for c, k in counts.items()
                                           if k == 1 and c not in ellipsis))
    return subscripts, output

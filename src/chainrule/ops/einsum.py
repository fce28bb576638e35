"""`einsum`: a sum of products named by subscripts, `einsum("bij,bjk->bik", a, b)`.

Its gradient is an einsum too: for operand i, contract the output's gradient with all
the other operands into operand i's subscripts,

    y = einsum("ij,jk->ik", a, b);   dL/da = einsum("ik,jk->ij", dL/dy, b)

and letters that only operand i has (summed away in the forward) come back by
broadcasting, since each of their elements contributed equally.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp


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

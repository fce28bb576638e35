"""`einsum`'s arguments (ops/einsum.py is the op): the equation parsed into subscripts per
operand and of the output, with `...` spelled out as letters."""
from __future__ import annotations

import string

from ..ops.einsum import Einsum
from ..tensor import Tensor


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

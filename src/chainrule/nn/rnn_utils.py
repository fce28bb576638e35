"""`chainrule.nn.utils.rnn`: sequences of different lengths as one padded batch.

Packed sequences (`pack_padded_sequence`, `PackedSequence`) are not provided: recurrent
layers here run on padded batches; mask the padded steps, or take each sequence's output
at its own last step, instead.
"""
from __future__ import annotations

from ..ops.functions import stack
from ..tensor import Tensor
from .functional.misc import pad

__all__ = ["pad_sequence"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into (L_max, B, *), or (B, L_max, *) with
    batch_first, filling the missing steps with `padding_value` (after each sequence, or
    before it with padding_side="left"). Gradients flow back to every sequence."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        widths = (0, 0) * (s.ndim - 1) + ((missing, 0) if padding_side == "left" else (0, missing))
        padded.append(pad(s, widths, value=padding_value) if missing else s)
    return stack(padded, 0 if batch_first else 1)

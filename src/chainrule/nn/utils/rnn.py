"""`chainrule.nn.utils.rnn`: sequences of different lengths, padded into one batch or
packed, and recurrent layers run on packed batches.

A `PackedSequence` holds the steps of B sequences without padding, time step by time
step, longest sequence first: `data` is (Σ lengths, *), and `batch_sizes[t]` is how many
sequences are still running at step t. The sequences are sorted by decreasing length
(`sorted_indices[s]` is the caller's index of sorted sequence s; `unsorted_indices`
undoes it).

An RNN, LSTM or GRU given a PackedSequence runs each group of equally long sequences as
one batch for exactly its length (`run_packed`), so every final state is taken at its
sequence's own last step, in both directions. Its output is packed like its input, its
final states are in the caller's order, as PyTorch's.
"""
from __future__ import annotations

from collections import namedtuple

import numpy

from ... import backend, creation
from ...composites.functions import cat, stack
from ...tensor import Tensor
from ..functional.misc import pad

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
           "unpack_sequence", "pad_sequence", "unpad_sequence"]


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices); build it with
    pack_padded_sequence or pack_sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _inverse(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """The data moved or cast; the indices follow a move (batch_sizes stay on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = [None if i is None else i.to(device=data.device)
                for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *move)

    def cpu(self) -> "PackedSequence":
        return self.to("cpu")

    def cuda(self, device=None) -> "PackedSequence":
        return self.to("cuda" if device is None else device)

    def double(self) -> "PackedSequence":
        return self.to(numpy.dtype("float64"))

    def float(self) -> "PackedSequence":
        return self.to(numpy.dtype("float32"))

    def half(self) -> "PackedSequence":
        return self.to(numpy.dtype("float16"))

    @property
    def is_cuda(self) -> bool:
        return self.data.device.type == "cuda"

    def is_pinned(self) -> bool:
        return False


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) of sequences whose
    lengths are `lengths`; unless enforce_sorted, they need not be longest first."""
    lengths = _lengths(lengths)
    if lengths.size != input.shape[int(not batch_first)]:
        raise ValueError(f"pack_padded_sequence: {lengths.size} lengths for a batch of "
                         f"{input.shape[int(not batch_first)]} sequences")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted:
        if numpy.any(numpy.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        order, sorted_indices = numpy.arange(lengths.size), None
    else:
        order = numpy.argsort(-lengths, kind="stable")
        sorted_indices = creation.as_tensor(order, device=input.device)
    steps = input.transpose(0, 1) if batch_first else input
    if lengths.max(initial=0) > steps.shape[0]:
        raise ValueError(f"pack_padded_sequence: a length {lengths.max()} exceeds the "
                         f"{steps.shape[0]} steps of the padded input")
    sorted_lengths = lengths[order]
    steps = steps.index_select(1, creation.as_tensor(order, device=input.device))
    batch_sizes = _batch_sizes(sorted_lengths)
    data = _rows(steps, _packed_rows(batch_sizes, steps.shape[1]))
    return PackedSequence(data, creation.as_tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None) -> tuple:
    """The inverse of pack_padded_sequence: (padded batch in the caller's order, lengths)."""
    batch_sizes = _lengths(sequence.batch_sizes)
    longest = batch_sizes.size
    if total_length is not None:
        if total_length < longest:
            raise ValueError(f"Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {longest}")
        longest = total_length
    padded = _padded(sequence.data, batch_sizes, longest, padding_value)
    lengths = (batch_sizes[None, :] > numpy.arange(batch_sizes[0])[:, None]).sum(1)
    if sequence.unsorted_indices is not None:
        unsorted = backend.to_device(sequence.unsorted_indices.array, "cpu")
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[unsorted]
    return (padded.transpose(0, 1) if batch_first else padded), creation.as_tensor(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (longest first unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of (L_i, *) tensors that pack_sequence packed, in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :n] for i, n in enumerate(lengths.tolist())]


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


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of (L_i, *) tensors inside a padded batch."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_lengths(lengths).tolist())]


def run_packed(layer, packed: PackedSequence, hx=None) -> tuple:
    """`layer(packed, hx)` for an RNN, LSTM or GRU: each group of sequences of one length
    runs as a plain padded batch of exactly that length; outputs are packed back and the
    final states put in the caller's order. hx, as the result, is in the caller's order."""
    batch_sizes = _lengths(packed.batch_sizes)
    lengths = (batch_sizes[None, :] > numpy.arange(batch_sizes[0])[:, None]).sum(1)
    caller = (numpy.arange(lengths.size) if packed.sorted_indices is None
              else backend.to_device(packed.sorted_indices.array, "cpu"))
    steps = _padded(packed.data, batch_sizes, batch_sizes.size, 0.0)   # sorted order
    states = None if hx is None else (tuple(hx) if isinstance(hx, (tuple, list)) else (hx,))
    outputs, finals, sorted_order, caller_order = [], [], [], []
    for length in numpy.unique(lengths)[::-1]:
        group = numpy.flatnonzero(lengths == length)
        x = steps[:int(length)].index_select(1, _index(group, steps))
        h = None if states is None else tuple(
            s.index_select(1, _index(caller[group], s)) for s in states)
        if h is not None and len(h) == 1:
            h = h[0]
        out, final = layer(x.transpose(0, 1) if layer.batch_first else x, h)
        out = out.transpose(0, 1) if layer.batch_first else out
        missing = batch_sizes.size - int(length)
        outputs.append(pad(out, (0, 0, 0, 0, 0, missing)) if missing else out)
        finals.append(final if isinstance(final, tuple) else (final,))
        sorted_order.extend(group)
        caller_order.extend(caller[group])
    output = cat(outputs, 1).index_select(1, _index(numpy.argsort(sorted_order), steps))
    data = _rows(output, _packed_rows(batch_sizes, output.shape[1]))
    back = _index(numpy.argsort(caller_order), steps)
    final = tuple(cat(list(parts), 1).index_select(1, back) for parts in zip(*finals))
    result = PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                            packed.unsorted_indices)
    return result, (final if len(final) > 1 else final[0])


# --- the index arithmetic of packing ------------------------------------------------------
def _lengths(lengths) -> numpy.ndarray:
    if isinstance(lengths, Tensor):
        lengths = backend.to_device(lengths.array, "cpu")
    array = numpy.asarray(lengths)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D list or tensor of lengths, got shape {tuple(array.shape)}")
    return array.astype(numpy.int64)


def _batch_sizes(sorted_lengths: numpy.ndarray) -> numpy.ndarray:
    """How many of the (longest-first) sequences are still running at each step."""
    steps = numpy.arange(sorted_lengths.max(initial=0))
    return (sorted_lengths[None, :] > steps[:, None]).sum(1).astype(numpy.int64)


def _packed_rows(batch_sizes: numpy.ndarray, batch: int) -> numpy.ndarray:
    """Rows of the flattened (T·B, *) padded batch that the packed data holds, in order."""
    return numpy.concatenate([t * batch + numpy.arange(n) for t, n in enumerate(batch_sizes)]
                             or [numpy.zeros(0, numpy.int64)])


def _rows(steps: Tensor, rows: numpy.ndarray) -> Tensor:
    flat = steps.reshape(steps.shape[0] * steps.shape[1], *steps.shape[2:])
    return flat.index_select(0, _index(rows, steps))


def _padded(data: Tensor, batch_sizes: numpy.ndarray, steps: int, value: float) -> Tensor:
    """(steps, B, *) from packed data, `value` where a sequence has ended (sorted order)."""
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    filler = creation.full((1, *data.shape[1:]), value, dtype=data.dtype, device=data.device)
    source = numpy.full(steps * batch, data.shape[0])              # the filler row
    source[_packed_rows(batch_sizes, batch)] = numpy.arange(data.shape[0])
    rows = cat([data, filler], 0).index_select(0, _index(source, data))
    return rows.reshape(steps, batch, *data.shape[1:])


def _index(indices, like: Tensor) -> Tensor:
    return creation.as_tensor(numpy.asarray(indices, dtype=numpy.int64), device=like.device)


def _inverse(permutation: Tensor) -> Tensor:
    order = backend.to_device(permutation.array, "cpu")
    inverse = numpy.empty_like(order)
    inverse[order] = numpy.arange(order.size)
    return creation.as_tensor(inverse, device=permutation.device)

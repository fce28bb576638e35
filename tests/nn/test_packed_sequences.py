"""nn.utils.rnn's packed sequences against PyTorch: packing and unpacking (both layouts,
sorted or not, total_length), the list forms, and RNN/LSTM/GRU run on a PackedSequence
(packed output, final states at each sequence's own last step, gradients)."""
from __future__ import annotations

import numpy
import pytest
import torch
from torch.nn.utils import rnn as torch_rnn

import chainrule as cr
from chainrule.nn.utils import rnn

RNG = numpy.random.default_rng(0)
X = RNG.standard_normal((5, 4, 3))                  # (T, B, features)
LENGTHS = [3, 5, 1, 5]                              # unsorted, with a tie
SORTED = [5, 4, 2, 1]


def both(array):
    return cr.tensor(array), torch.tensor(array)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [(SORTED, True), (LENGTHS, False),
                                                    (SORTED, False)])
def test_pack_and_pad_round_trip_as_torch(batch_first, lengths, enforce_sorted):
    padded = X.transpose(1, 0, 2) if batch_first else X
    ours_x, theirs_x = both(padded)
    ours = rnn.pack_padded_sequence(ours_x, lengths, batch_first, enforce_sorted)
    theirs = torch_rnn.pack_padded_sequence(theirs_x, lengths, batch_first, enforce_sorted)
    numpy.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    for mine, expected in ((ours.sorted_indices, theirs.sorted_indices),
                           (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (mine is None and expected is None) or mine.tolist() == expected.tolist()
    for total_length in (None, 7):
        got, got_lengths = rnn.pad_packed_sequence(ours, batch_first, -1.0, total_length)
        want, want_lengths = torch_rnn.pad_packed_sequence(theirs, batch_first, -1.0,
                                                           total_length)
        numpy.testing.assert_array_equal(got.numpy(), want.numpy())
        assert got_lengths.tolist() == want_lengths.tolist()
        assert got_lengths.dtype == numpy.int64


def test_packing_passes_gradients_back_to_the_padded_batch():
    grads = []
    for m, module in ((cr, rnn), (torch, torch_rnn)):
        x = m.tensor(X, requires_grad=True)
        packed = module.pack_padded_sequence(x * 2, LENGTHS, enforce_sorted=False)
        padded, _ = module.pad_packed_sequence(packed, total_length=5)
        (padded * m.tensor(X + 1)).sum().backward()
        grads.append(x.grad.numpy())
    numpy.testing.assert_array_equal(*grads)


def test_list_forms_as_torch():
    sequences = [RNG.standard_normal((n, 2)) for n in (2, 4, 1)]
    ours = rnn.pack_sequence([cr.tensor(s) for s in sequences], enforce_sorted=False)
    theirs = torch_rnn.pack_sequence([torch.tensor(s) for s in sequences],
                                     enforce_sorted=False)
    numpy.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    for got, want in zip(rnn.unpack_sequence(ours), torch_rnn.unpack_sequence(theirs),
                         strict=True):
        numpy.testing.assert_array_equal(got.numpy(), want.numpy())
    padded = rnn.pad_sequence([cr.tensor(s) for s in sequences], batch_first=True)
    for got, want in zip(rnn.unpad_sequence(padded, cr.tensor([2, 4, 1]), batch_first=True),
                         sequences, strict=True):
        numpy.testing.assert_array_equal(got.numpy(), want)


def test_packed_sequence_is_a_named_tuple_that_moves_and_casts():
    packed = rnn.pack_padded_sequence(cr.tensor(X), LENGTHS, enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert packed._fields == torch_rnn.PackedSequence._fields
    assert packed.float().data.dtype == numpy.float32 and not packed.is_cuda
    assert packed.to("cpu") is packed
    rebuilt = rnn.PackedSequence(data, batch_sizes, sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == unsorted_indices.tolist()


def test_bad_lengths_are_refused_as_torch():
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn.pack_padded_sequence(cr.tensor(X), LENGTHS)
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn.pack_padded_sequence(cr.tensor(X), [3, 0, 1, 2], enforce_sorted=False)
    packed = rnn.pack_padded_sequence(cr.tensor(X), SORTED)
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 5"):
        rnn.pad_packed_sequence(packed, total_length=3)


def layers(mode, **options):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, mode)(3, 4, **options).double()
    ours = getattr(cr.nn, mode)(3, 4, dtype=cr.float64, **options)
    ours.load_state_dict({k: cr.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    return ours, theirs


RECURRENT = [("RNN", {}), ("LSTM", dict(num_layers=2, bidirectional=True)),
             ("GRU", dict(bidirectional=True, batch_first=True)),
             ("LSTM", dict(batch_first=True, num_layers=2))]


@pytest.mark.parametrize("mode,options", RECURRENT, ids=lambda v: str(v))
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_recurrent_layers_run_packed_sequences_as_torch(mode, options, enforce_sorted):
    ours, theirs = layers(mode, **options)
    lengths = SORTED if enforce_sorted else LENGTHS
    padded = X.transpose(1, 0, 2) if options.get("batch_first") else X
    directions = 2 if options.get("bidirectional") else 1
    h0 = RNG.standard_normal((options.get("num_layers", 1) * directions, 4, 4))
    results, grads = [], []
    for m, module, layer in ((cr, rnn, ours), (torch, torch_rnn, theirs)):
        x = m.tensor(padded, requires_grad=True)
        h = m.tensor(h0, requires_grad=True)
        packed = module.pack_padded_sequence(x, lengths, options.get("batch_first", False),
                                             enforce_sorted)
        output, final = layer(packed, (h, h * 0.5) if mode == "LSTM" else h)
        assert isinstance(output, module.PackedSequence)
        finals = final if mode == "LSTM" else (final,)
        weights = numpy.random.default_rng(5)
        loss = (output.data * m.tensor(weights.standard_normal(output.data.shape))).sum()
        for f in finals:
            loss = loss + (f * m.tensor(weights.standard_normal(f.shape))).sum()
        loss.backward()
        results.append([output.data.detach().numpy(), *(f.detach().numpy() for f in finals)])
        grads.append([x.grad.numpy(), h.grad.numpy(), *(p.grad.numpy() for p in
                                                       layer.parameters())])
    for got, want in zip(*results, strict=True):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for got, want in zip(*grads, strict=True):
        numpy.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)

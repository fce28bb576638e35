import json

import numpy as np
import pytest

from chainrule.data import (
    BagOfWords,
    DataError,
    SequenceEncoder,
    Vocab,
    encoder_from_state_dict,
    one_hot,
    pad_sequences,
    tokenize,
)

TEXTS = ["The film is good.", "The film is bad!", "A good, good film", "Bad acting"]


@pytest.mark.parametrize("text, tokens", [
    ("Hello, World!", ["hello", ",", "world", "!"]),
    ("It's a co-written film.", ["it", "'s", "a", "co-written", "film", "."]),
    ("Don't  stop\tnow", ["do", "n't", "stop", "now"]),
    ("We'll see 21 films", ["we", "'ll", "see", "21", "films"]),
    ("''Conan''", ["'", "'", "conan", "'", "'"]),
    ("", []),
])
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_vocab_orders_by_frequency_then_alphabet_after_the_specials():
    vocab = Vocab.build(TEXTS)
    assert vocab.tokens[:2] == ["<pad>", "<unk>"]
    assert vocab.tokens[2:5] == ["film", "good", "bad"]  # 3, 3, 2 uses ("film" < "good")
    assert len(vocab) == 2 + len({t for text in TEXTS for t in tokenize(text)})


def test_min_freq_and_max_size():
    assert Vocab.build(TEXTS, min_freq=2).tokens == ["<pad>", "<unk>", "film", "good", "bad",
                                                     "is", "the"]
    assert Vocab.build(TEXTS, max_size=2).tokens == ["<pad>", "<unk>", "film", "good"]
    assert len(Vocab.build(TEXTS, min_freq=100)) == 2


def test_encode_decode_round_trip_and_unknown_words():
    vocab = Vocab.build(TEXTS)
    ids = vocab.encode("The good film")
    assert vocab.decode(ids) == "the good film"
    assert vocab.encode("the zebra") == [vocab.index("the"), Vocab.unk_index]
    assert vocab.index("zebra") == 1 and "zebra" not in vocab and "film" in vocab
    assert vocab.decode([0, 0] + ids + [0]) == "the good film"  # padding is left out
    assert vocab.encode(["good", "nope"]) == [vocab.index("good"), 1]


def test_vocab_state_dict_round_trip():
    vocab = Vocab.build(TEXTS, min_freq=2)
    state = json.loads(json.dumps(vocab.state_dict()))
    restored = Vocab.from_state_dict(state)
    assert restored.tokens == vocab.tokens and restored.encode(TEXTS[0]) == vocab.encode(TEXTS[0])


def test_vocab_rejects_a_token_list_without_the_specials():
    with pytest.raises(DataError, match="<pad>"):
        Vocab(["film", "good"])


def test_bag_of_words_counts_and_binary():
    vocab = Vocab.build(TEXTS)
    counts = BagOfWords(vocab)(["good good zebra film", ""])
    assert counts.dtype == np.float32 and counts.shape == (2, len(vocab))
    assert counts[0, vocab.index("good")] == 2 and counts[0, vocab.index("film")] == 1
    assert counts[0, Vocab.unk_index] == 1 and counts[0].sum() == 4 and counts[1].sum() == 0
    binary = BagOfWords(vocab, binary=True)(["good good zebra film"])
    assert binary[0, vocab.index("good")] == 1 and binary.sum() == 3


def test_sequences_are_padded_and_cut():
    vocab = Vocab.build(TEXTS)
    out = SequenceEncoder(vocab, max_len=4)(["good film", "the film is good ."])
    assert out.dtype == np.int64 and out.shape == (2, 4)
    assert out[0].tolist() == [vocab.index("good"), vocab.index("film"), 0, 0]
    assert out[1].tolist() == vocab.encode("the film is good")


def test_pad_sequences_and_one_hot():
    padded = pad_sequences([[5, 6, 7], [], [1]], max_len=2)
    assert padded.tolist() == [[5, 6], [0, 0], [1, 0]]
    vectors = one_hot(padded, 8)
    assert vectors.shape == (3, 2, 8) and vectors.dtype == np.float32
    assert vectors.sum(-1).tolist() == [[1, 1]] * 3 and vectors[0, 1, 6] == 1
    with pytest.raises(DataError, match="one_hot"):
        one_hot([8], 8)


@pytest.mark.parametrize("encoder", [
    lambda v: BagOfWords(v, binary=True),
    lambda v: SequenceEncoder(v, max_len=3),
])
def test_text_encoders_state_dict_round_trip(encoder):
    enc = encoder(Vocab.build(TEXTS))
    state = json.loads(json.dumps(enc.state_dict()))
    restored = encoder_from_state_dict(state)
    assert type(restored) is type(enc)
    np.testing.assert_array_equal(restored(TEXTS), enc(TEXTS))
    np.testing.assert_array_equal(type(enc).from_state_dict(state)(TEXTS), enc(TEXTS))


def test_unknown_encoder_type():
    with pytest.raises(DataError, match="unknown encoder type"):
        encoder_from_state_dict({"type": "Nope"})

"""Text to tokens to indices: ``tokenize`` and ``Vocab``."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from ..errors import DataError
from .base import Encoder

# One token per match, tried in order. Clitics are split the way GloVe's corpus was
# tokenised ("don't" -> "do", "n't"; "film's" -> "film", "'s"), so more words are found.
_TOKEN = re.compile(
    r"""
      \w+(?=n't\b)              # the word before an "n't":  do|n't, ca|n't
    | n't\b                     # the "n't" itself
    | '(?:s|re|ve|ll|d|m)\b     # other clitics: 's 're 've 'll 'd 'm
    | \w+(?:-\w+)*              # words and numbers, hyphenated ones kept whole
    | [^\w\s]                   # any other single character: punctuation
    """,
    re.VERBOSE,
)

PAD, UNK = "<pad>", "<unk>"


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and split it into words and punctuation marks."""
    return _TOKEN.findall(text.lower())


class Vocab(Encoder):
    """A fixed list of tokens; a token's index is its position.

    Index 0 is ``<pad>`` (fills short sequences) and 1 is ``<unk>`` (any token not in
    the list). Build it from the training texts only, with ``Vocab.build``.
    """

    pad_index = 0
    unk_index = 1
    _state_keys = ("tokens",)

    def __init__(self, tokens: Sequence[str]) -> None:
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            raise DataError(f"a Vocab's first tokens must be {PAD!r}, {UNK!r}, got {tokens[:2]}")
        if len(set(tokens)) != len(tokens):
            raise DataError("a Vocab's tokens must be distinct")
        self.tokens = tokens
        self._index = {token: i for i, token in enumerate(tokens)}

    @classmethod
    def build(cls, texts: Iterable[str], min_freq: int = 1, max_size: int | None = None) -> Vocab:
        """Keep tokens seen at least ``min_freq`` times, most frequent first (ties
        alphabetical), at most ``max_size`` of them (not counting ``<pad>``/``<unk>``)."""
        counts = Counter(token for text in texts for token in tokenize(text))
        counts.pop(PAD, None)
        counts.pop(UNK, None)
        ranked = sorted((t for t, n in counts.items() if n >= min_freq),
                        key=lambda t: (-counts[t], t))
        return cls([PAD, UNK] + ranked[:max_size])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def index(self, token: str) -> int:
        """The index of ``token``, or ``unk_index`` if it is unknown."""
        return self._index.get(token, self.unk_index)

    def encode(self, text: str | Sequence[str]) -> list[int]:
        """Indices of a text (tokenised first) or of an already tokenised list."""
        tokens = tokenize(text) if isinstance(text, str) else text
        return [self._index.get(t, self.unk_index) for t in tokens]

    def decode(self, indices: Iterable[int]) -> str:
        """Tokens joined by spaces, padding left out."""
        return " ".join(self.tokens[i] for i in map(int, indices) if i != self.pad_index)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens)"

"""The English analyser of the search index: words, British→American spelling, stemming.

One function, `terms`, turns text into index terms, so documents and queries always agree:
"Leukaemias" and "leukemia" both become ``leukemia``, "haematological" and "hematologic"
both ``hematolog``. Whoosh calls it through `EnglishTokenizer` (the analyser of every text
field in the schema). Stemmed forms are remembered per distinct word, because a corpus has far
fewer distinct words than words, and analysis is the costliest part of indexing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain

from whoosh.analysis import STOP_WORDS, Token, Tokenizer
from whoosh.formats import Frequency
from whoosh.lang.porter import stem
from whoosh.system import pack_uint

from harmony.catalog.vocabularies import normalise

# Words, keeping codes whole: "C92.0", "9861/3", "t(8;21)" gives t, 8, 21.
WORD = re.compile(r"[a-z0-9]+(?:(?<=[0-9])[./](?=[0-9])[0-9]+)*")
STOPWORDS = frozenset(STOP_WORDS | {"s", "t", "nos"})
_MEMO_LIMIT = 400_000
PART = "X"  # a boundary between texts in `terms_of_parts` (no folded text has a capital letter)


class _Memo(dict[str, tuple[str, ...]]):
    """Each word's terms, worked out on first sight (so a lookup is one C call)."""

    def __missing__(self, word: str) -> tuple[str, ...]:
        found = self[word] = _analyse_word(word)
        return found


class _Chunks(dict[str, tuple[str, ...]]):
    """The terms of each piece of text between spaces ("leukaemia,", "(aml)", "c92.0"): a text is
    split on spaces and each distinct piece is read by `WORD` once, not each time it occurs (no
    word spans a space, so the pieces give the words of the whole text)."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        if chunk == PART:
            found = self[chunk] = (PART,)
        else:
            found = self[chunk] = tuple(chain.from_iterable(map(_memo.__getitem__, WORD.findall(chunk))))
        return found


_memo = _Memo()
_chunks = _Chunks()


def forget() -> None:
    """Empty the memory of words seen (for measuring analysis from cold)."""
    _chunks.clear()
    _memo.clear()


def _fold(text: str) -> str:
    """Lower case ASCII (é → e), the form every word is read in."""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return text.lower()


def _analyse_word(word: str) -> tuple[str, ...]:
    if word in STOPWORDS:
        return ()
    if word[0].isdigit() or len(word) < 3 or not word.isalnum():  # numbers, codes such as c92.0
        return (word,)
    # The vocabulary's normalisation gives American spelling ("leukaemia" → "leukemia") and
    # splits prefixed words ("nonhodgkin" → "non hodgkin"); Porter's stemmer does the rest.
    return tuple(stem(part) for part in normalise(word).split() if part not in STOPWORDS)


def words(text: str) -> list[str]:
    """The words of a text as the index reads them (folded, before stemming)."""
    return WORD.findall(_fold(text))


def terms(text: str | None) -> list[str]:
    """Index terms of a text, in order (stop words dropped)."""
    return terms_of_parts([text]) if text else []


def terms_of_parts(texts: Iterable[str]) -> list[str]:
    """The terms of several texts in one list, `PART` after each text's (one call, not one per
    text: a description's short texts are many). `parts` splits them again."""
    _bound_memory()
    texts = list(texts)
    folded = map(str.lower, texts) if all(map(str.isascii, texts)) else map(_fold, texts)
    joined = f" {PART} ".join(folded)
    return list(chain.from_iterable(map(_chunks.__getitem__, joined.split())))


def parts(found: list[str]) -> list[str]:
    """The texts of `terms_of_parts` as their terms joined by spaces, the empty ones left out."""
    return [part for part in map(str.strip, " ".join(found).split(PART)) if part]


def _bound_memory() -> None:
    if len(_chunks) > _MEMO_LIMIT:
        _chunks.clear()
        if len(_memo) > _MEMO_LIMIT:
            _memo.clear()


def term(word: str) -> str | None:
    """The single index term of one word (None for a stop word)."""
    found = terms(word)
    return found[0] if found else None


class TermCounts(tuple[str, ...]):
    """A field's distinct terms (made by `terms`), with how often each occurs in `counts`: the
    document builder analyses each text once and hands whoosh the counts (stemming twice is not
    stemming once). A tuple, because whoosh accepts only text or sequences as field values."""

    counts: tuple[int, ...]

    @classmethod
    def of(cls, sequence: Iterable[str], leave_out: str | None = None) -> TermCounts:
        counted = Counter(sequence)
        if leave_out is not None:
            counted.pop(leave_out, None)
        made = cls(counted)
        made.counts = tuple(counted.values())
        return made

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TermCounts) and tuple.__eq__(self, other)
                and self.counts == other.counts)  # fmt: skip

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((tuple(self), self.counts))

    def __repr__(self) -> str:
        return f"TermCounts({dict(zip(self, self.counts, strict=True))!r})"


class CountedFrequency(Frequency):
    """Whoosh's term-frequency format, which also takes `TermCounts` as they are."""

    def word_values(self, value: object, analyzer: object, **kwargs: object) -> object:
        if isinstance(value, TermCounts):
            boost = self.field_boost
            return ((text, count, count * boost, pack_uint(count)) for text, count in zip(value, value.counts,
                                                                                        strict=True))
        return super().word_values(value, analyzer, **kwargs)


class _TermTokenizer(Tokenizer):
    """Whoosh's view of a list of prepared terms: one reused Token per term, as whoosh's own
    tokenizers do. Subclasses say how a value splits into terms."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def split(self, value: str) -> Iterable[str]:
        raise NotImplementedError

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: object) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for position, text in enumerate(self.split(value) if tokenize else [value], start_pos):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = position
            yield token


class EnglishTokenizer(_TermTokenizer):
    """The analysed English terms of a text (see `terms`)."""

    def split(self, value: str) -> Iterable[str]:
        return terms(value)


class SpaceTokenizer(_TermTokenizer):
    """For fields whose values are prepared terms separated by spaces (ids, codes, keys)."""

    def split(self, value: str) -> Iterable[str]:
        return value.split()


def surface(term: str) -> str | None:
    """The shortest word this process has seen that gives exactly `term`, to show a person a
    word rather than a stem ("chemotherapy", not "chemotherapi")."""
    found = [word for word, result in list(_memo.items()) if result == (term,) and word.isalpha()]
    return min(found, key=len) if found else None

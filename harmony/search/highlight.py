"""Highlighted titles and snippets for a page of results, and "did you mean" for a poor query.

The index stores no text, so highlighting reads the description from the database row, for the
twenty or so results of one page only. A word is marked when its index term is one the query
searched for (so "leukaemia" is marked for a search for leukemia).
"""

from __future__ import annotations

import re
from functools import cache

from markupsafe import Markup, escape

from harmony.catalog.vocabularies import diseases
from harmony.search import analysis
from harmony.search.view import View

_WORDS = re.compile(r"\w+(?:(?<=\d)[./](?=\d)\w+)*")  # as the analyser reads them: codes such as 9861/3 whole
SNIPPET = 260  # characters
SCANNED = 2000  # characters of a description looked through for the snippet


def _marked(text: str, terms: set[str], known: dict[str, bool]) -> list[tuple[int, int]]:
    """Spans of the words whose term was searched for; `known` remembers the verdict per word.
    Each distinct word is judged once, then its places are found with `str.find` (a loop over
    every word of the text in Python costs several times more)."""
    lowered = text.lower()
    hits = []
    for word in set(_WORDS.findall(lowered)):
        hit = known.get(word)
        if hit is None:
            hit = known[word] = not terms.isdisjoint(analysis.terms(word))
        if hit:
            hits.append(word)
    if not hits:
        return []
    if len(lowered) != len(text):  # a rare letter whose lower case is longer: let re keep the places
        pattern = re.compile(r"(?<!\w)(?<!\d[./])(?:" + "|".join(map(re.escape, sorted(hits, key=len, reverse=True)))
                             + r")(?!\w|[./]\d)", re.IGNORECASE)
        return [found.span() for found in pattern.finditer(text)]
    spans = []
    for word in hits:
        at = lowered.find(word)
        while at >= 0:
            end = at + len(word)
            if _whole(lowered, at, end):
                spans.append((at, end))
            at = lowered.find(word, end)
    return sorted(spans)


def _whole(text: str, start: int, end: int) -> bool:
    """Not part of a longer word, nor of a code such as c92.0 or 9861/3."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before == "_" or after.isalnum() or after == "_":
        return False
    if before in "./" and start > 1 and text[start - 2].isdigit():
        return False
    return not (after in "./" and end + 1 < len(text) and text[end + 1].isdigit())


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    out, at = [], start
    for left, right in spans:
        if right <= start or left >= end:
            continue
        out += [escape(text[at:left]), Markup("<mark>"), escape(text[left:right]), Markup("</mark>")]
        at = right
    out.append(escape(text[at:end]))
    return Markup("").join(out)


def highlight(text: str, terms: set[str], known: dict[str, bool] | None = None) -> Markup:
    return _render(text, _marked(text, terms, {} if known is None else known), 0, len(text))


def snippet(text: str | None, terms: set[str], size: int = SNIPPET, known: dict[str, bool] | None = None) -> Markup:
    """A part of the text around its densest run of matched words (within its first
    `SCANNED` characters), with ellipses."""
    text = " ".join((text or "")[:SCANNED].split())
    known = {} if known is None else known
    if len(text) <= size:
        return highlight(text, terms, known)
    spans = _marked(text, terms, known)
    start = 0
    if spans:
        best = max(range(len(spans)), key=lambda i: sum(1 for s in spans[i:] if s[0] < spans[i][0] + size))
        start = max(0, spans[best][0] - size // 5)
        start = text.rfind(" ", 0, start) + 1 if start else 0
    end = min(len(text), start + size)
    end = text.rfind(" ", start, end) if end < len(text) and " " in text[start:end] else end
    body = _render(text, spans, start, end)
    return Markup("").join([Markup("…") if start else Markup(""), body, Markup("…") if end < len(text) else Markup("")])


# --- did you mean ---------------------------------------------------------------------------


@cache
def _known_words() -> dict[str, str]:
    """Index term → a readable word for it, from the disease vocabulary's names."""
    words: dict[str, str] = {}
    for term in diseases().all():
        for name in (term.label, *term.synonyms):
            for word in analysis.words(name):
                for found in analysis.terms(word):
                    words.setdefault(found, word)
    return words


def _correction(view: View, word: str) -> str | None:
    term = analysis.term(word)
    if term is None or len(term) < 4 or not term.isalpha():
        return None
    if any(view.term(field, term)[0] for field in ("title", "names", "body")):
        return None  # the word is in the index; nothing to correct
    candidates: dict[str, int] = {}
    for leaf, _offset, _segment in view.leaves:
        for field in ("title", "names"):
            for found in leaf.terms_within(field, term, 2 if len(term) > 5 else 1):
                text = found.decode() if isinstance(found, bytes) else found
                candidates[text] = candidates.get(text, 0) + leaf.doc_frequency(field, text)
    if not candidates:
        return None
    best = max(sorted(candidates), key=lambda c: candidates[c])
    return _known_words().get(best) or analysis.surface(best) or best


def did_you_mean(view: View, typed: str) -> str | None:
    """The query with its misspelt words replaced, or None if nothing looks misspelt."""
    changed = False
    out = []
    for piece in re.split(r"(\s+)", typed):
        bare = piece.strip('"()')
        replacement = _correction(view, bare) if bare and ":" not in bare and not bare.isupper() else None
        if replacement and replacement.lower() != bare.lower():
            piece = piece.replace(bare, replacement)
            changed = True
        out.append(piece)
    return "".join(out) if changed else None

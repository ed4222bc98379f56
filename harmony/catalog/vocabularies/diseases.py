"""The disease vocabulary: Disease Ontology terms for haematologic malignancies.

Forms, facets, query expansion, registry import and exports all ask this one object (habit 7,
"vocabularies are data"); it holds no database state and is built once from the shipped files
(see `sources.py`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .text import candidate_phrases, normalise, spelling_variants, token_key

__all__ = [
    "DiseaseCategory",
    "DiseaseTerm",
    "DiseaseVocabulary",
    "Suggestion",
    "normalise",
    "spelling_variants",
]


@dataclass(frozen=True)
class DiseaseTerm:
    """One Disease Ontology term with the codes registries and exports need."""

    id: str  # "DOID:9119"
    label: str
    definition: str = ""
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    icd10: tuple[str, ...] = ()  # WHO ICD-10, e.g. "C92.0"
    icdo3: tuple[str, ...] = ()  # ICD-O-3 morphology, e.g. "9861/3"
    xrefs: tuple[str, ...] = ()  # other cross-references, e.g. "NCI:C3171", "MESH:D015470"
    related: tuple[str, ...] = ()  # broader or historical names that lead here; matching only
    covers: tuple[str, ...] = ()  # a WHO code's concept: terms it covers that are not under it

    @property
    def is_doid(self) -> bool:
        """False for a WHO code's concept of its own ("ICD10:C81.1", see `codes.py`)."""
        return self.id.startswith("DOID:")


@dataclass(frozen=True)
class DiseaseCategory:
    """A first level of the disease facet (leukaemia, lymphoma, ...), anchored on DOID terms."""

    key: str
    label: str
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    id: str
    label: str
    matched: str  # the label, synonym or abbreviation that started with the typed prefix


# How much a kind of name counts when two terms share it (lower wins).
_LABEL, _SYNONYM, _RELATED = 0, 1, 3
_DOID = re.compile(r"(?i)(?:https?://purl\.obolibrary\.org/obo/)?doid[:_ ]?(\d+)")
_ICD10 = re.compile(r"(?i)(?:icd-?10(?:-?cm)?[: ]\s*)?([a-z]\d{2}(?:\.\d{1,2})?)")
_ICDO3 = re.compile(r"(?i)(?:icd-?o(?:-?3(?:\.\d)?)?[: ]\s*)?m?-?(\d{4})(?:/(\d))?")
_CURIE = re.compile(r"([A-Za-z][A-Za-z0-9_]*):\s*(\S+)")


def canonical_id(text: str) -> str:
    """"DOID:9119" for "doid_9119", "DOID 9119" or the OBO PURL; other text unchanged."""
    found = _DOID.fullmatch(text.strip())
    return f"DOID:{found.group(1)}" if found else text.strip()


def _code_keys(text: str) -> list[str]:
    text = text.strip()
    keys = []
    if found := _DOID.fullmatch(text):
        keys.append(f"DOID:{found.group(1)}")
    if found := _ICD10.fullmatch(text):
        code = found.group(1).upper()
        keys += [f"ICD10:{code}", f"ICD10CM:{code}"]
    if found := _ICDO3.fullmatch(text):
        keys.append(f"ICDO3:{found.group(1)}/{found.group(2) or '3'}")
    if found := _CURIE.fullmatch(text):
        keys.append(f"{found.group(1).upper()}:{found.group(2)}")
    return keys


class DiseaseVocabulary:
    """Terms, their hierarchy and every way of finding a term from text or a code."""

    def __init__(
        self,
        terms: Iterable[DiseaseTerm],
        categories: Iterable[DiseaseCategory] = (),
        icd10_titles: dict[str, str] | None = None,
        icdo3_titles: dict[str, str] | None = None,
        code_readings: dict[str, str] | None = None,
    ) -> None:
        self._terms = {term.id: term for term in terms}
        # every code of the WHO tables -> the concept it reads as ({"ICD10:C92.1": "DOID:8552"})
        self.code_readings = dict(code_readings or {})
        self.unread_codes: list[str] = []  # table codes only the catch-all reading placed
        self._categories = tuple(categories)
        self.icd10_titles = dict(icd10_titles or {})
        self.icdo3_titles = dict(icdo3_titles or {})
        self._children: dict[str, list[str]] = {term_id: [] for term_id in self._terms}
        for term in self._terms.values():
            for parent in term.parents:
                if parent not in self._terms:
                    raise ValueError(f"{term.id}: parent {parent} is not in the vocabulary")
                self._children[parent].append(term.id)
        for siblings in self._children.values():
            siblings.sort(key=lambda term_id: self._terms[term_id].label.casefold())
        self._depth = self._depths()
        self._index()

    # -- terms and hierarchy -------------------------------------------------------------------

    def get(self, term_id: str) -> DiseaseTerm | None:
        return self._terms.get(canonical_id(term_id))

    def __contains__(self, term_id: object) -> bool:
        return isinstance(term_id, str) and canonical_id(term_id) in self._terms

    def __len__(self) -> int:
        return len(self._terms)

    def all(self) -> list[DiseaseTerm]:
        return sorted(self._terms.values(), key=lambda term: term.label.casefold())

    def roots(self) -> list[str]:
        return [term_id for term_id, term in self._terms.items() if not term.parents]

    def _require(self, term_id: str) -> str:
        term_id = canonical_id(term_id)
        if term_id not in self._terms:
            raise KeyError(term_id)
        return term_id

    def children(self, term_id: str) -> list[str]:
        return list(self._children[self._require(term_id)])

    def descendants(self, term_id: str) -> list[str]:
        """The term and everything under it (and under the terms a code's concept covers),
        nearest first: what a search for it must find."""
        return self._walk(self._require(term_id),
                          lambda node: [*self._children[node], *self._terms[node].covers], True)

    def ancestors(self, term_id: str) -> list[str]:
        """Everything above the term (not the term itself), nearest first."""
        return self._walk(self._require(term_id), lambda node: self._terms[node].parents, False)

    def _walk(
        self, start: str, step: Callable[[str], Iterable[str]], include_start: bool
    ) -> list[str]:
        seen, queue, order = {start}, deque([start]), [start] if include_start else []
        while queue:
            for nxt in step(queue.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    order.append(nxt)
                    queue.append(nxt)
        return order

    def depth(self, term_id: str) -> int:
        return self._depth[self._require(term_id)]

    def _depths(self) -> dict[str, int]:
        depth = {root: 0 for root in self.roots()}
        queue = deque(depth)
        while queue:
            node = queue.popleft()
            for child in self._children[node]:
                if child not in depth:
                    depth[child] = depth[node] + 1
                    queue.append(child)
        missing = set(self._terms) - set(depth)
        if missing:
            raise ValueError(f"terms in a parent cycle: {sorted(missing)}")
        return depth

    def categories(self) -> list[DiseaseCategory]:
        return list(self._categories)

    def category(self, term_id: str) -> DiseaseCategory | None:
        """The first category (in the shipped order) anchored on the term or an ancestor; a
        category without anchors catches the rest."""
        lineage = {self._require(term_id), *self.ancestors(term_id)}
        for category in self._categories:
            if category.anchors and lineage.intersection(category.anchors):
                return category
        # a code's concept under a broad term only (C90 under haematologic cancer): the category
        # of the terms it covers, when they agree
        covered = {self.category(i) for i in self._terms[term_id].covers} - {None}
        if len(covered) == 1:
            return covered.pop()
        return next((category for category in self._categories if not category.anchors), None)

    def reading(self, code: str) -> str | None:
        """The concept a WHO ICD-10 or ICD-O-3 code of the shipped tables reads as, or None."""
        for key in _code_keys(code):
            if key in self.code_readings:
                return self.code_readings[key]
        return None

    def nearest_doid(self, term_id: str) -> DiseaseTerm:
        """The term itself if it is a Disease Ontology term, else its nearest DOID ancestor."""
        term_id = self._require(term_id)
        found = next((i for i in [term_id, *self.ancestors(term_id)] if self._terms[i].is_doid), term_id)
        return self._terms[found]

    # -- finding terms from text -----------------------------------------------------------------

    def _index(self) -> None:
        self._names: dict[str, set[tuple[int, str]]] = {}
        self._long_names: dict[str, set[tuple[int, str]]] = {}
        self._bags: dict[tuple[str, ...], set[tuple[int, str]]] = {}
        self._codes: dict[str, set[str]] = {}
        self._entries: list[tuple[str, int, str, str]] = []  # (lower form, rank, text, id)
        for term in self._terms.values():
            named = [(term.label, _LABEL), *((s, _SYNONYM) for s in term.synonyms)]
            named += [(r, _RELATED) for r in term.related]
            for text, rank in named + [(a, _SYNONYM) for a in term.abbreviations]:
                key = normalise(text)
                self._names.setdefault(key, set()).add((rank, term.id))
                if (text, rank) in named:
                    self._long_names.setdefault(key, set()).add((rank, term.id))
                    self._bags.setdefault(token_key(key), set()).add((rank, term.id))
                if rank != _RELATED:
                    self._entries.append((key.lower(), rank, text, term.id))
            codes = [term.id, *(f"ICD10:{c}" for c in term.icd10)]
            codes += [f"ICDO3:{c}" for c in term.icdo3]
            codes += [f"{x.split(':', 1)[0].upper()}:{x.split(':', 1)[1]}" for x in term.xrefs]
            for code in codes:
                self._codes.setdefault(code, set()).add(term.id)
        for key, term_id in self.code_readings.items():
            if term_id not in self._terms:
                raise ValueError(f"{key} reads as {term_id}, which is not in the vocabulary")
            code = key.split(":", 1)[1]
            self._entries.append((normalise(code).lower(), _SYNONYM, code, term_id))  # the picker finds codes

    def _ranked(self, hits: Iterable[tuple[int, str]]) -> list[str]:
        best: dict[str, int] = {}
        for rank, term_id in hits:
            best[term_id] = min(rank, best.get(term_id, rank))
        return sorted(best, key=lambda term_id: (best[term_id], self._depth[term_id], term_id))

    def lookup(self, text: str) -> list[str]:
        """Term ids whose label, synonym, abbreviation, ICD-10 or ICD-O-3 code, DOID id or other
        cross-reference equals the text after normalisation; best first, general before specific."""
        if not text or not text.strip():
            return []
        if (read := self.reading(text)) is not None:  # a WHO table code reads as one concept
            return [read]
        coded = {term_id for key in _code_keys(text) for term_id in self._codes.get(key, ())}
        hits = [(_LABEL, term_id) for term_id in coded]
        hits += self._names.get(normalise(text), set())
        return self._ranked(hits)

    def match(self, text: str) -> str | None:
        """The best single term for a free-text condition or MeSH heading, or None.

        Tries exact names and codes, then ever looser readings (see `candidate_phrases`), and
        last the text's trailing words, so "Small Intestine Lymphoma" falls back to lymphoma.
        Abbreviations count in that last step only as a lone final word of 3+ letters.
        """
        if found := self.lookup(text):
            return found[0]
        phrases = candidate_phrases(text)
        for phrase in phrases:
            hits = self._names.get(phrase, set()) | self._bags.get(token_key(phrase), set())
            if hits:
                return self._ranked(hits)[0]
        for phrase in phrases:
            words = phrase.split()
            for start in range(1, len(words)):
                tail = " ".join(words[start:])
                # a lone trailing abbreviation counts if it is not a short one ("... ALL", not "MF")
                lone_word = start == len(words) - 1 and len(tail) > 2
                names = self._names if lone_word else self._long_names
                hits = names.get(tail, set()) | self._bags.get(token_key(tail), set())
                if hits:
                    return self._ranked(hits)[0]
        return None

    def suggest(self, prefix: str, limit: int = 10) -> list[Suggestion]:
        """Terms for a picker: names, synonyms and abbreviations starting with the prefix (or
        with a word starting with it), exact first, then labels, then shorter names."""
        wanted = normalise(prefix).lower()
        if not wanted:
            return []
        scored: dict[str, tuple[tuple[int, int, int, int], str]] = {}
        for form, rank, text, term_id in self._entries:
            if form == wanted:
                tier = 0
            elif form.startswith(wanted):
                tier = 1
            elif f" {wanted}" in f" {form}":
                tier = 2
            else:
                continue
            score = (tier, rank, len(text), self._depth[term_id])
            if term_id not in scored or score < scored[term_id][0]:
                scored[term_id] = (score, text)
        order = sorted(scored, key=lambda term_id: (scored[term_id][0], term_id))[:limit]
        return [Suggestion(i, self._terms[i].label, scored[i][1]) for i in order]

    def expand(self, text: str) -> list[str]:
        """Ids a search for the text should cover: the matched term and all its descendants."""
        found = self.match(text)
        return self.descendants(found) if found else []

    def icd10_title(self, code: str) -> str | None:
        return self.icd10_titles.get(code.strip().upper())

    def icdo3_title(self, code: str) -> str | None:
        return self.icdo3_titles.get(code.strip())

"""GA4GH Data Use Ontology (DUO) terms: the data-use conditions of datasets and requests.

Permissions say what a dataset may be used for (GRU, HMB, DS, POA, NRES); modifiers add
conditions (IRB, PUB, COL, TS, GS, ...). The proposal form and the purpose filter branch on the
kind, so it is derived once here from duo.csv.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DuoTerm", "DuoVocabulary", "load_duo_vocabulary"]

DUO_FILE = Path(__file__).parent / "data" / "duo.csv"
Kind = Literal["permission", "modifier"]
_KIND_MARKERS: dict[str, Kind] = {
    "data use permission": "permission",
    "data use modifier": "modifier",
}


@dataclass(frozen=True)
class DuoTerm:
    id: str  # "DUO:0000042"
    shorthand: str  # "GRU"
    label: str
    definition: str
    kind: Kind

    @property
    def uri(self) -> str:
        return "http://purl.obolibrary.org/obo/" + self.id.replace(":", "_")


def _kind(description: str) -> Kind | None:
    """DUO's definitions start "This data use permission/modifier indicates ..."."""
    lowered = description.lower()
    for marker, kind in _KIND_MARKERS.items():
        if lowered.startswith(f"this {marker}"):
            return kind
    return None


class DuoVocabulary:
    """The usable DUO terms (the two abstract parents, "data use permission" and "data use
    modifier", have no shorthand and are not terms one can attach)."""

    def __init__(self, terms: Iterable[DuoTerm]) -> None:
        self._by_id = {term.id: term for term in terms}
        self._by_shorthand = {term.shorthand.upper(): term for term in self._by_id.values()}

    def get(self, term_id: str) -> DuoTerm | None:
        term_id = term_id.strip().replace("_", ":")
        if term_id.startswith("http"):
            term_id = term_id.rsplit("/", 1)[-1]
        return self._by_id.get(term_id.upper())

    def by_shorthand(self, code: str) -> DuoTerm | None:
        return self._by_shorthand.get(code.strip().upper())

    def all(self) -> list[DuoTerm]:
        return sorted(self._by_id.values(), key=lambda term: (term.kind != "permission", term.id))

    def permissions(self) -> list[DuoTerm]:
        return [term for term in self.all() if term.kind == "permission"]

    def modifiers(self) -> list[DuoTerm]:
        return [term for term in self.all() if term.kind == "modifier"]


def load_duo_vocabulary(path: Path = DUO_FILE) -> DuoVocabulary:
    terms = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            kind = _kind(row["description"])
            if not row["shorthand"].strip():
                continue
            if kind is None:
                raise ValueError(f"{path.name}: cannot tell the kind of {row['id']}")
            terms.append(
                DuoTerm(row["id"], row["shorthand"].strip(), row["label"], row["description"], kind)
            )
    return DuoVocabulary(terms)

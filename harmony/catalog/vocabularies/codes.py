"""How every WHO code of the haematological tables is read: ICD-10 C81–C96, D45–D47 and ICD-O-3.1
morphology 9590–9992.

Each code reads as the most specific concept that covers it:

1. a row of `code_readings.csv` (Harmony's curation) says so: a DOID term, an ICD-10 code whose
   reading it shares, `parent` (a residual "other …" code: its parent's reading) or `own`;
2. the DOID terms cross-referenced to the code: the one named by the code's title, else the one
   above all the others; terms side by side (C96.4: three dendritic-cell sarcomas) get a concept
   of their own that covers them;
3. the DOID term, or ICD-10 code, whose name is the code's title (without "NOS", "unspecified",
   "not elsewhere classified" and bracketed asides): ICD-O-3 "Myeloid sarcoma" reads as C92.3;
4. an ICD-10 title starting "Other" or ending "unspecified": its parent's reading (subcategory →
   category → block; a code whose parent is not in the table reads as haematologic cancer);
5. otherwise the code has a meaning of its own and no DOID concept: it becomes a concept of its
   own, id `ICD10:C81.1` / `ICDO3:9664/3`, labelled with the WHO title, under its parent's
   reading (or the parents the curation names). A category of its own (C92 "Myeloid leukaemia")
   also covers the readings of its subcategories, so a search for it finds AML and CML datasets.

Datasets may be tagged with these concepts like with DOID terms; the exports describe them by
their nearest DOID term and their WHO code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .diseases import DiseaseTerm
from .text import normalise

ROOT = "DOID:2531"  # hematologic cancer: what a code whose parent is outside the tables falls back on
_NOT_SPECIFIC = re.compile(
    r",? *\b(?:NOS|unspecified|not elsewhere classified|of unspecified cell type)\b\.?$", re.IGNORECASE)
_RESIDUAL = re.compile(r"(?i)^other\b|\bunspecified$")


@dataclass
class CodeTables:
    """The WHO rows the vocabulary reads, as a data office may replace them."""

    icd10: list[dict[str, str]]  # code, level (block/category/subcategory), description, parent
    icdo3: list[dict[str, str]]  # icdo3_histology_code, icdo3_histology_code_name
    curated: list[dict[str, str]] = field(default_factory=list)  # code, reads_as, parents, note


def _key(code: str) -> str:
    return f"ICDO3:{code}" if "/" in code else f"ICD10:{code}"


def title_key(title: str) -> str:
    """A WHO title as a comparable name: no [abbreviation], (aside), NOS or unspecified."""
    title = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", title)
    return normalise(_NOT_SPECIFIC.sub("", " ".join(title.split())))


def _plain(title: str) -> str:
    title = re.sub(r"\[[^\]]*\]|\((?:[A-Z0-9-]+|AIC)\)", " ", title)
    return " ".join(_NOT_SPECIFIC.sub("", " ".join(title.split())).split())


class _Builder:
    def __init__(self, terms: list[DiseaseTerm], tables: CodeTables) -> None:
        self.terms = {term.id: term for term in terms}
        self.parents = {term.id: set(term.parents) for term in terms}
        self.tables = tables
        self.curated = {row["code"].strip(): row for row in tables.curated}
        self.icd10 = {row["code"]: row for row in tables.icd10}
        self.icdo3 = {row["icdo3_histology_code"]: row["icdo3_histology_code_name"] for row in tables.icdo3}
        self.xrefs: dict[str, list[str]] = {}
        for term in terms:
            for code in (*term.icd10, *term.icdo3):
                self.xrefs.setdefault(code, []).append(term.id)
        self.names: dict[str, set[str]] = {}
        for term in terms:
            for name in (term.label, *term.synonyms):
                self.names.setdefault(normalise(name), set()).add(term.id)
        self.reading: dict[str, str] = {}  # "ICD10:C81.1" -> concept id
        self.unread: list[str] = []  # codes nothing could place (a data office's new codes)
        self.loose: set[str] = set()  # codes read as their parent's concept (not one of its codes)
        self.own: dict[str, DiseaseTerm] = {}
        self.covers: dict[str, list[str]] = {}

    # -- hierarchy of what is built so far ----------------------------------------------------

    def lineage(self, term_id: str) -> set[str]:
        seen, todo = {term_id}, [term_id]
        while todo:
            for parent in self.parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def _top(self, ids: list[str]) -> str | None:
        """The one id above (or equal to) all the others, if there is one."""
        return next((i for i in ids if all(i in self.lineage(other) for other in ids)), None)

    def _common(self, ids: list[str]) -> str:
        shared = set.intersection(*(self.lineage(i) for i in ids))
        return max(shared, key=lambda i: len(self.lineage(i)), default=ROOT)

    # -- readings -------------------------------------------------------------------------------

    def build(self) -> tuple[list[DiseaseTerm], dict[str, str]]:
        order = {"block": 0, "category": 1, "subcategory": 2}
        for row in sorted(self.tables.icd10, key=lambda r: order.get(r["level"], 3)):
            self.read_icd10(row["code"])
        for code in self.icdo3:
            self.read_icdo3(code)
        codes: dict[str, list[str]] = {}
        for key, concept in self.reading.items():
            if key not in self.loose and key[6:] not in self.unread and concept != ROOT:
                codes.setdefault(concept, []).append(key)
        titles = {**{f"ICD10:{c}": r["description"] for c, r in self.icd10.items()},
                  **{f"ICDO3:{c}": t for c, t in self.icdo3.items()}}
        out = []
        for term in self.terms.values():
            if term.id in self.own:  # other codes' titles and bracketed abbreviations name it too
                names = [_plain(titles[k]) for k in codes.get(term.id, []) if k != term.id]
                short = [a for k in codes.get(term.id, [])
                         for a in re.findall(r"[\[(]([A-Z][A-Z0-9-]{1,9})[\])]", titles[k])]
                synonyms = [n for n in dict.fromkeys(names) if n and normalise(n) != normalise(term.label)]
                term = replace(term, synonyms=tuple(synonyms), abbreviations=tuple(dict.fromkeys(short)))
            icd10 = [k[6:] for k in codes.get(term.id, []) if k.startswith("ICD10:") and "-" not in k]
            icdo3 = [k[6:] for k in codes.get(term.id, []) if k.startswith("ICDO3:")]
            covers = [i for i in dict.fromkeys(self.covers.get(term.id, [])) if term.id not in self.lineage(i)]
            out.append(replace(term, covers=tuple(covers),
                               icd10=tuple(dict.fromkeys([*term.icd10, *icd10])),
                               icdo3=tuple(dict.fromkeys([*term.icdo3, *icdo3]))))
        return out, dict(self.reading), list(self.unread)

    def _resolve(self, target: str) -> str:
        target = target.strip()
        if target.startswith("DOID:"):
            if target not in self.terms:
                raise ValueError(f"code_readings.csv: {target} is not a term of the vocabulary")
            return target
        if target in self.icd10:
            return self.read_icd10(target)
        if target in self.icdo3:
            return self.read_icdo3(target)
        if re.fullmatch(r"[A-Z]\d{2}(?:\.\d)?|\d{4}/\d", target):  # a code a data office's table leaves out
            return ROOT
        raise ValueError(f"code_readings.csv: {target!r} is neither a DOID term nor a code of the WHO tables")

    def _named(self, title: str, candidates: list[str]) -> str | None:
        found = sorted(self.names.get(title_key(title), ()))
        for term_id in found:
            if not candidates or term_id in candidates or all(term_id in self.lineage(c) for c in candidates):
                return term_id
        return None

    def _own(self, code: str, title: str, parents: Iterable[str], covers: Iterable[str] = ()) -> str:
        term_id = _key(code)
        parents = tuple(dict.fromkeys(p for p in parents if p != term_id))
        icd10 = () if "/" in code else (code,)
        icdo3 = (code,) if "/" in code else ()
        self.own[term_id] = DiseaseTerm(id=term_id, label=title, parents=parents, icd10=icd10, icdo3=icdo3)
        self.terms[term_id] = self.own[term_id]
        self.parents[term_id] = set(parents)
        self.covers.setdefault(term_id, []).extend(covers)
        self.names.setdefault(title_key(title), set()).add(term_id)
        return term_id

    def _parent_reading(self, row: dict[str, str]) -> str:
        parent = row.get("parent", "")
        return self.read_icd10(parent) if parent in self.icd10 else ROOT

    def read_icd10(self, code: str) -> str:
        key = _key(code)
        if key in self.reading:
            return self.reading[key]
        row = self.icd10[code]
        title = row["description"]
        curated = self.curated.get(code)
        how = (curated or {}).get("reads_as", "").strip()
        parents = [self._resolve(p) for p in (curated or {}).get("parents", "").split("|") if p.strip()]
        if how == "own" or (not how and not self.xrefs.get(code) and not self._named(title, [])
                            and row["level"] != "block" and not _RESIDUAL.search(title)):
            concept = self._own(code, title, parents or [self._parent_reading(row)])
            self.reading[key] = concept
            self._cover_children(code, concept)
        elif how == "parent" or (not how and not self.xrefs.get(code) and not self._named(title, [])):
            concept = self._parent_reading(row)
            self.loose.add(key)
        elif how:
            concept = self._resolve(how)
        else:
            concept = self._from_xrefs(code, title, parents)
        self.reading[key] = concept
        return concept

    def _from_xrefs(self, code: str, title: str, parents: list[str]) -> str:
        candidates = self.xrefs.get(code, [])
        if (named := self._named(title, candidates)) is not None:
            return named
        if not candidates:  # nothing says what it is: haematologic cancer, and listed as unread
            self.unread.append(code)
            return ROOT
        if (top := self._top(candidates)) is not None:
            return top
        return self._own(code, title, parents or [self._common(candidates)], candidates)

    def _cover_children(self, code: str, concept: str) -> None:
        for child, row in self.icd10.items():
            if row.get("parent") == code:
                reading = self.read_icd10(child)
                if reading != concept:
                    self.covers[concept].append(reading)

    def read_icdo3(self, code: str) -> str:
        key = _key(code)
        if key in self.reading:
            return self.reading[key]
        title = self.icdo3[code]
        curated = self.curated.get(code)
        how = (curated or {}).get("reads_as", "").strip()
        if how == "own":
            parents = [self._resolve(p) for p in curated.get("parents", "").split("|") if p.strip()]
            if not parents:
                raise ValueError(f"code_readings.csv: {code} is its own concept but names no parents")
            concept = self._own(code, title, parents)
        elif how:
            concept = self._resolve(how)
        else:
            concept = self._from_xrefs(code, title, [])
        self.reading[key] = concept
        return concept


def read_codes(terms: list[DiseaseTerm], tables: CodeTables) -> tuple[list[DiseaseTerm], dict[str, str], list[str]]:
    """The terms with the codes that read as them, the concepts of their own the tables need,
    every table code's reading ({"ICD10:C92.1": "DOID:8552", "ICDO3:9663/3": "ICD10:C81.1", …}),
    and the codes nothing could place (read as haematologic cancer until `code_readings.csv` says more)."""
    return _Builder(terms, tables).build()

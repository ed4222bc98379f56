"""Builds the disease vocabulary from the files shipped in `data/` (listed in data/SOURCES.md).

The Disease Ontology subset gives the terms; the cancer slim OBO says which synonyms are exact,
related or abbreviations; our own CSVs add clinicians' abbreviations, correct a few hierarchy
edges and define the facet categories; the WHO tables give ICD-10 and ICD-O-3 titles and
hierarchy, and `code_readings.csv` with `codes.py` read every one of their codes as a concept.

A data office with its own licensed copy of the WHO tables replaces the shipped ones by pointing
`HARMONY_ICD10_TABLE` / `HARMONY_ICDO3_TABLE` at CSV files with the same columns.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from pathlib import Path

from .codes import CodeTables, read_codes
from .diseases import DiseaseCategory, DiseaseTerm, DiseaseVocabulary
from .text import normalise

DATA_DIR = Path(__file__).parent / "data"
DOID_SUBSET = "doid_cancer_slim_haematologic_subset.csv"
DOID_OBO = "doid_DO_cancer_slim.obo"
ICD10_TABLE = "icd10_who2019_haematological_C81-C96_D45-D47.csv"
ICDO3_TABLE = "icdo3_1_haematolymphoid_9590-9992.csv"
ABBREVIATIONS = "abbreviations.csv"
CORRECTIONS = "hierarchy_corrections.csv"
CATEGORIES = "categories.csv"
CODE_READINGS = "code_readings.csv"
# environment variables naming a data office's own copy of a WHO table (same columns)
TABLE_SETTINGS = {ICD10_TABLE: "HARMONY_ICD10_TABLE", ICDO3_TABLE: "HARMONY_ICDO3_TABLE"}
_ABBREVIATION_MARK = "OMO:0003012"  # the OBO synonym type "abbreviation"
_NOT_SPECIFIC = re.compile(r",? *\b(?:NOS|unspecified)\b\.?$", re.IGNORECASE)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def read_synonym_types(path: Path) -> dict[str, dict[str, tuple[str, bool]]]:
    """{term id: {synonym: (scope, is_abbreviation)}} from the OBO file, if it is shipped."""
    types: dict[str, dict[str, tuple[str, bool]]] = defaultdict(dict)
    if not path.exists():
        return types
    pattern = re.compile(r'synonym: "((?:[^"\\]|\\.)*)" (EXACT|RELATED|BROAD|NARROW)(.*)')
    term_id = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            term_id = None
        elif line.startswith("id: "):
            term_id = line[4:].strip()
        elif term_id and (found := pattern.match(line)):
            text = found.group(1).replace('\\"', '"')
            types[term_id][text] = (found.group(2), _ABBREVIATION_MARK in found.group(3))
    return types


def table_path(name: str, data_dir: Path = DATA_DIR) -> Path:
    """The WHO table to read: the data office's file when its setting names one, else ours."""
    setting = TABLE_SETTINGS.get(name)
    supplied = os.environ.get(setting, "").strip() if setting else ""
    if not supplied:
        return data_dir / name
    path = Path(supplied).expanduser()
    if not path.is_file():
        raise ValueError(f"{setting}: there is no file {path}")
    return path


def read_code_tables(data_dir: Path = DATA_DIR) -> CodeTables:
    icd10 = _rows(table_path(ICD10_TABLE, data_dir))
    icdo3 = _rows(table_path(ICDO3_TABLE, data_dir))
    for name, rows, columns in ((ICD10_TABLE, icd10, {"code", "level", "description", "parent"}),
                                (ICDO3_TABLE, icdo3, {"icdo3_histology_code", "icdo3_histology_code_name"})):
        if rows and not columns <= set(rows[0]):
            raise ValueError(f"{table_path(name, data_dir)}: needs the columns {', '.join(sorted(columns))}")
    curated = _rows(data_dir / CODE_READINGS) if (data_dir / CODE_READINGS).exists() else []
    return CodeTables(icd10, icdo3, curated)


def read_code_titles(data_dir: Path = DATA_DIR) -> tuple[dict[str, str], dict[str, str]]:
    """WHO titles for display: ({ICD-10 code: title}, {ICD-O-3 code: title})."""
    tables = read_code_tables(data_dir)
    icd10 = {row["code"]: row["description"] for row in tables.icd10}
    icdo3 = {row["icdo3_histology_code"]: row["icdo3_histology_code_name"] for row in tables.icdo3}
    return icd10, icdo3


def _who_icd10(code: str, titles: dict[str, str]) -> str | None:
    """The WHO code for an ICD-10-CM code: the same code, or its first decimal ("C91.10" ->
    "C91.1"), when WHO's table has it."""
    for candidate in (code, code[:5]):
        if candidate in titles:
            return candidate
    return None


def _titles_by_name(titles: dict[str, str]) -> dict[str, list[str]]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for code, title in titles.items():
        if "-" not in code:  # skip block rows such as "C81-C96"
            title = re.sub(r"\[[^\]]*\]", "", title)  # "Acute myeloblastic leukaemia [AML]"
            by_name[normalise(_NOT_SPECIFIC.sub("", title.strip()))].append(code)
    return by_name


def load_disease_vocabulary(data_dir: Path = DATA_DIR) -> DiseaseVocabulary:
    """Read, correct and cross-reference the disease files into one vocabulary."""
    subset = _rows(data_dir / DOID_SUBSET)
    known = {row["id"] for row in subset}
    synonym_types = read_synonym_types(data_dir / DOID_OBO)
    icd10_titles, icdo3_titles = read_code_titles(data_dir)

    curated: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in _rows(data_dir / ABBREVIATIONS):
        if row["doid"] not in known:
            raise ValueError(f"{ABBREVIATIONS}: {row['doid']} is not a term of {DOID_SUBSET}")
        curated[row["doid"]][row["kind"]].append(row["abbreviation_or_synonym"].strip())

    parents: dict[str, list[str]] = {
        row["id"]: [p for p in re.findall(r"DOID:\d+", row["is_a"]) if p in known] for row in subset
    }
    for row in _rows(data_dir / CORRECTIONS):
        edges = parents[row["child"]]
        if row["action"] == "remove" and row["parent"] in edges:
            edges.remove(row["parent"])
        elif row["action"] == "add" and row["parent"] in known and row["parent"] not in edges:
            edges.append(row["parent"])

    terms = [
        _term(row, parents[row["id"]], synonym_types.get(row["id"], {}), curated[row["id"]],
              icd10_titles)
        for row in subset
    ]
    terms = _attach_codes_by_title(terms, icd10_titles, icdo3_titles)
    terms, readings, unread = read_codes(terms, read_code_tables(data_dir))
    categories = [
        DiseaseCategory(row["key"], row["label"], tuple(_split(row["anchors"])))
        for row in _rows(data_dir / CATEGORIES)
    ]
    vocabulary = DiseaseVocabulary(terms, categories, icd10_titles, icdo3_titles, readings)
    vocabulary.unread_codes = unread
    return vocabulary


def _term(
    row: dict[str, str],
    parents: list[str],
    synonym_types: dict[str, tuple[str, bool]],
    curated: dict[str, list[str]],
    icd10_titles: dict[str, str],
) -> DiseaseTerm:
    suppressed = {normalise(text) for text in curated.get("suppress", [])}
    synonyms, abbreviations, related = [], [], []
    for text in _split(row["synonyms"]):
        if normalise(text) in suppressed:
            continue
        scope, is_abbreviation = synonym_types.get(text, ("EXACT", False))
        target = abbreviations if is_abbreviation else synonyms if scope == "EXACT" else related
        target.append(text)
    synonyms += curated.get("synonym", [])
    abbreviations += curated.get("abbreviation", [])
    related += curated.get("related", [])

    icd10, icdo3, xrefs = [], [], []
    for xref in _split(row["xrefs"]):
        prefix, _, code = xref.partition(":")
        who = _who_icd10(code, icd10_titles) if prefix == "ICD10CM" else None
        if prefix == "ICDO":
            icdo3.append(code)
        elif who:
            icd10.append(who)
        if prefix != "ICDO" and who != code:
            xrefs.append(xref)  # keeps ICD-10-CM codes that differ from WHO's ("C91.10")
    return DiseaseTerm(
        id=row["id"],
        label=row["name"],
        definition=row["definition"],
        synonyms=_unique(synonyms),
        abbreviations=_unique(abbreviations),
        parents=tuple(parents),
        icd10=_unique(icd10),
        icdo3=_unique(icdo3),
        xrefs=_unique(xrefs),
        related=_unique(related),
    )


def _attach_codes_by_title(
    terms: list[DiseaseTerm], icd10_titles: dict[str, str], icdo3_titles: dict[str, str]
) -> list[DiseaseTerm]:
    """Add a WHO code to the one term whose label or exact synonym is the code's title
    ("Diffuse large B-cell lymphoma" C83.3), when DOID gives that term no code of the kind."""
    icd10_by_name, icdo3_by_name = _titles_by_name(icd10_titles), _titles_by_name(icdo3_titles)
    named: dict[str, set[str]] = defaultdict(set)
    for term in terms:
        for name in (term.label, *term.synonyms):
            named[normalise(name)].add(term.id)
    out = []
    for term in terms:
        extra: dict[str, list[str]] = {"icd10": [], "icdo3": []}
        for name in {normalise(n) for n in (term.label, *term.synonyms)}:
            if named[name] != {term.id}:
                continue
            if not term.icd10:
                extra["icd10"] += icd10_by_name.get(name, [])
            if not term.icdo3:
                extra["icdo3"] += icdo3_by_name.get(name, [])
        if extra["icd10"] or extra["icdo3"]:
            term = DiseaseTerm(
                **{**term.__dict__, "icd10": _unique([*term.icd10, *sorted(extra["icd10"])]),
                   "icdo3": _unique([*term.icdo3, *sorted(extra["icdo3"])])}
            )
        out.append(term)
    return out


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))

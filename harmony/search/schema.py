"""What the index holds for a dataset: the whoosh schema and the document built from a description.

Only identifiers are stored. Text fields are analysed by the English analyser and carry term
frequencies but no positions: positions (or an index of word pairs) doubled the cost of
indexing. Phrases are confirmed instead on the `sequence` column, the analysed terms of the
title, names and description in order, read only for the documents that contain all the
phrase's words. Facets are space-separated keyword fields whose postings become bitsets;
numbers live in columns. Text fields are grouped by weight: what a description is about
(title, acronym) above its disease names and keywords above the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from whoosh import columns, fields, formats

from harmony.catalog import terms as catalog_terms
from harmony.catalog.vocabularies import country as find_country
from harmony.catalog.vocabularies import diseases, duo
from harmony.search import analysis

TEXT_FIELDS = {"title": 3.0, "names": 2.5, "body": 1.0}
FACET_FIELDS = ("disease", "disease_own", "population", "country", "phase", "data_type", "data_use", "group",
                "year", "study_type", "use_rule")
NUMBER_FIELDS = ("dataset_id", "patients", "age_lo", "age_hi", "rec_start", "rec_end", "issued")
SORTABLE_FACETS = ("population", "group", "year", "study_type")
# Words that find a population; twice for datasets of one age group only, so that a search for
# "adult AML" ranks a trial of adults above one of all ages.
POPULATION_WORDS = {
    "paediatric": "paediatric children child childhood " * 2,
    "adult": "adult " * 2,
    "both": "paediatric children child childhood adult",
}
_EPOCH = date(1900, 1, 1)


def _keywords(sortable: bool = False) -> fields.FieldType:
    """Space-separated values, postings without frequencies (all a facet needs)."""
    field = fields.KEYWORD(analyzer=analysis.SpaceTokenizer(), sortable=sortable)
    field.format = formats.Existence(field_boost=1.0)
    return field


def build_schema() -> fields.Schema:
    spec: dict[str, fields.FieldType] = {"key": fields.ID(stored=True, unique=True)}
    for name, boost in TEXT_FIELDS.items():
        spec[name] = fields.TEXT(analyzer=analysis.EnglishTokenizer(), phrase=False, field_boost=boost)
        spec[name].format = analysis.CountedFrequency(field_boost=boost)
    spec["sequence"] = fields.COLUMN(columns.VarBytesColumn())
    for name in FACET_FIELDS:
        spec[name] = _keywords(sortable=name in SORTABLE_FACETS)
    for name in NUMBER_FIELDS:
        spec[name] = fields.COLUMN(columns.NumericColumn("I", default=0))
    return fields.Schema(**spec)


# --- numbers as unsigned integers; 0 means "not given" -------------------------------------


def age_code(years: float | None) -> int:
    """Ages in tenths of a year, plus one (0 = unknown)."""
    return 0 if years is None else int(round(float(years) * 10)) + 1


def day_code(value: date | str | None) -> int:
    """Days since 1900-01-01, plus one (0 = unknown)."""
    if value is None:
        return 0
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return (value - _EPOCH).days + 1


def second_code(value: datetime | None) -> int:
    """Seconds since 2000-01-01 UTC, plus one, for "newest first"."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return max(0, int((value - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())) + 1


# --- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A published dataset as the index reads it: the row's ids, its newest version, its group."""

    dataset_id: int
    pid: str
    group_id: int
    group_acronym: str
    group_name: str
    content: dict[str, Any]
    issued_at: datetime | None


def use_rule(content: dict[str, Any]) -> str:
    """The data-use conditions with their diseases as one value ("DUO:0000007+DUO:0000021|DOID:9119"),
    so the purpose filter decides once per distinct combination, not once per dataset."""
    conditions = "+".join(sorted(content.get("data_use") or [])) or "none"
    restricted = "+".join(sorted(content.get("data_use_diseases") or []))
    return f"{conditions}|{restricted}" if restricted else conditions


def parse_use_rule(value: str) -> tuple[list[str], list[str]]:
    conditions, _, restricted = value.partition("|")
    return ([] if conditions == "none" else conditions.split("+")), (restricted.split("+") if restricted else [])


def disease_names(ids: list[str]) -> list[str]:
    """Every name and code of the dataset's diseases, for the `names` field."""
    vocabulary = diseases()
    names: list[str] = []
    for disease_id in ids:
        term = vocabulary.get(disease_id)
        if term is not None:
            names += [term.label, *term.synonyms, *term.abbreviations, *term.icd10, *term.icdo3, term.id]
    return names


@lru_cache(maxsize=8192)
def _name_terms(vocabulary: Any, disease_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The analysed names of one disease: all their terms, and each name's terms joined by
    spaces (the vocabulary does not change while it is in use, and many datasets share a
    disease: each is analysed once)."""
    found = analysis.terms_of_parts(disease_names([disease_id]))
    return tuple(term for term in found if term != analysis.PART), tuple(analysis.parts(found))


def _labels(values: list[str], table: dict[str, str]) -> list[str]:
    return [table.get(value, value) for value in values]


def _own_diseases(content: dict[str, Any]) -> list[str]:
    vocabulary = diseases()
    return [d for d in content.get("diseases") or [] if d in vocabulary]


def attributes(source: Source) -> dict[str, Any]:
    """The facets and numbers of a dataset's document: all of it but the text."""
    content = source.content
    vocabulary = diseases()
    own = _own_diseases(content)
    tree = list(dict.fromkeys(a for d in own for a in [d, *vocabulary.ancestors(d)]))
    start, end = content.get("recruitment_start"), content.get("recruitment_end")
    return {
        "disease": " ".join(tree),
        "disease_own": " ".join(own),
        "population": content.get("population") or "",
        "country": " ".join(content.get("countries") or []),
        "phase": " ".join(content.get("phases") or []),
        "data_type": " ".join(content.get("data_types") or []),
        "data_use": " ".join(content.get("data_use") or []),
        "group": str(source.group_id),
        "year": start[:4] if start else "",
        "study_type": content.get("study_type") or "",
        "use_rule": use_rule(content),
        "dataset_id": source.dataset_id,
        "patients": (content["n_patients"] + 1) if content.get("n_patients") is not None else 0,
        "age_lo": age_code(content.get("age_min")),
        "age_hi": age_code(content.get("age_max")),
        "rec_start": day_code(start),
        "rec_end": day_code(end),
        "issued": second_code(source.issued_at),
    }


def document(source: Source) -> dict[str, Any]:
    """The whoosh document of one published dataset."""
    content = source.content
    vocabulary = diseases()
    own = _own_diseases(content)
    population = content.get("population")
    countries = content.get("countries") or []
    country_names = [found.name for code in countries if (found := find_country(code)) is not None]
    duo_terms = [term for code in content.get("data_use") or [] if (term := duo().get(code)) is not None]

    title = " ".join(filter(None, [content.get("title"), content.get("acronym")]))
    names = [*(content.get("keywords") or []), POPULATION_WORDS.get(population or "", ""),
             *_labels(content.get("data_types") or [], catalog_terms.DATA_TYPES)]
    people = [p.get("name", "") for p in content.get("creators") or []]
    body = [content.get("description"), content.get("provenance"), source.group_name, source.group_acronym,
            source.pid, *people, *(content.get("registrations") or []), *country_names,
            catalog_terms.STUDY_TYPES.get(content.get("study_type") or "", ""),
            *_labels(content.get("phases") or [], catalog_terms.PHASES),
            *_labels(content.get("standards") or [], catalog_terms.STANDARDS),
            *(f"{t.shorthand} {t.label}" for t in duo_terms)]
    title_terms = analysis.terms(title)
    disease_terms = [_name_terms(vocabulary, d) for d in own]
    name_terms = analysis.terms_of_parts(filter(None, names))
    body_terms = analysis.terms_of_parts(filter(None, body))
    # title || name | name ... || description | other text ...: a phrase is looked for within one part
    sequence = " || ".join([" ".join(title_terms),
                            " | ".join([*(part for _, found in disease_terms for part in found),
                                        *analysis.parts(name_terms)]),
                            " | ".join(analysis.parts(body_terms))])
    return {
        "key": str(source.dataset_id),
        "title": analysis.TermCounts.of(title_terms),
        "names": analysis.TermCounts.of(chain(*(found for found, _ in disease_terms), name_terms),
                                        leave_out=analysis.PART),
        "body": analysis.TermCounts.of(body_terms, leave_out=analysis.PART),
        "sequence": f" {sequence} ".encode(),
        **attributes(source),
    }

"""What a dataset description holds, how it is validated, and how complete it is.

`DatasetContent` is the one input model for forms, the API and importers. Drafts may be
incomplete; `publication_problems` says what must be filled before publishing, and
`completeness` scores mandatory and recommended fields and FAIR checks for the fix-it list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from harmony.catalog import formats, terms
from harmony.catalog.vocabularies import country, diseases, duo
from harmony.validation import Email, items_from, value_from

NCT = re.compile(r"^NCT\d{8}$")
EUDRACT = re.compile(r"^\d{4}-\d{6}-\d{2}$")
EUCT = re.compile(r"^\d{4}-5\d{5}-\d{2}-\d{2}$")
ISRCTN = re.compile(r"^ISRCTN\d{8}$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")


def registration_kind(identifier: str) -> str | None:
    """nct, eudract, euct or isrctn; None for anything else."""
    for kind, pattern in (("nct", NCT), ("euct", EUCT), ("eudract", EUDRACT), ("isrctn", ISRCTN)):
        if pattern.match(identifier):
            return kind
    return None


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    orcid: str | None = Field(default=None, json_schema_extra={
        "pattern": r"^\s*(https://orcid\.org/)?\d{4}-\d{4}-\d{4}-\d{3}[\dXx]\s*$|^\s*$"})
    affiliation: str | None = Field(default=None, max_length=300)

    @field_validator("orcid", mode="before")
    @classmethod
    def _orcid(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # None, or a type pydantic refuses with its own message
        value = value.strip().removeprefix("https://orcid.org/").upper() or None
        if value is not None and not ORCID.match(value):
            raise ValueError("ORCID iD must look like 0000-0002-1825-0097")
        return value


class ContactPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: Email


class Distribution(BaseModel):
    """One form the data come in: its format (an IANA media type URI from `formats.MEDIA_TYPES`),
    approximate size, the standards its files conform to (URIs) and how it is delivered."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=1, max_length=200)
    media_type: str = Field(
        description="The format as the IANA URI of a listed media type (its name, e.g. text/csv, is accepted too; "
                    "the x- types have no IANA registration).",
        json_schema_extra={"enum": [media.uri for media in formats.MEDIA_TYPES]})
    byte_size: int | None = Field(default=None, ge=0, le=10**18,
                                  description="Approximate size in bytes (forms also accept 2.5 GB, 800 MiB).")
    conforms_to: list[str] = Field(
        default_factory=list, description="Standards the files conform to, as URIs (listed names are accepted too).",
        json_schema_extra={"items": {"type": "string", "pattern": r"^(https?://\S+|urn:[A-Za-z0-9][A-Za-z0-9-]*:\S+)$"}})
    delivery: Literal["download", "secure-environment", "federated"] = Field(
        description="download: download after approval; secure-environment: a secure processing environment; "
                    "federated: federated analysis.")

    @field_validator("media_type", mode="before")
    @classmethod
    def _media_type(cls, value: Any) -> Any:
        if isinstance(value, str):
            found = formats.media_type(value)
            if found is None:
                raise ValueError("choose a format from the list")
            return found.uri
        return value

    @field_validator("delivery", mode="before")
    @classmethod
    def _delivery(cls, value: Any) -> Any:
        if value in ("", None):
            raise ValueError("say how the data are delivered")
        return value

    @field_validator("byte_size", mode="before")
    @classmethod
    def _byte_size(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            size = formats.parse_size(value)
            if size is None:
                raise ValueError("give the size in bytes, or like 2.5 GB or 800 MB")
            return size
        return value

    @field_validator("conforms_to", mode="before")
    @classmethod
    def _conforms_to(cls, value: Any) -> Any:
        if not isinstance(value, str | list) or not all(isinstance(item, str) for item in value):
            return value  # pydantic says what is wrong
        return resolve_all(_clean_list(value), formats.standard_uri, "standard")


def _clean_list(value: Any) -> Any:
    """Accept a list or a comma/newline separated string; drop blanks and duplicates, keep order."""
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[\n,;]+", value)
    if not isinstance(value, (list, tuple)):
        return value  # not a list: the field's type refuses it (422), instead of failing here
    seen: list[Any] = []
    for item in value:
        item = item.strip() if isinstance(item, str) else item
        if item not in ("", None) and item not in seen:
            seen.append(item)
    return seen


def disease_id(value: str) -> str | None:
    """A DOID for a DOID, label, synonym, abbreviation or code; None when nothing matches."""
    vocabulary = diseases()
    term = vocabulary.get(value) or vocabulary.get(vocabulary.match(value) or "")
    return term.id if term is not None else None


def country_code(value: str) -> str | None:
    found = country(value)
    return found.alpha2 if found is not None else None


def duo_id(value: str) -> str | None:
    """A DUO id for an id or a shorthand such as GRU; None when unknown."""
    term = duo().get(value) or duo().by_shorthand(value)
    return term.id if term is not None else None


def resolve_all(values: list[str], resolve: Callable[[str], str | None], what: str) -> list[str]:
    """Each value as its canonical id, in order and once; a ValueError names the unknown ones."""
    resolved = [(value, resolve(value)) for value in values]
    unknown = [value for value, found in resolved if found is None]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)}")
    return list(dict.fromkeys(found for _value, found in resolved))


# list fields whose values come from a short controlled list: (allowed values, what to call them)
CHOICES = {
    "phases": (terms.PHASES, "phase"),
    "data_types": (terms.DATA_TYPES, "data type"),
    "standards": (terms.STANDARDS, "standard"),
    "legal_basis": (terms.LEGAL_BASES, "legal basis"),
    "purpose": (terms.PURPOSES, "purpose"),
}


# The values the input models accept, as their JSON Schemas list them (`validation.items_from`).

def disease_ids() -> list[str]:
    return [term.id for term in diseases().all()]


def country_codes() -> list[str]:
    from harmony.catalog.vocabularies.countries import countries

    return [found.alpha2 for found in countries()]


def duo_codes(only: Iterable[str] | None = None) -> list[str]:
    """Each DUO term's id and shorthand (of the terms in `only`, when given)."""
    return [code for term in duo().all() if only is None or term.id in only for code in (term.id, term.shorthand)]


class DatasetContent(BaseModel):
    """Every field of a dataset description; all optional until publication."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=500)
    acronym: str | None = Field(default=None, max_length=60)
    description: str | None = Field(default=None, max_length=20000)
    keywords: list[str] = Field(default_factory=list)
    contact_point: ContactPoint | None = None
    creators: list[Person] = Field(default_factory=list)
    registrations: list[str] = Field(default_factory=list, json_schema_extra={"items": {"type": "string", "pattern":
        r"^\s*([Nn][Cc][Tt]\d{8}|[Ii][Ss][Rr][Cc][Tt][Nn]\d{8}|\d{4}-\d{6}-\d{2}|\d{4}-5\d{5}-\d{2}-\d{2})?\s*$"}})
    diseases: list[str] = Field(default_factory=list, json_schema_extra=items_from(disease_ids))
    population: Literal["paediatric", "adult", "both"] | None = None
    age_min: float | None = Field(default=None, ge=0, le=120)
    age_max: float | None = Field(default=None, ge=0, le=120)
    n_patients: int | None = Field(default=None, ge=0, le=10_000_000)
    n_records: int | None = Field(default=None, ge=0)
    countries: list[str] = Field(default_factory=list, json_schema_extra=items_from(country_codes))
    study_type: str | None = Field(default=None, json_schema_extra=value_from(lambda: terms.STUDY_TYPES, blank=True))
    phases: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.PHASES))
    recruitment_start: date | None = None
    recruitment_end: date | None = None
    data_types: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.DATA_TYPES))
    standards: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.STANDARDS))
    data_use: list[str] = Field(default_factory=list, json_schema_extra=items_from(duo_codes))  # DUO term ids
    data_use_diseases: list[str] = Field(default_factory=list,  # the disease(s) of a DS condition
                                         json_schema_extra=items_from(disease_ids))
    access_rights: Literal["non-public", "restricted"] = "non-public"
    legal_basis: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.LEGAL_BASES))
    purpose: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.PURPOSES))
    provenance: str | None = Field(default=None, max_length=5000)
    publications: list[str] = Field(default_factory=list, json_schema_extra={"items": {"type": "string", "pattern":
        r"^\s*((https://doi\.org/|doi:)?10\.\d{4,9}/\S+)?\s*$"}})  # DOIs
    version_notes: str | None = Field(default=None, max_length=2000)
    licence: str = Field(default=terms.CC0, json_schema_extra={"enum": list(terms.LICENCES)})
    distributions: list[Distribution] = Field(default_factory=list, max_length=20)

    _lists = ("keywords", "registrations", "diseases", "countries", "phases", "data_types", "standards",
              "data_use", "data_use_diseases", "legal_basis", "purpose", "publications")

    @field_validator(*_lists, mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return _clean_list(value)

    @field_validator("title", "acronym", "description", "provenance", "version_notes", "study_type", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("registrations")
    @classmethod
    def _registrations(cls, values: list[str]) -> list[str]:
        values = [v.upper() if v.upper().startswith(("NCT", "ISRCTN")) else v for v in values]
        bad = [v for v in values if registration_kind(v) is None]
        if bad:
            raise ValueError(f"not an NCT, EudraCT, EU CT or ISRCTN number: {', '.join(bad)}")
        return values

    @field_validator("diseases", "data_use_diseases")
    @classmethod
    def _diseases(cls, values: list[str]) -> list[str]:
        return resolve_all(values, disease_id, "disease")

    @field_validator("countries")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        return resolve_all(values, country_code, "country")

    @field_validator("data_use")
    @classmethod
    def _data_use(cls, values: list[str]) -> list[str]:
        return resolve_all(values, duo_id, "data-use condition")

    @field_validator("study_type")
    @classmethod
    def _study_type(cls, value: str | None) -> str | None:
        if value is not None and value not in terms.STUDY_TYPES:
            raise ValueError(f"unknown study type: {value}")
        return value

    @field_validator(*CHOICES, mode="after")
    @classmethod
    def _choices(cls, values: list[str], info: ValidationInfo) -> list[str]:
        allowed, what = CHOICES[info.field_name]
        return resolve_all(values, lambda value: value if value in allowed else None, what)

    @field_validator("publications")
    @classmethod
    def _dois(cls, values: list[str]) -> list[str]:
        cleaned = [v.removeprefix("https://doi.org/").removeprefix("doi:") for v in values]
        bad = [v for v in cleaned if not DOI.match(v)]
        if bad:
            raise ValueError(f"not a DOI: {', '.join(bad)}")
        return cleaned

    @field_validator("licence")
    @classmethod
    def _licence(cls, value: str) -> str:
        if value not in terms.LICENCES:
            raise ValueError("choose CC0 1.0 or CC BY 4.0 for the metadata")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> DatasetContent:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min: the youngest age is above the oldest")
        if self.recruitment_start and self.recruitment_end and self.recruitment_start > self.recruitment_end:
            raise ValueError("recruitment_end: recruitment ends before it starts")
        return self

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the database (dates as ISO strings, empty values left out)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return {key: value for key, value in data.items() if value not in ([], "", None)}


# --- what publication needs, and how complete a description is ------------------------------

MANDATORY = {
    "title": "Title",
    "description": "Description (at least 50 characters)",
    "contact_point": "Contact point",
    "diseases": "Diseases",
    "population": "Population",
    "n_patients": "Number of patients",
    "data_use": "Data-use conditions",
}

RECOMMENDED = {
    "acronym": "Acronym",
    "keywords": "Keywords",
    "creators": "Creators",
    "registrations": "Trial registrations",
    "countries": "Countries",
    "study_type": "Study type",
    "phases": "Phase",
    "recruitment_start": "Recruitment start",
    "age_min": "Age range",
    "data_types": "Data types",
    "standards": "Standards",
    "legal_basis": "Legal basis",
    "purpose": "Purpose",
    "provenance": "Provenance",
    "publications": "Publications",
    "distributions": "Distributions",
}


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    kind: str  # "mandatory", "recommended" or "fair"
    passed: bool
    advice: str


def _filled(content: dict[str, Any], key: str) -> bool:
    value = content.get(key)
    if key == "description":
        return isinstance(value, str) and len(value) >= 50
    return value not in (None, "", [], {})


def fair_checks(content: dict[str, Any]) -> list[Check]:
    """The FAIR checks a curator can fix by editing the description."""
    creators = content.get("creators") or []
    disease_ids = content.get("diseases") or []
    vocabulary = diseases()
    coded = all((term := vocabulary.get(d)) is not None and (term.icd10 or term.icdo3) for d in disease_ids)
    return [
        Check("pid", "Persistent identifier", "fair", True, "Assigned by Harmony on creation."),
        Check("licence", "Metadata licence", "fair", bool(content.get("licence")), "Choose a licence for the metadata."),
        Check("contact", "Contact point with e-mail", "fair", _filled(content, "contact_point"),
              "Add who answers questions about the dataset."),
        Check("provenance", "Provenance statement", "fair", _filled(content, "provenance"),
              "Say where the data comes from and how it was collected."),
        Check("disease-codes", "Diseases carry ICD-10 / ICD-O-3 codes", "fair", bool(disease_ids) and coded,
              "Pick disease terms from the vocabulary; they bring their codes."),
        Check("temporal", "Temporal coverage", "fair", _filled(content, "recruitment_start"),
              "Give the recruitment period."),
        Check("registration", "Linked to a trial registry", "fair", _filled(content, "registrations"),
              "Add the NCT, EudraCT/EU CT or ISRCTN number."),
        Check("orcid", "Creators identified by ORCID", "fair", bool(creators) and any(c.get("orcid") for c in creators),
              "Add ORCID iDs to the creators."),
        Check("data-use", "Machine-readable data-use conditions (DUO)", "fair", _filled(content, "data_use"),
              "Choose the DUO conditions that apply."),
    ]


def checks(content: dict[str, Any]) -> list[Check]:
    found = [Check(key, label, "mandatory", _filled(content, key), f"Fill in: {label}.") for key, label in MANDATORY.items()]
    found += [Check(key, label, "recommended", _filled(content, key), f"Recommended: {label}.")
              for key, label in RECOMMENDED.items()]
    return found + fair_checks(content)


def completeness(content: dict[str, Any]) -> tuple[int, list[Check]]:
    """A score from 0 to 100 (mandatory fields weigh 3, recommended 1, FAIR checks 2) and the fix-it list."""
    weights = {"mandatory": 3, "recommended": 1, "fair": 2}
    everything = checks(content)
    total = sum(weights[c.kind] for c in everything)
    earned = sum(weights[c.kind] for c in everything if c.passed)
    return round(100 * earned / total), [c for c in everything if not c.passed]


def publication_problems(content: dict[str, Any]) -> dict[str, list[str]]:
    """The mandatory fields still missing, as field errors."""
    return {key: [f"{label} is needed before publishing."] for key, label in MANDATORY.items()
            if not _filled(content, key)}

"""The parameters of a search, as the page's query string and the API take them.

The query string carries the whole state (shareable, bookmarkable); `SearchParams` reads it,
checks it and writes it back (`query_args`), for both the page and GET /api/v1/datasets.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from werkzeug.datastructures import MultiDict

from harmony.catalog import data_use, terms
from harmony.catalog.content import (
    country_code,
    country_codes,
    disease_id,
    disease_ids,
    duo_codes,
    duo_id,
    resolve_all,
)
from harmony.catalog.vocabularies import diseases
from harmony.search import engine
from harmony.validation import items_from, value_from

LISTS = ("disease", "population", "country", "phase", "data_type", "data_use", "group", "year")
FLAGS = ("literal", "commercial", "for_profit", "methods", "genetic", "clinical_care")
MAX_PER_PAGE = 100


def _disease_values() -> list[str]:
    return disease_ids() + [f"cat:{c.key}" for c in diseases().categories()]


def _purpose_use(value: str) -> str | None:
    found = duo_id(value)
    return found if found in data_use.PURPOSES else None


class SearchParams(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    q: str = ""
    literal: bool = False  # search the words only, without the disease vocabulary
    disease: list[str] = Field(default_factory=list, json_schema_extra=items_from(_disease_values))
    population: list[Literal["paediatric", "adult", "both"]] = Field(default_factory=list)
    country: list[str] = Field(default_factory=list, json_schema_extra=items_from(country_codes))
    phase: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.PHASES))
    data_type: list[str] = Field(default_factory=list, json_schema_extra=items_from(lambda: terms.DATA_TYPES))
    data_use: list[str] = Field(default_factory=list, json_schema_extra=items_from(duo_codes))
    group: list[str] = Field(default_factory=list)  # study group acronyms
    year: list[int] = Field(default_factory=list)
    patients_min: int | None = Field(default=None, ge=0)
    patients_max: int | None = Field(default=None, ge=0)
    age_min: float | None = Field(default=None, ge=0, le=120)
    age_max: float | None = Field(default=None, ge=0, le=120)
    recruited_from: int | None = Field(default=None, ge=1900, le=2100)
    recruited_to: int | None = Field(default=None, ge=1900, le=2100)
    purpose: str | None = Field(default=None, json_schema_extra=value_from(lambda: duo_codes(data_use.PURPOSES), blank=True))
    # a DOID, name, abbreviation or code; one the vocabulary does not know is said, not refused
    purpose_disease: str | None = Field(default=None, max_length=200)
    commercial: bool = False
    for_profit: bool = False
    methods: bool = False
    genetic: bool = False
    clinical_care: bool = False
    sort: Literal["relevance", "newest", "patients"] = "relevance"
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)

    @field_validator("disease")
    @classmethod
    def _diseases(cls, values: list[str]) -> list[str]:
        categories = {c.key for c in diseases().categories()}
        found = []
        for value in values:
            if value.startswith("cat:") and value[4:] in categories:
                found.append(value)
            elif (term := diseases().get(value)) is not None:
                found.append(term.id)
            else:
                raise ValueError(f"unknown disease: {value}")
        return list(dict.fromkeys(found))

    @field_validator("country")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        return resolve_all(values, country_code, "country")

    @field_validator("phase")
    @classmethod
    def _phases(cls, values: list[str]) -> list[str]:
        return resolve_all(values, lambda value: value if value in terms.PHASES else None, "phase")

    @field_validator("data_type")
    @classmethod
    def _data_types(cls, values: list[str]) -> list[str]:
        return resolve_all(values, lambda value: value if value in terms.DATA_TYPES else None, "data type")

    @field_validator("data_use")
    @classmethod
    def _conditions(cls, values: list[str]) -> list[str]:
        return resolve_all(values, duo_id, "data-use condition")

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str | None) -> str | None:
        if not value:
            return None
        if (found := _purpose_use(value)) is None:
            raise ValueError("choose general, health/medical, disease-specific or ancestry research")
        return found

    _notes: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> SearchParams:
        """Read a search the way it can only have been meant, and say so, rather than refuse it: a range
        given end first is turned round; disease-specific research without its disease filters nothing."""
        for low, high, what in (("patients_min", "patients_max", "number of patients"), ("age_min", "age_max", "age"),
                                ("recruited_from", "recruited_to", "recruitment years")):
            first, last = getattr(self, low), getattr(self, high)
            if first is not None and last is not None and first > last:
                setattr(self, low, last)
                setattr(self, high, first)
                self._notes.append(f"The {what} range was given end first; searched from {last:g} to {first:g}.")
        if self.purpose_disease:
            given, self.purpose_disease = self.purpose_disease, disease_id(self.purpose_disease)
            if self.purpose_disease is None:
                self._notes.append(f"No disease “{given}” is known, so it was left out of the purpose.")
        if self.purpose == data_use.DS and not self.purpose_disease:
            self.purpose = None
            self._notes.append("Disease-specific research needs its disease: choose one to check the datasets' "
                               "data-use conditions (not checked now).")
        return self

    @property
    def notes(self) -> list[str]:
        """What was read differently from how it was given."""
        return list(self._notes)

    # --- reading and writing query strings ---------------------------------------------------

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> dict[str, Any]:
        """The raw values of a query string (lists for repeatable parameters, blanks dropped)."""
        data: dict[str, Any] = {}
        for key in args:
            values = [v for v in args.getlist(key) if v.strip()]
            if key in LISTS:
                data[key] = [part for v in values for part in v.split(",") if part.strip()]
            elif key in FLAGS:
                data[key] = any(v.lower() in ("1", "true", "on", "yes") for v in values)
            elif values:
                data[key] = values[-1]
        return data

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """This state as query-string arguments (defaults left out), with `changes` applied."""
        data = self.model_dump()
        data.update(changes)
        defaults = SearchParams().model_dump()
        return {key: value for key, value in data.items() if value not in (defaults[key], None, [], "")}

    def cleared(self) -> dict[str, Any]:
        """The arguments without any filter (the query and the sort order stay)."""
        return {key: value for key, value in self.query_args(page=1).items()
                if key in ("q", "literal", "sort", "per_page")}

    def toggled(self, facet: str, value: str) -> dict[str, Any]:
        """The arguments with one facet value switched on or off (back to the first page)."""
        current = list(getattr(self, facet))
        typed: Any = int(value) if facet == "year" else value
        current = [v for v in current if v != typed] if typed in current else [*current, typed]
        return self.query_args(**{facet: current, "page": 1})

    def filters(self, group_ids: dict[str, int]) -> engine.Filters:
        """The engine's filters; `group_ids` maps the known acronyms (lower case) to ids."""
        facets = []
        for facet in engine.FACETS:
            values = getattr(self, facet)
            if facet == "group":
                values = [str(group_ids.get(v.lower(), 0)) for v in values]  # an unknown group holds nothing
            if values:
                facets.append((facet, tuple(str(v) for v in values)))
        purpose = None
        if self.purpose:
            purpose = data_use.Purpose(self.purpose, self.purpose_disease, self.commercial, self.for_profit,
                                       self.methods, self.genetic, self.clinical_care)
        return engine.Filters(tuple(facets), (self.patients_min, self.patients_max), (self.age_min, self.age_max),
                              (self.recruited_from, self.recruited_to), purpose)

    @property
    def filtered(self) -> bool:
        return any(getattr(self, name) for name in LISTS) or self.purpose is not None or any(
            getattr(self, name) is not None for name in ("patients_min", "patients_max", "age_min", "age_max",
                                                         "recruited_from", "recruited_to"))

"""Search as the page and the API use it: one call from query-string values to a page of results.

The index answers document numbers, facet counts and feasibility sums; the datasets on the
page are read back from the database through the catalog's permission filter, so nothing the
viewer may not see is shown even if the index were behind. The index holds published datasets
only: curators find their drafts in the curation pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import defer

from harmony import db
from harmony.accounts.permissions import Principal
from harmony.catalog import data_use, permissions
from harmony.catalog import services as catalog
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from harmony.errors import ValidationError
from harmony.search import engine, highlight, labels, query
from harmony.search.index import search_index
from harmony.search.params import SearchParams
from harmony.validation import parse


@dataclass
class Hit:
    dataset: Dataset
    content: dict[str, Any]
    group: StudyGroup
    title: Markup
    snippet: Markup


@dataclass
class Understood:
    """How a disease name in the query was read."""

    typed: str
    term_id: str
    label: str
    codes: list[str]  # the term's ICD-10 and ICD-O-3 codes
    narrower: list[str]  # the diseases under it, also searched
    also: list[str]  # names also looked for in the text of datasets not tagged with the disease
    broader: list[str] = field(default_factory=list)  # for a WHO code's own concept: where it sits


@dataclass
class SearchPage:
    params: SearchParams
    total: int
    hits: list[Hit]
    facets: dict[str, list[labels.Entry]]
    feasibility: labels.Feasibility
    understood: list[Understood] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suggestion: str | None = None
    active: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # filter, arguments without it
    interpreted: bool = False  # the vocabulary changed what was searched (so "words only" is offered)

    @property
    def pages(self) -> int:
        shown = min(self.total, engine.MAX_WINDOW)
        return max(1, -(-shown // self.params.per_page))


def read_params(data: dict[str, Any]) -> SearchParams:
    """Check the parameters; a problem with a range names the field it belongs to."""
    try:
        return parse(SearchParams, data)
    except ValidationError as error:
        fields: dict[str, list[str]] = {}
        for name, messages in error.fields.items():
            for message in messages:
                target, _, rest = message.partition(": ")
                if name == "__root__" and target in SearchParams.model_fields:
                    fields.setdefault(target, []).append(rest)
                else:
                    fields.setdefault(name.split(".")[0], []).append(message)
        raise ValidationError("Some search parameters need attention.", fields) from None


def _understood(concept: query.Concept) -> Understood:
    from harmony.catalog.vocabularies import diseases

    vocabulary = diseases()
    term = vocabulary.get(concept.term_id)
    codes = [f"ICD-10 {code}" for code in term.icd10] + [f"ICD-O-3 {code}" for code in term.icdo3]
    narrower = [vocabulary.get(i).label for i in concept.ids if i != term.id]
    also = [" ".join(text.words) for text in concept.texts]
    broader = [] if term.is_doid else [vocabulary.get(p).label for p in term.parents]
    return Understood(concept.typed, term.id, term.label, codes, narrower, also, broader)


def _rows(viewer: Principal, ids: list[int]) -> dict[int, tuple[Dataset, DatasetVersion, StudyGroup]]:
    if not ids:
        return {}
    rows = db.session().execute(
        select(Dataset, DatasetVersion, StudyGroup)
        .options(defer(Dataset.content))  # the working copy; the page shows the published version
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id)
              & (DatasetVersion.version == Dataset.published_version))
        .join(StudyGroup, StudyGroup.id == Dataset.group_id)
        .where(Dataset.id.in_(ids), permissions.visible_datasets(viewer), permissions.listed_publicly(viewer)))
    return {dataset.id: (dataset, version, group) for dataset, version, group in rows}


def search(viewer: Principal, data: dict[str, Any]) -> SearchPage:
    """Run a search from query-string values (see `SearchParams`)."""
    params = read_params(data)
    groups = {group.id: group for group in catalog.groups()}
    by_acronym = {group.acronym.lower(): group.id for group in groups.values()}
    notes = list(params.notes)
    if unknown := [g for g in params.group if g.lower() not in by_acronym]:
        notes.append(f"There is no study group {', '.join(unknown)}: it holds no datasets.")
    try:
        parsed = query.parse(params.q, params.literal,
                             lambda name: [by_acronym[name.lower()]] if name.lower() in by_acronym else [])
    except query.QueryError as error:
        raise ValidationError(str(error), {"q": [str(error)]}) from None
    view = search_index().view()
    filters = params.filters(by_acronym)
    computed = engine.compute(view, parsed, filters)
    docs = engine.page(view, parsed, filters, params.sort, (params.page - 1) * params.per_page, params.per_page)
    ids = [view.dataset_ids[doc] for doc in docs]
    found = _rows(viewer, ids)
    terms, known = computed.match.terms, {}
    hits = [Hit(dataset, version.content, group,
                highlight.highlight(version.content.get("title") or dataset.pid, terms, known),
                highlight.snippet(version.content.get("description"), terms, known=known))
            for dataset, version, group in (found[i] for i in ids if i in found)]
    notes += [f"“{word.typed}” was read as the population “{labels.label('population', word.population, groups)}”: "
             f"datasets of that age group first, then those of all ages." for word in parsed.populations]
    page = SearchPage(params, computed.results, hits, labels.facets(computed.facets, params, groups),
                      labels.feasibility(computed.feasibility), [_understood(c) for c in parsed.concepts],
                      notes + list(parsed.notes))
    page.active = _active(params, page.facets)
    page.interpreted = bool(parsed.concepts or parsed.populations)
    if parsed.tree is not None and computed.results < 3 and params.q:
        page.suggestion = highlight.did_you_mean(view, params.q)
    return page


def _active(params: SearchParams, facets: dict[str, list[labels.Entry]]) -> list[tuple[str, dict[str, Any]]]:
    """The filters in force, each with the arguments that remove it."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(facet: str, entries: list[labels.Entry]) -> None:
        for entry in entries:
            if entry.selected:
                found.append((f"{labels.TITLES[facet]}: {entry.label}", params.toggled(facet, entry.value)))
            walk(facet, entry.children)

    for facet, entries in facets.items():
        walk(facet, entries)
    ranges = (("patients_min", "patients_max", "Patients"), ("age_min", "age_max", "Age"),
              ("recruited_from", "recruited_to", "Recruited"))
    for low, high, name in ranges:
        first, last = getattr(params, low), getattr(params, high)
        if first is not None or last is not None:
            shown = f"{'' if first is None else f'{first:g}'}–{'' if last is None else f'{last:g}'}"
            found.append((f"{name}: {shown}", params.query_args(**{low: None, high: None, "page": 1})))
    if params.purpose:
        cleared = {k: None if k in ("purpose", "purpose_disease") else False
                   for k in ("purpose", "purpose_disease", "commercial", "for_profit", "methods", "genetic",
                             "clinical_care")}
        found.append((f"Purpose: {data_use.PURPOSES[params.purpose]}", params.query_args(**cleared, page=1)))
    return found

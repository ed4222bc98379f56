"""Facet counts and feasibility sums with the names people read, in the order they read them.

The disease facet is a tree: categories (leukaemias, lymphomas, ...) and, inside each, the
diseases the datasets are about, nested by the Disease Ontology's hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harmony.catalog import terms
from harmony.catalog.models import StudyGroup
from harmony.catalog.vocabularies import country, diseases, duo
from harmony.search import engine

TITLES = {"disease": "Disease", "population": "Population", "country": "Country", "phase": "Phase",
          "data_type": "Data types", "data_use": "Data-use conditions", "group": "Study group",
          "year": "Recruitment started"}


@dataclass
class Entry:
    value: str  # as the query string carries it
    label: str
    count: int
    selected: bool
    children: list[Entry] = field(default_factory=list)

    @property
    def contains_selected(self) -> bool:
        return self.selected or any(child.contains_selected for child in self.children)


@dataclass
class Share:
    key: str
    label: str
    datasets: int
    patients: int


@dataclass
class Feasibility:
    datasets: int
    patients: int
    without_patients: int
    by_population: list[Share]
    by_category: list[Share]
    by_disease: list[Share]


def category_label(key: str) -> str:
    return next((c.label for c in diseases().categories() if c.key == key), key)


def disease_label(term_id: str) -> str:
    term = diseases().get(term_id)
    return term.label if term is not None else term_id


def label(facet: str, value: str, groups: dict[int, StudyGroup]) -> str:
    if facet == "disease":
        return category_label(value[4:]) if value.startswith("cat:") else disease_label(value)
    if facet == "population":
        return terms.POPULATIONS.get(value, value)
    if facet == "country":
        found = country(value)
        return found.name if found else value
    if facet == "phase":
        return terms.PHASES.get(value, value)
    if facet == "data_type":
        return terms.DATA_TYPES.get(value, value)
    if facet == "data_use":
        term = duo().get(value)
        return f"{term.shorthand}: {term.label}" if term else value
    if facet == "group":
        group = groups.get(int(value))
        return group.acronym if group else value
    return value


def _disease_tree(counted: list[engine.Counted]) -> list[Entry]:
    """Categories, each with the diseases under it (not the broad terms that span categories)."""
    vocabulary = diseases()
    anchors = {a for c in vocabulary.categories() for a in c.anchors}
    broad = anchors | {a for anchor in anchors if anchor in vocabulary for a in vocabulary.ancestors(anchor)}
    entries = {c.value: Entry(c.value, label("disease", c.value, {}), c.count, c.selected) for c in counted}
    tops = [e for e in entries.values() if e.value.startswith("cat:")]
    for entry in entries.values():
        if entry.value.startswith("cat:") or entry.value in broad or entry.value not in vocabulary:
            continue
        parent = next((a for a in vocabulary.ancestors(entry.value) if a in entries and a not in broad), None)
        if parent is not None:
            entries[parent].children.append(entry)
        elif (category := vocabulary.category(entry.value)) is not None and f"cat:{category.key}" in entries:
            entries[f"cat:{category.key}"].children.append(entry)
    for entry in entries.values():
        entry.children.sort(key=lambda e: (-e.count, e.label.casefold()))
    return sorted(tops, key=lambda e: (-e.count, e.label))


def facets(counted: dict[str, list[engine.Counted]], params: Any, groups: dict[int, StudyGroup]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    for facet, values in counted.items():
        if facet == "disease":
            out[facet] = _disease_tree(values)
            continue
        entries = [Entry(c.value, label(facet, c.value, groups), c.count, c.selected) for c in values]
        if facet == "group":  # the query string names groups by acronym
            for entry in entries:
                entry.value = entry.label
                entry.selected = entry.label.lower() in {g.lower() for g in params.group}
        if facet == "phase":
            order = list(terms.PHASES)
            entries.sort(key=lambda e: order.index(e.value) if e.value in order else len(order))
        elif facet == "year":
            entries.sort(key=lambda e: e.value, reverse=True)
        elif facet == "data_use":
            kinds = {t.id: t.kind for t in duo().all()}
            entries.sort(key=lambda e: (kinds.get(e.value) != "permission", -e.count, e.label))
        else:
            entries.sort(key=lambda e: (-e.count, e.label.casefold()))
        out[facet] = entries
    return out


def feasibility(report: engine.Feasibility) -> Feasibility:
    def shares(items: list[engine.Share], name: Any) -> list[Share]:
        return [Share(s.key, name(s.key), s.datasets, s.patients) for s in items]

    return Feasibility(report.datasets, report.patients, report.without_patients,
                       shares(report.by_population, lambda k: terms.POPULATIONS.get(k, k)),
                       shares(report.by_category, category_label), shares(report.by_disease, disease_label))

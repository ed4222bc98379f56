"""What the catalog holds, in numbers: the home page's counts and charts.

Everything is computed from the newest published version of each live dataset, so the figures
are the ones visitors can check on the landing pages. A dataset that covers several disease
categories or countries counts once in each of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harmony.catalog import position_cache, services, terms
from harmony.catalog.vocabularies import country, diseases

NOT_STATED = "Not stated"


@dataclass
class Bar:
    """One bar of a chart: how many datasets and patients fall under `label`."""

    label: str
    datasets: int = 0
    patients: int = 0


@dataclass
class CatalogStats:
    datasets: int = 0
    groups: int = 0
    patients: int = 0
    by_category: list[Bar] = field(default_factory=list)
    by_population: list[Bar] = field(default_factory=list)
    by_country: list[Bar] = field(default_factory=list)


def _categories(content: dict[str, Any]) -> set[str]:
    vocabulary = diseases()
    found = set()
    for term_id in content.get("diseases", []):
        category = vocabulary.category(term_id) if term_id in vocabulary else None
        found.add(category.label if category else NOT_STATED)
    return found or {NOT_STATED}


def population_of(content: dict[str, Any]) -> set[str]:
    return {terms.POPULATIONS.get(content.get("population") or "", NOT_STATED)}


def _countries(content: dict[str, Any]) -> set[str]:
    names = {(found.name if (found := country(code)) else code) for code in content.get("countries", [])}
    return names or {NOT_STATED}


def bars(contents: Iterable[dict[str, Any]], keys: Callable[[dict[str, Any]], set[str]]) -> list[Bar]:
    """Bars by patients, then datasets, largest first; "Not stated" last (also the request basket's breakdowns)."""
    bars: dict[str, Bar] = {}
    for content in contents:
        for key in keys(content):
            bar = bars.setdefault(key, Bar(key))
            bar.datasets += 1
            bar.patients += content.get("n_patients") or 0
    return sorted(bars.values(), key=lambda b: (b.label == NOT_STATED, -b.patients, -b.datasets, b.label))


def catalog_stats() -> CatalogStats:
    published = services.published_datasets()
    contents = [version.content for _, version in published]
    return CatalogStats(
        datasets=len(published),
        groups=len({dataset.group_id for dataset, _ in published}),
        patients=sum(content.get("n_patients") or 0 for content in contents),
        by_category=bars(contents, _categories),
        by_population=bars(contents, population_of),
        by_country=bars(contents, _countries),
    )


def current_stats() -> CatalogStats:
    """`catalog_stats()` as of the change log's position: computed once per catalog change."""
    return position_cache.at_position(("home-stats",), lambda: catalog_stats())

"""A search against one index view: filters, facet counts, feasibility, ranking, one page.

Facets combine as usual: values of one facet are alternatives (OR), facets narrow each other
(AND). A facet's counts are computed with its own selection left out, so a count is what the
results would be with that value alone selected in that facet. Everything but the page is
remembered per index generation (`View.memo`), so turning pages or re-running a shared link
costs only the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from harmony.catalog import data_use
from harmony.search import bits as bitsets
from harmony.search import matching
from harmony.search.query import Parsed
from harmony.search.schema import age_code, day_code, parse_use_rule
from harmony.search.view import View

FACETS = ("disease", "population", "country", "phase", "data_type", "data_use", "group", "year")
SORTS = ("relevance", "newest", "patients")
MAX_WINDOW = 10_000  # results one can page to
TOP_DISEASES = 12


@dataclass(frozen=True)
class Filters:
    facets: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (facet, selected values), facets in FACETS order
    patients: tuple[int | None, int | None] = (None, None)
    age: tuple[float | None, float | None] = (None, None)
    recruited: tuple[int | None, int | None] = (None, None)  # years
    purpose: data_use.Purpose | None = None

    def selected(self, facet: str) -> tuple[str, ...]:
        return dict(self.facets).get(facet, ())


@dataclass
class Counted:
    value: str
    count: int
    selected: bool


@dataclass
class Share:
    key: str
    datasets: int
    patients: int


@dataclass
class Feasibility:
    datasets: int
    patients: int
    without_patients: int  # matching datasets that do not say how many patients they hold
    by_population: list[Share] = field(default_factory=list)
    by_category: list[Share] = field(default_factory=list)
    by_disease: list[Share] = field(default_factory=list)


@dataclass
class Computed:
    """What a query and its filters give, before paging."""

    results: int
    members: int  # the matching documents as a bitset
    match: matching.Match
    facets: dict[str, list[Counted]]
    feasibility: Feasibility


def value_bits(view: View, facet: str, value: str) -> int:
    if facet == "disease":
        if value.startswith("cat:"):
            return view.categories.get(value[4:], 0)
        return view.facet("disease", value)
    return view.facet(facet, value)


def _either(view: View, facet: str, values: tuple[str, ...]) -> int:
    found = 0
    for value in values:
        found |= value_bits(view, facet, value)
    return found


def _overlap(view: View, low_field: str, high_field: str, low: int | None, high: int | None) -> int:
    """Documents whose [low_field, high_field] range overlaps [low, high] (codes; None = open).
    A missing bound of a document is open; a document with neither bound never matches."""
    lows, highs = view.numbers[low_field], view.numbers[high_field]
    found = lows.present | highs.present
    if high is not None:
        found &= lows.at_most(high) | ~lows.present
    if low is not None:
        found &= highs.at_least(low) | ~highs.present
    return found


def _ranges(view: View, filters: Filters) -> int:
    found = view.live
    least, most = filters.patients
    if least is not None:
        found &= view.numbers["patients"].at_least(least + 1)
    if most is not None:
        found &= view.numbers["patients"].at_most(most + 1)
    if filters.age != (None, None):
        low, high = filters.age
        found &= _overlap(view, "age_lo", "age_hi", None if low is None else age_code(low),
                          None if high is None else age_code(high))
    if filters.recruited != (None, None):
        first, last = filters.recruited
        found &= _overlap(view, "rec_start", "rec_end", None if first is None else day_code(date(first, 1, 1)),
                          None if last is None else day_code(date(last, 12, 31)))
    if filters.purpose is not None:
        found &= view.memo(("purpose", filters.purpose), lambda: _permitted(view, filters.purpose))
    return found


def _permitted(view: View, purpose: data_use.Purpose) -> int:
    found = 0
    for rule, members in view.facets["use_rule"].items():
        conditions, diseases = parse_use_rule(rule)
        if data_use.permits(conditions, diseases, purpose):
            found |= members
    return found


def _facet_values(view: View, facet: str) -> dict[str, int]:
    if facet == "disease":
        return {**{f"cat:{key}": bits for key, bits in view.categories.items()}, **view.facets["disease"]}
    return view.facets[facet]


def _patients(view: View, subset: int) -> int:
    column = view.numbers["patients"]
    return column.total(subset) - (subset & column.present).bit_count()  # numbers are stored plus one


def feasibility(view: View, results: int) -> Feasibility:
    column = view.numbers["patients"]
    report = Feasibility(results.bit_count(), _patients(view, results), (results & ~column.present).bit_count())
    for key, members in view.facets["population"].items():
        if shared := members & results:
            report.by_population.append(Share(key, shared.bit_count(), _patients(view, shared)))
    for key, members in view.categories.items():
        if shared := members & results:
            report.by_category.append(Share(key, shared.bit_count(), _patients(view, shared)))
    own = sorted(((members & results).bit_count(), key) for key, members in view.facets["disease_own"].items())
    for count, key in reversed(own[-TOP_DISEASES:]):
        if count:
            shared = view.facets["disease_own"][key] & results
            report.by_disease.append(Share(key, count, _patients(view, shared)))
    for shares in (report.by_population, report.by_category, report.by_disease):
        shares.sort(key=lambda share: (-share.patients, -share.datasets, share.key))
    return report


def compute(view: View, parsed: Parsed | None, filters: Filters) -> Computed:
    key = ("computed", repr(parsed.tree) if parsed else None, filters)
    return view.memo(key, lambda: _compute(view, parsed, filters))


def _compute(view: View, parsed: Parsed | None, filters: Filters) -> Computed:
    match = matching.evaluate(view, parsed.tree if parsed else None)
    base = match.bits & _ranges(view, filters)
    chosen = {facet: _either(view, facet, filters.selected(facet)) for facet in FACETS if filters.selected(facet)}
    results = base
    for members in chosen.values():
        results &= members
    facets: dict[str, list[Counted]] = {}
    for facet in FACETS:
        others = base
        for name, members in chosen.items():
            if name != facet:
                others &= members
        selected = set(filters.selected(facet))
        counted = [Counted(value, (others & members).bit_count(), value in selected)
                   for value, members in _facet_values(view, facet).items()]
        facets[facet] = [c for c in counted if c.count or c.selected]
    return Computed(results.bit_count(), results, match, facets, feasibility(view, results))


def _ranking_keys(view: View, match: matching.Match, results: int, sort: str, has_query: bool) -> list[int]:
    by_patients = view.numbers["patients"].slices[::-1]
    newest = view.numbers["issued"].slices[::-1] + view.numbers["dataset_id"].slices[::-1]
    if sort == "patients":
        return by_patients + newest
    if sort == "newest" or not has_query:
        return newest
    scores = bitsets.Accumulator()
    for members, weight in match.parts:
        scores.add(members & results, max(1, round(weight * 4)))
    return scores.keys() + by_patients + newest


def page(view: View, parsed: Parsed | None, filters: Filters, sort: str, offset: int, limit: int) -> list[int]:
    """Document numbers of one page of results, in order."""
    computed = compute(view, parsed, filters)
    if computed.results == 0 or offset >= min(computed.results, MAX_WINDOW):
        return []
    # rank a window of whole hundreds, so the next pages come from the same ranking
    window = min(-(-(offset + limit) // 100) * 100, computed.results, MAX_WINDOW)
    has_query = parsed is not None and parsed.tree is not None

    def ranked() -> list[int]:
        keys = _ranking_keys(view, computed.match, computed.members, sort, has_query)
        chosen = bitsets.ids(bitsets.top(keys, computed.members, window))
        # each chosen document's key bits, most significant first, read one key at a time
        columns = [[lookup[doc >> 3] >> (doc & 7) & 1 for doc in chosen]
                   for lookup in (bitsets.lookup(k, view.size) for k in keys)]
        rows = list(zip(*columns, strict=True)) if columns else [()] * len(chosen)
        # largest key first; equal keys keep document order (a reversed sort is stable too)
        return [chosen[i] for i in sorted(range(len(chosen)), key=rows.__getitem__, reverse=True)]

    order = view.memo(("ranked", repr(parsed.tree) if parsed else None, filters, sort, window), ranked)
    return order[offset:offset + limit]

"""What the applicant's pages show beyond a service's answer, put together for the templates: the
basket's pooled patients, a dataset's data-use conditions in words, the requirements checklist and
the sections of the decision letter. Reading only; every figure comes from published content."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from harmony import db
from harmony.access_requests import queries, workflow
from harmony.access_requests.models import QUESTION, UNDER_REVIEW, Proposal, ProposalEvent, Review
from harmony.access_requests.proposals import published_content
from harmony.access_requests.views.timeline import outcome_words
from harmony.catalog import services as catalog
from harmony.catalog.forms import plain_duo
from harmony.catalog.models import Dataset, StudyGroup
from harmony.catalog.stats import NOT_STATED, Bar, bars, population_of
from harmony.catalog.vocabularies import diseases, duo


@dataclass
class Pooled:
    datasets: int
    patients: int
    without_patients: int
    by_population: list[Bar]
    by_category: list[Bar]
    by_disease: list[Bar]


def _disease_labels(content: dict[str, Any], categories: bool) -> set[str]:
    vocabulary, found = diseases(), set()
    for term_id in content.get("diseases", []):
        if term_id not in vocabulary:
            found.add(term_id)
        elif categories:
            category = vocabulary.category(term_id)
            found.add(category.label if category else NOT_STATED)
        else:
            found.add(vocabulary.get(term_id).label)
    return found or {NOT_STATED}


def pooled(contents: list[dict[str, Any]]) -> Pooled:
    """Patients of the chosen datasets, in total and by population, disease group and disease."""
    return Pooled(
        datasets=len(contents), patients=sum(c.get("n_patients") or 0 for c in contents),
        without_patients=sum(1 for c in contents if c.get("n_patients") is None),
        by_population=bars(contents, population_of),
        by_category=bars(contents, lambda c: _disease_labels(c, categories=True)),
        by_disease=bars(contents, lambda c: _disease_labels(c, categories=False)))


@dataclass
class Condition:
    shorthand: str
    label: str
    words: str


def conditions(content: dict[str, Any]) -> list[Condition]:
    """A dataset's data-use conditions (DUO) in words; a disease-specific one names its diseases."""
    out = []
    for code in content.get("data_use", []):
        term = duo().get(code)
        if term is None:
            out.append(Condition(code, code, code))
            continue
        words = plain_duo(term.definition)
        if term.shorthand == "DS" and content.get("data_use_diseases"):
            names = [diseases().get(d).label if d in diseases() else d for d in content["data_use_diseases"]]
            words += f" Diseases: {', '.join(names)}."
        out.append(Condition(term.shorthand, term.label, words))
    return out


@dataclass
class BasketRow:
    dataset: Dataset
    content: dict[str, Any]
    group: StudyGroup | None
    conditions: list[Condition]


def basket_rows(datasets: Iterable[Dataset]) -> list[BasketRow]:
    groups = {group.id: group for group in catalog.groups()}
    rows = []
    for dataset in datasets:
        content = published_content(dataset) or {}
        rows.append(BasketRow(dataset, content, groups.get(dataset.group_id), conditions(content)))
    return rows


def waiting_on(items: list[Proposal]) -> dict[int, tuple[str, str]]:
    """What each listed proposal waits for, and on whom: `ProposalDetail.waiting_on` for a whole
    page of proposals in one query (a committee's open question waits on the applicant)."""
    reviewed = [p.id for p in items if p.state == UNDER_REVIEW]
    asking = set(db.session().scalars(select(Review.proposal_id).where(
        Review.proposal_id.in_(reviewed), Review.state == QUESTION))) if reviewed else set()
    return {p.id: ("the applicant", "to answer a committee's question") if p.id in asking
            else workflow.WAITING_ON.get(p.state, ("nobody", "")) for p in items}


@dataclass
class Check:
    asks: str
    shorthand: str
    datasets: list[str]
    met: bool


def checklist(detail: queries.ProposalDetail) -> list[Check]:
    """What the requested datasets' conditions ask, and whether the proposal answers it yet."""
    return [Check(r.asks, r.shorthand, r.datasets, r.field not in detail.problems) for r in detail.requirements]


@dataclass
class LetterSection:
    """One committee's part of the combined decision letter."""

    committee: str
    datasets: list[queries.RequestedDataset]
    outcome: str
    computed: str
    overridden: bool
    reason: str | None
    decided_at: datetime | None
    conditions: list[str] = field(default_factory=list)
    decided: bool = True


def letter(detail: queries.ProposalDetail, events: list[ProposalEvent]) -> list[LetterSection]:
    decisions = {event.review_id: event for event in events if event.action == "decide"}  # the last one counts
    sections = []
    for summary in detail.reviews:
        review = summary.review
        payload = decisions[review.id].payload if review.id in decisions else {}
        sections.append(LetterSection(
            committee=summary.committee.name,
            datasets=[r for r in detail.datasets if r.committee is not None and r.committee.id == summary.committee.id],
            outcome=outcome_words(review.outcome), computed=outcome_words(review.computed_outcome),
            overridden=review.overridden, reason=review.decision_reason, decided_at=review.decided_at,
            conditions=list(payload.get("conditions") or []), decided=review.outcome is not None))
    return sections

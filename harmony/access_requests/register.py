"""The public register of approved projects (/register, /register.atom, /api/v1/register).

Anyone may read it, signed in or not. It shows only proposals that were decided with the outcome
approved or partially approved, only their approved datasets, and only the fields named in
`RegisterEntry`: never methods, the data security plan, comments, votes or anything else the
applicant wrote. Grants (the data access agreement accepted) and the applicant's reports of
publications do not exist yet; `_grant_period` and `_publications` are where they will be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from harmony import db
from harmony.access_requests.models import APPROVED, DECIDED, PARTIALLY_APPROVED, Committee, Proposal, ProposalDataset
from harmony.access_requests.proposals import published_content
from harmony.accounts.models import User
from harmony.catalog.models import Dataset
from harmony.pagination import Page, paginate

APPROVED_OUTCOMES = (APPROVED, PARTIALLY_APPROVED)
GRANT_NOT_YET = "starts when the data access agreement is accepted"


@dataclass(frozen=True)
class RegisterDataset:
    pid: str
    title: str


@dataclass(frozen=True)
class Publication:
    """A publication the applicant reports (reports do not exist yet)."""

    title: str
    url: str | None = None


@dataclass(frozen=True)
class RegisterEntry:
    """Everything the register shows of one approved project; nothing else leaves this module."""

    id: int
    title: str
    lay_summary: str
    applicant: str
    institution: str
    outcome: str
    decided_at: datetime | None
    grant_period: str
    datasets: list[RegisterDataset] = field(default_factory=list)
    committees: list[str] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)


def _approved():
    return select(Proposal).where(Proposal.state == DECIDED, Proposal.outcome.in_(APPROVED_OUTCOMES))


def _matching(query, q: str):
    words = q.strip().lower().split()
    for word in words:
        query = query.where(or_(
            func.lower(Proposal.content["title"].as_string()).contains(word, autoescape=True),
            func.lower(Proposal.content["lay_summary"].as_string()).contains(word, autoescape=True),
            func.lower(Proposal.content["institution"].as_string()).contains(word, autoescape=True),
            func.lower(User.display_name).contains(word, autoescape=True)))
    return query


def register(q: str = "", page: int = 1, per_page: int = 25) -> Page[RegisterEntry]:
    """One page of approved projects, newest decision first; `q` keeps those whose title, lay summary,
    institution or applicant's name contain every word of it (case-insensitive)."""
    query = (_approved().join(User, User.id == Proposal.applicant_id)
             .order_by(Proposal.decided_at.desc(), Proposal.id.desc()))
    found = paginate(_matching(query, q) if q and q.strip() else query, page, per_page)
    return Page([entry(proposal) for proposal in found.items], found.total, found.page, found.per_page)


def entry(proposal: Proposal) -> RegisterEntry:
    """The register's view of one approved proposal."""
    session = db.session()
    applicant = session.get(User, proposal.applicant_id)
    rows = session.execute(
        select(Dataset, Committee.name)
        .join(ProposalDataset, ProposalDataset.dataset_id == Dataset.id)
        .outerjoin(Committee, Committee.id == ProposalDataset.committee_id)
        .where(ProposalDataset.proposal_id == proposal.id, ProposalDataset.outcome == APPROVED)
        .order_by(Dataset.pid)).all()
    datasets = [RegisterDataset(dataset.pid, published_content(dataset).get("title") or dataset.pid)
                for dataset, _committee in rows]
    committees = sorted({name for _dataset, name in rows if name})
    content: dict[str, Any] = proposal.content or {}
    return RegisterEntry(
        id=proposal.id, title=content.get("title") or f"Project {proposal.id}",
        lay_summary=content.get("lay_summary") or "", applicant=applicant.display_name if applicant else "",
        institution=content.get("institution") or (applicant.affiliation if applicant else None) or "",
        outcome=proposal.outcome, decided_at=proposal.decided_at, grant_period=_grant_period(proposal),
        datasets=datasets, committees=committees, publications=_publications(proposal))


def _grant_period(proposal: Proposal) -> str:
    """The grant's start and end, once grants exist; until then, when it starts."""
    return GRANT_NOT_YET


def _publications(proposal: Proposal) -> list[Publication]:
    """The publications the applicant reports, once reports exist."""
    return []


def projects_using(dataset_id: int) -> list[tuple[int, str]]:
    """The approved projects (id, title) that use one dataset, newest decision first: the catalog's
    landing page lists them."""
    query = (_approved().join(ProposalDataset, ProposalDataset.proposal_id == Proposal.id)
             .where(ProposalDataset.dataset_id == dataset_id, ProposalDataset.outcome == APPROVED)
             .order_by(Proposal.decided_at.desc(), Proposal.id.desc()))
    return [(p.id, (p.content or {}).get("title") or f"Project {p.id}") for p in db.session().scalars(query)]

"""The public register of approved projects (/register, /register.atom, /api/v1/register).

Anyone may read it, signed in or not. It shows only proposals that were decided with the outcome
approved or partially approved, only their approved datasets, and only the fields named in
`RegisterEntry`: never methods, the data security plan, comments, votes or anything else the
applicant wrote. The grant period runs from the first grant's start to the last grant's end (the day it
ended, when it ended early); the publications are those of the applicant's final report, never its
summary or whether the data were deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from harmony import db
from harmony.access_requests.models import (
    AFTER_APPROVAL,
    APPROVED,
    PARTIALLY_APPROVED,
    Committee,
    FinalReport,
    Grant,
    Proposal,
    ProposalDataset,
)
from harmony.access_requests.proposals import published_content
from harmony.accounts.models import User
from harmony.catalog.models import Dataset
from harmony.pagination import Page, paginate

APPROVED_OUTCOMES = (APPROVED, PARTIALLY_APPROVED)
GRANT_NOT_YET = "starts when the data access agreement is accepted"
DATE_FORMAT = "%d %B %Y"  # as the pages' dates (access_requests/_macros.html `date`)
DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
PMID = re.compile(r"^(?:pmid:?\s*)?(\d{1,9})$", re.IGNORECASE)
URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


@dataclass(frozen=True)
class RegisterDataset:
    pid: str
    title: str


@dataclass(frozen=True)
class Publication:
    """A publication the applicant reports: as written (a DOI, a PMID or a citation), with a link when it is
    a DOI, a PMID or a web address."""

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
    """Approved, and not withdrawn before the agreement: decided, waiting for the agreement, or in any state
    the grants lead to."""
    return select(Proposal).where(Proposal.state.in_(AFTER_APPROVAL), Proposal.outcome.in_(APPROVED_OUTCOMES))


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
        outcome=proposal.outcome, decided_at=proposal.decided_at, grant_period=_grant_period(session, proposal),
        datasets=datasets, committees=committees, publications=_publications(session, proposal))


def _grant_period(session: Session, proposal: Proposal) -> str:
    """From the first grant's start to the last grant's end (a grant that ended early counts until the day
    it ended); before the grants start, when they will."""
    first, last = session.execute(
        select(func.min(Grant.start), func.max(func.coalesce(Grant.ended_at, Grant.end)))
        .where(Grant.proposal_id == proposal.id)).one()
    if first is None:
        return GRANT_NOT_YET
    return f"{first.strftime(DATE_FORMAT)} – {last.strftime(DATE_FORMAT)}"


def _publications(session: Session, proposal: Proposal) -> list[Publication]:
    """The publications of the applicant's final report, as listed."""
    listed = session.scalar(select(FinalReport.publications).where(FinalReport.proposal_id == proposal.id))
    return [publication(entry) for entry in listed or []]


def publication(entry: str) -> Publication:
    """One reported publication, linked when it is a DOI (to doi.org), a PubMed id or a web address."""
    entry = entry.strip()
    if found := DOI.match(entry):
        return Publication(entry, f"https://doi.org/{found.group(1)}")
    if found := PMID.match(entry):
        return Publication(entry, f"https://pubmed.ncbi.nlm.nih.gov/{found.group(1)}/")
    if URL.match(entry):
        return Publication(entry, entry)
    return Publication(entry)


def projects_using(dataset_id: int) -> list[tuple[int, str]]:
    """The approved projects (id, title) that use one dataset, newest decision first: the catalog's
    landing page lists them."""
    query = (_approved().join(ProposalDataset, ProposalDataset.proposal_id == Proposal.id)
             .where(ProposalDataset.dataset_id == dataset_id, ProposalDataset.outcome == APPROVED)
             .order_by(Proposal.decided_at.desc(), Proposal.id.desc()))
    return [(p.id, (p.content or {}).get("title") or f"Project {p.id}") for p in db.session().scalars(query)]

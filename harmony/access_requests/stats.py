"""The coordinators' numbers (/dashboard and /api/v1/stats/requests): proposals and reviews per state
now, the median and 90th-percentile time spent in each state over a period, and what is overdue with
whom it waits on.

Time in a state comes from the audit trail: a stay starts at the event that entered the state and
ends at the event that left it, or now when the proposal (or review) is still there. A stay counts
for the period when it ended inside the period or has not ended yet. A review enters `voting` when
it opens; the applicant's answer moves it from `question` back to `voting` and a withdrawal cancels
it (proposal events that name no review). Terminal states (decided, withdrawn, deleted, cancelled)
have no time in state. Time is read from `harmony.clock.now()` only.

Overdue: voting past its deadline, screening past HARMONY_SCREENING_DAYS, questions waiting for an
answer (listed from the moment they are asked; once past the committee's answer_days as "answer-overdue"),
agreements not accepted by their due date and final reports not filed in time — the due dates of
`deadlines`, which `harmony requests tick` escalates.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from harmony import clock, db
from harmony.access_requests import committees, deadlines, permissions
from harmony.access_requests.models import (
    CANCELLED,
    CLOSED,
    DELETED,
    DRAFT,
    PROPOSAL_STATES,
    QUESTION,
    RETURNED,
    REVIEW_DECIDED,
    REVIEW_STATES,
    SUBMITTED,
    UNDER_REVIEW,
    VOTING,
    Committee,
    Proposal,
    ProposalEvent,
    Question,
    Recusal,
    Review,
    Vote,
)
from harmony.access_requests.workflow import state_label
from harmony.accounts.models import User
from harmony.errors import PermissionDenied, ValidationError

DEFAULT_PERIOD, MAX_PERIOD = 90, 3650
PROPOSAL_TIMED = (DRAFT, SUBMITTED, RETURNED, UNDER_REVIEW)  # the states a proposal leaves again
REVIEW_TIMED = (VOTING, QUESTION, CLOSED)
DAY = 86400.0


@dataclass(frozen=True)
class StateCount:
    kind: str  # "proposal" or "review"
    state: str
    label: str
    count: int


@dataclass(frozen=True)
class TimeInState:
    kind: str
    state: str
    label: str
    count: int  # stays counted
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class Overdue:
    reason: str  # "voting-deadline", "screening", "question", "answer-overdue", "agreement", "final-report"
    proposal_id: int
    title: str
    review_id: int | None
    committee: str | None
    since: datetime  # the deadline passed, the proposal was submitted, the question was asked
    days: float  # overdue or waiting for this many days
    waiting_on: list[str] = field(default_factory=list)
    due: datetime | None = None  # the due date (deadlines.py)


@dataclass(frozen=True)
class RequestStats:
    period_days: int
    start: datetime
    now: datetime
    screening_days: int
    counts: list[StateCount]
    times: list[TimeInState]
    overdue: list[Overdue]
    report_grace_days: int = deadlines.REPORT_GRACE_DAYS


def parse_period(raw: Any) -> int:
    """The period in days, 1 to 3650 (default 90); ValidationError (422) otherwise."""
    if raw is None or raw == "":
        return DEFAULT_PERIOD
    try:
        period = int(str(raw).strip())
    except ValueError:
        raise ValidationError(fields={"period": [f"period is a whole number of days, 1 to {MAX_PERIOD}"]}) from None
    if not 1 <= period <= MAX_PERIOD:
        raise ValidationError(fields={"period": [f"period is a whole number of days, 1 to {MAX_PERIOD}"]})
    return period


def request_stats(viewer, period: int = DEFAULT_PERIOD) -> RequestStats:
    """The dashboard's numbers; coordinators and admins only."""
    if not permissions.can_screen(viewer):
        raise PermissionDenied("The dashboard is for coordinators and admins.")
    period = parse_period(period)
    now = clock.now()
    start = now - timedelta(days=period)
    screening_days = int(current_app.config.get("SCREENING_DAYS", 5))
    session = db.session()
    return RequestStats(period, start, now, screening_days, _counts(session), _times(session, start, now),
                        _overdue(session, now, screening_days))


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (as numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- counts ---------------------------------------------------------------------------------


def _counts(session) -> list[StateCount]:
    proposals = dict(session.execute(select(Proposal.state, func.count()).group_by(Proposal.state)).all())
    reviews = dict(session.execute(select(Review.state, func.count()).group_by(Review.state)).all())
    return ([StateCount("proposal", state, state_label("proposal", state), proposals.get(state, 0))
             for state in PROPOSAL_STATES if state != DELETED]
            + [StateCount("review", state, state_label("review", state), reviews.get(state, 0)) for state in REVIEW_STATES])


# --- time in state --------------------------------------------------------------------------


def _times(session, start: datetime, now: datetime) -> list[TimeInState]:
    # Proposals with an event in the period, or still in a state with a clock running.
    touched = select(ProposalEvent.proposal_id).where(ProposalEvent.at >= start)
    open_ = select(Proposal.id).where(Proposal.state.in_(PROPOSAL_TIMED))
    ids = set(session.scalars(touched)) | set(session.scalars(open_))
    stays: dict[tuple[str, str], list[float]] = {}
    if ids:
        events: dict[int, list[ProposalEvent]] = {}
        for event in session.scalars(select(ProposalEvent).where(ProposalEvent.proposal_id.in_(ids))
                                     .order_by(ProposalEvent.proposal_id, ProposalEvent.seq)):
            events.setdefault(event.proposal_id, []).append(event)
        reviews = session.scalars(select(Review).where(Review.proposal_id.in_(ids))).all()
        for trail in events.values():
            _collect(stays, "proposal", _proposal_moves(trail), start, now)
        for review in reviews:
            _collect(stays, "review", _review_moves(review, events.get(review.proposal_id, [])), start, now)
    times = []
    for kind, states in (("proposal", PROPOSAL_TIMED), ("review", REVIEW_TIMED)):
        for state in states:
            found = stays.get((kind, state), [])
            times.append(TimeInState(kind, state, state_label(kind, state), len(found),
                                     _days(statistics.median(found)) if found else None,
                                     _days(quantile(found, 0.9)) if found else None))
    return times


def _days(seconds: float) -> float:
    return round(seconds / DAY, 2)


def _proposal_moves(trail: list[ProposalEvent]) -> list[tuple[str, datetime]]:
    return [(event.to_state, event.at) for event in trail
            if event.review_id is None and event.to_state and event.to_state != event.from_state]


def _review_moves(review: Review, trail: list[ProposalEvent]) -> list[tuple[str, datetime]]:
    moves = [(VOTING, review.opened_at)]
    for event in trail:
        if event.at < review.opened_at:
            continue
        if event.review_id == review.id and event.to_state and event.to_state != event.from_state:
            moves.append((event.to_state, event.at))
        elif event.review_id is None and event.action == "answer" and moves[-1][0] == QUESTION and any(
                item.get("review") == review.id for item in (event.payload or {}).get("reviews", [])):
            moves.append((VOTING, event.at))
        elif event.review_id is None and event.action == "withdraw" and moves[-1][0] not in (REVIEW_DECIDED,
                                                                                             CANCELLED):
            moves.append((CANCELLED, event.at))
    return moves


def _collect(stays: dict, kind: str, moves: list[tuple[str, datetime]], start: datetime, now: datetime) -> None:
    timed = PROPOSAL_TIMED if kind == "proposal" else REVIEW_TIMED
    for index, (state, entered) in enumerate(moves):
        if state not in timed:
            continue
        left = moves[index + 1][1] if index + 1 < len(moves) else None
        if left is not None and left < start:
            continue  # ended before the period
        stays.setdefault((kind, state), []).append(((left or now) - entered).total_seconds())


# --- overdue --------------------------------------------------------------------------------


def _overdue(session, now: datetime, screening_days: int) -> list[Overdue]:
    items: list[Overdue] = []
    found = list(session.scalars(select(Committee)))
    names, answer_days = {c.id: c.name for c in found}, {c.id: c.answer_days for c in found}
    late_votes = session.execute(select(Review, Proposal).join(Proposal, Proposal.id == Review.proposal_id)
                                 .where(Review.state == VOTING, Review.deadline < now)
                                 .order_by(Review.deadline, Review.id)).all()
    for review, proposal in late_votes:
        voted = set(session.scalars(select(Vote.user_id).where(Vote.review_id == review.id)))
        recused = set(session.scalars(select(Recusal.user_id).where(Recusal.review_id == review.id)))
        waiting = [m.user.display_name for m in committees.members(review.committee_id)
                   if m.chair or (m.user.id not in voted and m.user.id not in recused)]
        items.append(Overdue("voting-deadline", proposal.id, _title(proposal), review.id,
                             names.get(review.committee_id), review.deadline, _days((now - review.deadline)
                                                                                   .total_seconds()), waiting,
                             review.deadline))
    limit = now - timedelta(days=screening_days)
    unscreened = session.execute(select(Proposal, User).join(User, User.id == Proposal.applicant_id)
                                 .where(Proposal.state == SUBMITTED, Proposal.state_changed_at < limit)
                                 .order_by(Proposal.state_changed_at, Proposal.id)).all()
    for proposal, _applicant in unscreened:
        items.append(Overdue("screening", proposal.id, _title(proposal), None, None, proposal.state_changed_at,
                             _days((now - proposal.state_changed_at).total_seconds()), ["the coordinators"],
                             proposal.state_changed_at + timedelta(days=screening_days)))
    asked = session.execute(select(Review, Proposal, User).join(Proposal, Proposal.id == Review.proposal_id)
                            .join(User, User.id == Proposal.applicant_id).where(Review.state == QUESTION)
                            .order_by(Review.id)).all()
    late_answers = {due.review.id: due for due in deadlines.answer_dues(session) if due.overdue(now)}
    for review, proposal, applicant in asked:
        if review.id in late_answers:
            continue  # listed below, as overdue
        since = session.scalar(select(func.max(Question.asked_at)).where(
            Question.review_id == review.id, Question.answered_at.is_(None)))
        since = since or review.opened_at
        items.append(Overdue("question", proposal.id, _title(proposal), review.id, names.get(review.committee_id),
                             since, _days((now - since).total_seconds()), [applicant.display_name],
                             since + timedelta(days=answer_days.get(review.committee_id, 14))))
    # past their due dates (deadlines.py): since is the due date, days are days overdue
    for reason, dues in (("answer-overdue", late_answers.values()), ("agreement", deadlines.agreement_dues(session)),
                         ("final-report", deadlines.report_dues(session))):
        for due in dues:
            if due.overdue(now) and due.waiting:
                items.append(Overdue(reason, due.proposal.id, _title(due.proposal),
                                     due.review.id if due.review else None,
                                     ", ".join(c.name for c in due.committees) or None, due.due,
                                     _days((now - due.due).total_seconds()),
                                     [user.display_name for user in due.waiting], due.due))
    return items


def _title(proposal: Proposal) -> str:
    return proposal.content.get("title") or f"Proposal {proposal.id}"


REASONS = {
    "voting-deadline": "Voting past its deadline",
    "screening": "Waiting for screening",
    "question": "Waiting for the applicant's answer",
    "answer-overdue": "Answer overdue",
    "agreement": "Agreement not accepted in time",
    "final-report": "Final report overdue",
}


def as_json(stats: RequestStats) -> dict[str, Any]:
    """The numbers as the API returns them (and the page shows them)."""
    def iso(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    return {
        "period_days": stats.period_days, "from": iso(stats.start), "to": iso(stats.now),
        "screening_days": stats.screening_days, "report_grace_days": stats.report_grace_days,
        "counts": [{"kind": c.kind, "state": c.state, "count": c.count} for c in stats.counts],
        "time_in_state": [{"kind": t.kind, "state": t.state, "stays": t.count, "median_days": t.median_days,
                           "p90_days": t.p90_days} for t in stats.times],
        "overdue": [{"reason": o.reason, "proposal_id": o.proposal_id, "title": o.title, "review_id": o.review_id,
                     "committee": o.committee, "since": iso(o.since), "days": o.days,
                     "waiting_on": o.waiting_on, "due": iso(o.due) if o.due else None} for o in stats.overdue],
    }

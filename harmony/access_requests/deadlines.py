"""Due dates of the stages, and what `harmony requests tick` does with them: close the voting after the
deadline, expire the access whose end has come, remind before a due date and escalate after it.

The due dates (each read from `harmony.clock.now()`'s point of view; a committee's settings are read
when the tick runs, so changing them moves the due dates of what is open):

- screening: a submitted proposal, HARMONY_SCREENING_DAYS after it was (re)submitted; escalated to the
  coordinators.
- voting: the review's deadline (voting_days after it was sent, plus the time a question paused it);
  the members who have neither voted nor declared a conflict are reminded 2 days before. The tick closes
  the voting at the deadline; a review past its deadline that is still voting, or closed without an
  outcome by the votes (no quorum), is escalated to the committee's chair.
- answering a committee's question: asked_at + the committee's answer_days; the applicants are reminded
  3 days before, the committee's chair and the coordinators are told after.
- accepting the agreement: the moment the proposal began to wait for it + the SHORTEST agreement_days of
  the committees whose agreement is to be accepted (the strictest committee's term is the one broken
  first); whoever has not accepted is reminded 3 days before, the coordinators are told after.
- the end of access: each grant's end. The people holding live grants of an active proposal are reminded
  30 and 7 days before (one mail per person, proposal and end date, naming the datasets); at the end the
  grants expire (the `expire` action, which also tells the applicants).
- the final report: REPORT_GRACE_DAYS after access ended (the last grant's end, or when it was revoked
  or closed early), for a proposal that is expired, revoked or closed without a report and was not
  replaced or continued by a submitted renewal; escalated to the coordinators.

Each reminder and escalation goes out once: its key (what, whose, which due date and which reminder)
is inserted into `sent_reminder` in the same transaction as the notices and outbox mails, and the
unique key refuses a second copy, also from a tick running at the same moment (that transaction
rolls back; the other tick sent it). A reminder whose moment passed while the tick did not run still
goes out once, the latest one only (7 days rather than 30 too), and none once the due date itself
has passed: then only the escalation.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from harmony import clock, db
from harmony.access_requests import actions, committees, grant_steps, grants, rules
from harmony.access_requests.models import (
    ACTIVE,
    AGREEMENT,
    CLOSED,
    DECIDED,
    DELETED,
    DRAFT,
    EXPIRED,
    FINISHED,
    GRANT_REPLACED,
    QUESTION,
    RENEWAL,
    REVOKED,
    SUBMITTED,
    VOTING,
    WITHDRAWN,
    Committee,
    FinalReport,
    Grant,
    Proposal,
    Question,
    Recusal,
    Review,
    SentReminder,
    Vote,
)
from harmony.access_requests.steps import SYSTEM, ActionInput, coordinators, roster
from harmony.accounts.models import User
from harmony.catalog.models import Dataset
from harmony.errors import Conflict, InvalidTransition
from harmony.notifications.services import notify

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
GRANT_END_REMINDERS = (30, 7)  # days before a grant's end
VOTING_REMINDERS = (2,)
ANSWER_REMINDERS = (3,)
AGREEMENT_REMINDERS = (3,)
REPORT_GRACE_DAYS = 30  # after access ended, the final report is overdue

# The stages, also the first part of the reminders' keys
SCREENING, VOTING_STAGE, ANSWER, AGREEMENT_STAGE, GRANT_END, REPORT = (
    "screening", "voting", "answer", "agreement", "grant-end", "report")

# Kinds of mail, in the order the tick sends them, with the summary line's words
REMINDER_KINDS = {"access-ending": "Reminders that access ends", "voting-reminder": "Reminders to vote",
                  "answer-reminder": "Reminders to answer a committee's question",
                  "agreement-reminder": "Reminders to accept the agreement"}
ESCALATION_KINDS = {"screening-overdue": "Escalations of overdue screening",
                    "voting-overdue": "Escalations of voting past its deadline without an outcome",
                    "answer-overdue": "Escalations of overdue answers",
                    "agreement-overdue": "Escalations of agreements not accepted in time",
                    "report-overdue": "Escalations of overdue final reports"}


# --- due dates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """Something that has to happen by `due`, and who has still to act on it."""

    stage: str
    proposal: Proposal
    due: datetime
    since: datetime  # when the clock started: submitted, sent, asked, approved, granted, access ended
    waiting: tuple[User, ...]
    review: Review | None = None
    committees: tuple[Committee, ...] = ()
    question: Question | None = None
    datasets: tuple[str, ...] = ()  # grant end: the PIDs

    @property
    def ident(self) -> str:
        """What the key names besides the stage and the due date."""
        if self.stage == VOTING_STAGE:
            return str(self.review.id)
        if self.stage == ANSWER:
            return str(self.question.id)
        if self.stage == GRANT_END:
            return f"{self.proposal.id}:{self.waiting[0].id}"
        return str(self.proposal.id)

    def key(self, what: str) -> str:
        """`<stage>:<ident>:<due date>:<what>`, e.g. `grant-end:12:5:20270302T090000:30` or `answer:7:…:overdue`."""
        return f"{self.stage}:{self.ident}:{self.due:%Y%m%dT%H%M%S}:{what}"

    def overdue(self, now: datetime) -> bool:
        return now >= self.due


def reminder_due(due: datetime, days_before: Iterable[int], now: datetime) -> int | None:
    """Which reminder goes out now: the latest of `days_before` whose moment has come (the 7-day one rather
    than the 30-day one when the tick did not run in between); none once `due` has passed."""
    if now >= due:
        return None
    come = [days for days in days_before if now >= due - days * DAY]
    return min(come) if come else None


def _users(session: Session, ids: Iterable[int]) -> tuple[User, ...]:
    ids = list(dict.fromkeys(ids))
    found = {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return tuple(found[user_id] for user_id in ids if user_id in found)


def screening_days() -> int:
    return int(current_app.config.get("SCREENING_DAYS", 5))


def screening_dues(session: Session) -> list[Due]:
    """Submitted proposals waiting for screening."""
    days, people = screening_days(), tuple(coordinators(session))
    found = session.scalars(select(Proposal).where(Proposal.state == SUBMITTED)
                            .order_by(Proposal.state_changed_at, Proposal.id))
    return [Due(SCREENING, p, p.state_changed_at + days * DAY, p.state_changed_at, people) for p in found]


def voting_dues(session: Session) -> list[Due]:
    """Reviews still voting, waiting on the members who have neither voted nor declared a conflict."""
    rows = session.execute(select(Review, Proposal, Committee).join(Proposal, Proposal.id == Review.proposal_id)
                           .join(Committee, Committee.id == Review.committee_id)
                           .where(Review.state == VOTING).order_by(Review.deadline, Review.id)).all()
    dues = []
    for review, proposal, committee in rows:
        acted = set(session.scalars(select(Vote.user_id).where(Vote.review_id == review.id)))
        acted |= set(session.scalars(select(Recusal.user_id).where(Recusal.review_id == review.id)))
        waiting = tuple(member.user for member in committees.members(committee.id) if member.user.id not in acted)
        dues.append(Due(VOTING_STAGE, proposal, review.deadline, review.opened_at, waiting, review, (committee,)))
    return dues


def undecided_votes(session: Session, now: datetime) -> list[Due]:
    """Reviews past their voting deadline that the votes do not settle: still voting (the tick could not
    close them) or closed without an outcome (no quorum, or neither approve nor reject). The chair decides."""
    rows = session.execute(select(Review, Proposal, Committee).join(Proposal, Proposal.id == Review.proposal_id)
                           .join(Committee, Committee.id == Review.committee_id)
                           .where(Review.deadline <= now, or_(Review.state == VOTING, and_(
                               Review.state == CLOSED, Review.computed_outcome.is_(None))))
                           .order_by(Review.deadline, Review.id)).all()
    return [Due(VOTING_STAGE, proposal, review.deadline, review.opened_at,
                tuple(roster(committee.id, chairs_only=True)), review, (committee,))
            for review, proposal, committee in rows]


def answer_dues(session: Session) -> list[Due]:
    """Questions a committee waits for the applicants to answer: due answer_days after they were asked."""
    rows = session.execute(select(Question, Review, Proposal, Committee)
                           .join(Review, Review.id == Question.review_id)
                           .join(Proposal, Proposal.id == Review.proposal_id)
                           .join(Committee, Committee.id == Review.committee_id)
                           .where(Review.state == QUESTION, Question.answered_at.is_(None))
                           .order_by(Question.asked_at, Question.id)).all()
    return [Due(ANSWER, proposal, question.asked_at + committee.answer_days * DAY, question.asked_at,
                _users(session, grants.people(session, proposal)), review, (committee,), question)
            for question, review, proposal, committee in rows]


def agreement_dues(session: Session) -> list[Due]:
    """Approved proposals waiting for the agreement: due after the shortest agreement_days of the committees
    whose agreement is to be accepted, counted from the decision; waiting on whoever has not accepted."""
    dues = []
    for proposal in session.scalars(select(Proposal).where(Proposal.state == AGREEMENT)
                                    .order_by(Proposal.state_changed_at, Proposal.id)):
        due_for = grant_steps.agreements_due_for(session, proposal)
        if not due_for:
            continue
        waiting = tuple(user for user, _missing in grant_steps.pending_acceptances(session, proposal))
        since = proposal.state_changed_at
        dues.append(Due(AGREEMENT_STAGE, proposal, since + min(c.agreement_days for c in due_for) * DAY, since,
                        waiting, None, tuple(due_for)))
    return dues


def grant_end_dues(session: Session, now: datetime) -> list[Due]:
    """Per active proposal, person and end date: the live grants that end then, among those a reminder can
    be due for (ending within the earliest reminder's days); the people read in one query."""
    horizon = now + max(GRANT_END_REMINDERS) * DAY
    rows = session.execute(select(Grant, Proposal, Dataset.pid).join(Proposal, Proposal.id == Grant.proposal_id)
                           .join(Dataset, Dataset.id == Grant.dataset_id)
                           .where(Proposal.state == ACTIVE, grants.live(now), Grant.end <= horizon)
                           .order_by(Grant.end, Grant.proposal_id, Grant.user_id, Dataset.pid)).all()
    grouped: dict[tuple[int, int, datetime], list] = {}
    for grant, proposal, pid in rows:
        grouped.setdefault((proposal.id, grant.user_id, grant.end), []).append((grant, proposal, pid))
    people = {user.id: user for user in _users(session, [user_id for _p, user_id, _e in grouped])}
    return [Due(GRANT_END, found[0][1], end, min(g.start for g, _p, _d in found), (people[user_id],),
                datasets=tuple(pid for _g, _p, pid in found))
            for (_proposal_id, user_id, end), found in grouped.items() if user_id in people]


def report_dues(session: Session) -> list[Due]:
    """Projects whose access ended (expired, revoked, closed) without a final report, unless a renewal or
    amendment replaced them or a submitted renewal continues them (not a draft, nor one withdrawn or rejected):
    due REPORT_GRACE_DAYS after access ended."""
    child, replaced = aliased(Proposal), aliased(Grant)
    rows = session.execute(
        select(Proposal, func.max(Grant.ended_at)).join(Grant, Grant.proposal_id == Proposal.id)
        .where(Proposal.state.in_((EXPIRED, REVOKED, FINISHED)),
               ~exists().where(FinalReport.proposal_id == Proposal.id),
               ~exists().where(replaced.proposal_id == Proposal.id, replaced.end_reason == GRANT_REPLACED),
               ~exists().where(child.parent_id == Proposal.id, child.kind == RENEWAL,
                               child.state.not_in((DRAFT, WITHDRAWN, DELETED, DECIDED))))
        .group_by(Proposal.id).order_by(Proposal.id)).all()
    return [Due(REPORT, proposal, ended + REPORT_GRACE_DAYS * DAY, ended,
                _users(session, [proposal.applicant_id]))
            for proposal, ended in rows if ended is not None]


# --- the tick -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """One reminder or escalation: its key, whom it goes to and what it says."""

    key: str
    kind: str
    proposal: Proposal
    to: tuple[User, ...]
    subject: str
    summary: str
    link: str


@dataclass
class TickReport:
    closed: int = 0  # reviews whose voting closed
    expired: int = 0  # proposals whose access expired (some or all of it)
    sent: Counter = field(default_factory=Counter)  # kind -> reminders sent
    people: Counter = field(default_factory=Counter)  # kind -> people they went to
    raced: int = 0  # reminders another tick sent while this one was about to

    def lines(self) -> list[str]:
        found = [f"Closed the voting of {self.closed} overdue review(s).",
                 f"Expired the access of {self.expired} proposal(s) that reached its end."]
        for kind, label in {**REMINDER_KINDS, **ESCALATION_KINDS}.items():
            sent = self.sent[kind]
            found.append(f"{label}: {sent} sent, to {self.people[kind]} person(s)." if sent else f"{label}: 0 sent.")
        found.append(f"Left to another tick running at the same time: {self.raced}.")
        return found


def tick() -> TickReport:
    """Everything `harmony requests tick` does, each once, in this order: close the voting of reviews past
    their deadline, expire access whose end has come, send the reminders, then the escalations."""
    report = TickReport()
    report.closed = len(actions.close_overdue_reviews())
    report.expired = len(expire_grants())
    now = clock.now()
    session = db.session()
    mails = [*reminders(session, now), *escalations(session, now)]
    session.commit()  # end the read transaction: each mail is a write transaction of its own
    for mail in unsent(mails):
        if send_once(mail, now):
            report.sent[mail.kind] += 1
            report.people[mail.kind] += len(mail.to)
        else:
            report.raced += 1
    return report


def expire_grants() -> list[int]:
    """End the grants whose end has come, proposal by proposal (the `expire` action: the proposal expires
    with its last grant); a proposal another tick expired meanwhile is skipped."""
    now = clock.now()
    due = db.session().scalars(select(Grant.proposal_id).join(Proposal, Proposal.id == Grant.proposal_id)
                               .where(Proposal.state == ACTIVE, Grant.ended_at.is_(None), Grant.end <= now)
                               .distinct().order_by(Grant.proposal_id)).all()
    expired = []
    for proposal_id in due:
        try:
            actions.act_on_proposal(SYSTEM, proposal_id, "expire", ActionInput())
        except (InvalidTransition, Conflict):
            continue
        expired.append(proposal_id)
    return expired


def unsent(mails: list[Mail]) -> Iterator[Mail]:
    """The mails whose key is not recorded yet (a shortcut only: the insert in `send_once` decides)."""
    keys = [mail.key for mail in mails]
    recorded: set[str] = set()
    for start in range(0, len(keys), 500):
        recorded |= set(db.session().scalars(select(SentReminder.key).where(
            SentReminder.key.in_(keys[start:start + 500]))))
    db.session().commit()
    return (mail for mail in mails if mail.key not in recorded and mail.to)


def send_once(mail: Mail, now: datetime) -> bool:
    """Record the key and write the notices and mails in one transaction; False when the key was recorded
    meanwhile (another tick sent it, and this transaction rolled back)."""
    try:
        with db.unit_of_work() as uow:
            uow.session.add(SentReminder(key=mail.key, proposal_id=mail.proposal.id, sent_at=now))
            uow.session.flush()  # the unique key: a concurrent copy waits here, then fails
            notify(uow, mail.to, mail.kind, subject=mail.subject, summary=mail.summary, link=mail.link,
                   context={"proposal": mail.proposal})
    except IntegrityError:
        log.info("reminder %s was sent by another tick", mail.key)
        return False
    return True


# --- what the mails say ---------------------------------------------------------------------


def _title(proposal: Proposal) -> str:
    return proposal.content.get("title") or f"Proposal {proposal.id}"


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _in_days(due: datetime, now: datetime) -> str:
    days = max(1, math.ceil((due - now) / DAY))
    return f"in {days} day{'' if days == 1 else 's'}"


def _names(committees_: Iterable[Committee]) -> str:
    return ", ".join(committee.name for committee in committees_)


def _mail(due: Due, what: str, kind: str, to: Iterable[User], subject: str, summary: str, link: str) -> Mail:
    title = _title(due.proposal)
    return Mail(due.key(what), kind, due.proposal, tuple(to), f"{subject}: {title}"[:300], f"“{title}”: {summary}",
                link)


def reminders(session: Session, now: datetime) -> list[Mail]:
    """The reminders whose moment has come and whose due date has not passed (sent or not)."""
    mails = []
    reported = set(session.scalars(select(FinalReport.proposal_id)))
    for due in grant_end_dues(session, now):
        days = reminder_due(due.due, GRANT_END_REMINDERS, now)
        if days is None:
            continue
        person = due.waiting[0]
        if person.id != due.proposal.applicant_id:
            todo = "The applicant files the final report and can ask for a renewal."
        elif due.proposal.id in reported:
            todo = "You have filed the final report; to go on working with the data, ask for a renewal."
        else:
            todo = ("File the final report (publications, whether the data were deleted) and, to go on working "
                    "with the data, ask for a renewal.")
        mails.append(_mail(due, str(days), "access-ending", [person], f"Access ends on {day(due.due)}",
                           f"your access to {', '.join(due.datasets)} ends on {day(due.due)} "
                           f"({_in_days(due.due, now)}). {todo}", f"/requests/{due.proposal.id}"))
    for due in voting_dues(session):
        days = reminder_due(due.due, VOTING_REMINDERS, now)
        if days is not None and due.waiting:
            mails.append(_mail(due, str(days), "voting-reminder", due.waiting, f"Vote by {day(due.due)}",
                               f"the voting of {_names(due.committees)} closes on {day(due.due)} "
                               f"({_in_days(due.due, now)}) and you have not voted yet. Vote, or declare a "
                               "conflict of interest.", f"/reviews/{due.review.id}"))
    for due in answer_dues(session):
        days = reminder_due(due.due, ANSWER_REMINDERS, now)
        if days is not None:
            mails.append(_mail(due, str(days), "answer-reminder", due.waiting, f"Answer by {day(due.due)}",
                               f"{_names(due.committees)} asked you a question on {day(due.since)} and waits for "
                               f"your answer by {day(due.due)} ({_in_days(due.due, now)}); the review is paused "
                               "until you answer.", f"/requests/{due.proposal.id}"))
    for due in agreement_dues(session):
        days = reminder_due(due.due, AGREEMENT_REMINDERS, now)
        if days is not None and due.waiting:
            mails.append(_mail(due, str(days), "agreement-reminder", due.waiting,
                               f"Accept the data access agreement by {day(due.due)}",
                               f"accept the data access agreement of {_names(due.committees)} by {day(due.due)} "
                               f"({_in_days(due.due, now)}); access begins when every applicant has accepted it.",
                               f"/requests/{due.proposal.id}"))
    return mails


def escalations(session: Session, now: datetime) -> list[Mail]:
    """The escalations of every due date that has passed (sent or not)."""
    mails = []
    people = coordinators(session)
    for due in screening_dues(session):
        if due.overdue(now):
            mails.append(_mail(due, "overdue", "screening-overdue", people, "Screening overdue",
                               f"submitted on {day(due.since)}, it has waited for screening for more than "
                               f"{screening_days()} days. Send it to the committees or return it to the applicant.",
                               f"/screening/{due.proposal.id}"))
    for due in undecided_votes(session, now):
        tally = rules.describe(actions.tally_of(due.review, session))
        mails.append(_mail(due, "overdue", "voting-overdue", due.waiting, "Voting deadline passed without an outcome",
                           f"the voting deadline of {_names(due.committees)} passed on {day(due.due)} and the votes "
                           f"give no outcome ({tally}). Record the committee's decision, with its reason.",
                           f"/reviews/{due.review.id}"))
    for due in answer_dues(session):
        if due.overdue(now):
            chairs = roster(due.committees[0].id, chairs_only=True)
            who = ", ".join(user.display_name for user in due.waiting) or "the applicant"
            mails.append(_mail(due, "overdue", "answer-overdue", [*chairs, *people], "Answer overdue",
                               f"{who} has not answered the question {_names(due.committees)} asked on "
                               f"{day(due.since)} (due {day(due.due)}). Remind them, or close the voting and "
                               "decide without the answer.", f"/reviews/{due.review.id}"))
    for due in agreement_dues(session):
        if due.overdue(now) and due.waiting:
            mails.append(_mail(due, "overdue", "agreement-overdue", people, "Agreement not accepted in time",
                               f"the data access agreement of {_names(due.committees)} was to be accepted by "
                               f"{day(due.due)}; still waiting for "
                               f"{', '.join(user.display_name for user in due.waiting)}.",
                               f"/requests/{due.proposal.id}"))
    for due in report_dues(session):
        if due.overdue(now):
            who = due.waiting[0].display_name if due.waiting else "the applicant"
            mails.append(_mail(due, "overdue", "report-overdue", people, "Final report overdue",
                               f"access ended on {day(due.since)} and {who} has not filed the final report "
                               f"(due {day(due.due)}).", f"/requests/{due.proposal.id}"))
    return mails

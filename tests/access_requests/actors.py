"""The world's people as actors for the concurrency and state-machine tests: their principals, a way
to run several of them at the same moment (threads, each with its own app context and so its own
database session and connection), and service-level shortcuts that bring a proposal to a state.

Everything goes through the services (`proposals`, `actions`), as a request would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from harmony import db
from harmony.access_requests import actions, proposals
from harmony.access_requests.actions import ActionInput
from harmony.access_requests.content import ProposalContent
from harmony.access_requests.models import Proposal, ProposalEvent, Review, Vote
from harmony.errors import Conflict, HarmonyError, InvalidTransition
from tests.access_requests.conftest import FILLED, World, join_by_mail

SUBJECTS = ("alice", "bruno", "olga", "adam", "dave", "erin", "fay", "chris", "gus", "hana", "ivy")
REFUSED_AS_STALE = (InvalidTransition, Conflict)  # both 409: the state moved before this action ran


def principals(world: World) -> dict[str, Any]:
    """Each person's Principal (frozen, so threads may share them)."""
    return {subject: world.principal(subject) for subject in SUBJECTS}


# --- running people at the same moment ------------------------------------------------------


@dataclass
class Outcome:
    """What one thread's call did: its result, a domain error (refused), or anything else (crashed)."""

    value: Any = None
    refused: HarmonyError | None = None
    crashed: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.crashed is None


def race(app, *calls: Callable[[], Any], timeout: float = 60) -> list[Outcome]:
    """Run the calls in threads released together by a barrier, each inside its own app context (so
    with its own session and connection, as concurrent requests have). Returns their outcomes in
    order; a thread that does not finish within `timeout` fails the test."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=timeout)
                try:
                    outcomes[index].value = call()
                except HarmonyError as error:
                    outcomes[index].refused = error
        except BaseException as error:  # reported by the test, with its traceback
            outcomes[index].crashed = error

    threads = [threading.Thread(target=run, args=(index, call), daemon=True) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung (deadlock?)"
    crashed = [outcome.crashed for outcome in outcomes if outcome.crashed is not None]
    if crashed:
        raise AssertionError(f"{len(crashed)} racing call(s) crashed instead of succeeding or being refused: "
                             f"{crashed!r}") from crashed[0]
    return outcomes


# --- bringing a proposal to a state, through the services -----------------------------------


def new_draft(world: World, who: dict[str, Any], pids: list[str] | None = None, complete: bool = True,
              title: str = "Relapse in AML across trials") -> int:
    """A draft by alice (complete: ready to submit) for the given datasets (default: all four)."""
    fields = {"title": title, **(FILLED if complete else {})}
    with world.app.app_context():
        draft = proposals.create_draft(who["alice"], ProposalContent.model_validate(fields),
                                       world.datasets if pids is None else pids)
        return draft.id


def join_as_co_applicant(world: World, who: dict[str, Any], proposal_id: int, subject: str = "bruno") -> None:
    """Alice invites the person by e-mail; they follow the link in the mail and join (two audit events)."""
    join_by_mail(world, proposal_id, subject)


def proposal_act(world: World, who: dict[str, Any], subject: str, proposal_id: int, name: str, **data: Any):
    with world.app.app_context():
        return actions.act_on_proposal(who[subject], proposal_id, name, ActionInput(**data)).state


def review_act(world: World, who: dict[str, Any], subject: str, review_id: int, name: str, **data: Any):
    with world.app.app_context():
        actor = actions.SYSTEM if subject == "system" else who[subject]
        return actions.act_on_review(actor, review_id, name, ActionInput(**data)).state


def under_review(world: World, who: dict[str, Any], pids: list[str] | None = None) -> tuple[int, dict[str, int]]:
    """A proposal sent to the committees: its id and its reviews by committee name order ("HOVON", "EPLN")."""
    proposal_id = new_draft(world, who, pids)
    proposal_act(world, who, "alice", proposal_id, "submit")
    proposal_act(world, who, "olga", proposal_id, "send-to-review")
    return proposal_id, reviews_of(world, proposal_id)


def reviews_of(world: World, proposal_id: int) -> dict[str, int]:
    names = {world.committees[0].id: "HOVON", world.committees[1].id: "EPLN"}
    with world.app.app_context():
        rows = db.session().execute(select(Review.committee_id, Review.id).where(Review.proposal_id == proposal_id))
        return {names[committee_id]: review_id for committee_id, review_id in rows}


# --- reading back -----------------------------------------------------------------------------


def events(proposal_id: int) -> list[ProposalEvent]:
    """The proposal's audit events in order (call inside an app context)."""
    return list(db.session().scalars(select(ProposalEvent).where(ProposalEvent.proposal_id == proposal_id)
                                     .order_by(ProposalEvent.seq)))


def votes(review_id: int) -> dict[int, Vote]:
    return {vote.user_id: vote for vote in db.session().scalars(select(Vote).where(Vote.review_id == review_id))}


def proposal(proposal_id: int) -> Proposal:
    return db.session().get(Proposal, proposal_id, populate_existing=True)


def review(review_id: int) -> Review:
    return db.session().get(Review, review_id, populate_existing=True)

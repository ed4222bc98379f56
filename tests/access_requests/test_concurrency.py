"""The workflow under concurrent use, on SQLite and PostgreSQL: people acting on the same proposal at
the same moment, in real threads (each with its own app context, so its own session and database
connection), released together by a barrier. Every race is run several rounds, on a fresh proposal
each time, so that a lost race is likely to show.

What must hold (ARCHITECTURE.md, habit 4): a transition is a compare-and-set under the proposal's
lock, so of two conflicting actions one wins and the other gets 409; every success writes exactly one
audit event; event numbers stay contiguous; the hash chain verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from harmony import clock, db
from harmony.access_requests import actions, audit, proposals, rules
from harmony.access_requests.actions import ActionInput
from harmony.access_requests.models import (
    ACTIVE,
    AGREEMENT,
    CLOSED,
    DECIDED,
    DRAFT,
    REVIEW_DECIDED,
    SUBMITTED,
    VOTING,
    Grant,
    Review,
)
from harmony.errors import ValidationError
from harmony.notifications.models import Notice
from tests.access_requests import actors
from tests.access_requests.actors import REFUSED_AS_STALE, Outcome, race
from tests.access_requests.conftest import build_world

ROUNDS = 5
COMMITTEE_OF = {"dave": "HOVON", "erin": "HOVON", "fay": "HOVON", "chris": "HOVON",
                "gus": "EPLN", "hana": "EPLN", "ivy": "EPLN"}


@pytest.fixture
def people(app):
    world = build_world(app)
    return world, actors.principals(world)


def _chain_verifies() -> None:
    assert list(audit.verify(db.session())) == []


def _refused_as_stale(outcome: Outcome) -> None:
    assert isinstance(outcome.refused, REFUSED_AS_STALE), outcome
    assert outcome.refused.status == 409


def _on_review(who, subject: str, review_id: int, name: str, **data):
    return lambda: actions.act_on_review(who[subject], review_id, name, ActionInput(**data)).state


def _on_proposal(who, subject, proposal_id: int, name: str, **data):
    actor = subject if subject is actions.SYSTEM else who[subject]
    return lambda: actions.act_on_proposal(actor, proposal_id, name, ActionInput(**data)).state


# --- two decisions at once ------------------------------------------------------------------


def test_two_decisions_at_once_by_the_chair_one_is_recorded(app, people):
    for _ in range(ROUNDS):
        _two_decisions(app, *people)


def _two_decisions(app, world, who) -> None:
    proposal_id, reviews = actors.under_review(world, who, world.datasets[:2])  # HOVON's datasets only
    review_id = reviews["HOVON"]
    actors.review_act(world, who, "erin", review_id, "vote", vote="approve")
    actors.review_act(world, who, "fay", review_id, "vote", vote="approve")
    actors.review_act(world, who, "chris", review_id, "close-voting")

    confirm, override = race(app, _on_review(who, "chris", review_id, "decide"),
                             _on_review(who, "chris", review_id, "decide", outcome="rejected",
                                        reason="The consent does not cover reuse."))

    assert [confirm.ok, override.ok].count(True) == 1, (confirm, override)
    winner, loser, outcome = (confirm, override, "approved") if confirm.ok else (override, confirm, "rejected")
    _refused_as_stale(loser)
    with app.app_context():
        decided = [e for e in actors.events(proposal_id) if e.action == "decide"]
        assert len(decided) == 1 and decided[0].payload["outcome"] == outcome
        review = actors.review(review_id)
        assert (review.state, review.outcome, review.overridden) == (REVIEW_DECIDED, outcome, winner is override)
        proposal = actors.proposal(proposal_id)
        # HOVON DAC has an agreement: an approval waits for it
        assert (proposal.state, proposal.outcome) == (AGREEMENT if outcome == "approved" else DECIDED, outcome)
        assert "proposal" in decided[0].payload  # the proposal was decided by this one event
        _chain_verifies()


# --- a vote racing the close ----------------------------------------------------------------


def test_a_vote_racing_the_close_is_counted_or_refused(app, people):
    landed = sum(_votes_racing_the_close(app, *people) for _ in range(ROUNDS))
    assert 0 <= landed <= 2 * ROUNDS


def _votes_racing_the_close(app, world, who) -> int:
    proposal_id, reviews = actors.under_review(world, who, world.datasets[:2])
    review_id = reviews["HOVON"]
    actors.review_act(world, who, "erin", review_id, "vote", vote="approve")

    fay, dave, closing = race(app, _on_review(who, "fay", review_id, "vote", vote="reject"),
                              _on_review(who, "dave", review_id, "vote", vote="reject"),
                              _on_review(who, "chris", review_id, "close-voting"))

    assert closing.ok, closing
    with app.app_context():
        review = actors.review(review_id)
        assert review.state == CLOSED
        trail = actors.events(proposal_id)
        closes = [e for e in trail if e.action == "close-voting"]
        assert len(closes) == 1
        stored = actors.votes(review_id)
        for subject, outcome in (("fay", fay), ("dave", dave)):
            user_id = world.users[subject]
            cast = [e for e in trail if e.action == "vote" and e.actor_id == user_id]
            if outcome.ok:  # before the close: one event, and counted
                assert len(cast) == 1 and cast[0].seq < closes[0].seq
                assert stored[user_id].vote == "reject"
            else:
                _refused_as_stale(outcome)
                assert cast == [] and user_id not in stored
        assert all(vote.cast_at <= review.closed_at for vote in stored.values())
        # The tally the close recorded is the tally of exactly the votes that are stored.
        now = actions.tally_of(review)
        assert closes[0].payload["tally"] == rules.describe(now)
        assert closes[0].payload["computed_outcome"] == review.computed_outcome == now.outcome
        assert now.cast == 1 + [fay.ok, dave.ok].count(True)
        _chain_verifies()
    return [fay.ok, dave.ok].count(True)


# --- submitting twice, and an autosave racing the submit ------------------------------------


def test_a_double_submit_is_one_submission(app, people):
    for _ in range(ROUNDS):
        _double_submit(app, *people)


def _double_submit(app, world, who) -> None:
    proposal_id = actors.new_draft(world, who)

    first, second = race(app, _on_proposal(who, "alice", proposal_id, "submit"),
                         _on_proposal(who, "alice", proposal_id, "submit"))

    assert [first.ok, second.ok].count(True) == 1, (first, second)
    _refused_as_stale(second if first.ok else first)
    with app.app_context():
        assert [e.action for e in actors.events(proposal_id)] == ["create", "submit"]
        assert actors.proposal(proposal_id).state == SUBMITTED
        _chain_verifies()


def test_an_autosave_racing_the_submit_never_edits_a_submitted_proposal(app, people):
    """The autosave blanks a mandatory field: landing first, it makes the submit a 422; landing after
    the submit, it must be refused (409), or a submitted proposal would lack its lay summary."""
    for _ in range(ROUNDS):
        _autosave_racing_submit(app, *people)


def _autosave_racing_submit(app, world, who) -> None:
    proposal_id = actors.new_draft(world, who)

    submitted, edited = race(app, _on_proposal(who, "alice", proposal_id, "submit"),
                             lambda: proposals.update_draft(who["alice"], proposal_id, {"lay_summary": ""}).state)

    assert [submitted.ok, edited.ok].count(True) == 1, (submitted, edited)
    with app.app_context():
        proposal = actors.proposal(proposal_id)
        trail = [e.action for e in actors.events(proposal_id)]
        if submitted.ok:
            _refused_as_stale(edited)
            assert (proposal.state, trail) == (SUBMITTED, ["create", "submit"])
            assert proposal.content.get("lay_summary")
        else:
            assert isinstance(submitted.refused, ValidationError) and "lay_summary" in submitted.refused.fields
            assert (proposal.state, trail) == (DRAFT, ["create"])
            assert "lay_summary" not in proposal.content
        _chain_verifies()


# --- many votes at once ---------------------------------------------------------------------


def test_many_members_voting_at_once_each_vote_is_one_event(app, people):
    """Eight threads: the seven members vote on the proposal's two reviews (four on the same one) and
    dave changes his vote at the same moment."""
    for _ in range(ROUNDS):
        _many_votes(app, *people)


def _many_votes(app, world, who) -> None:
    proposal_id, reviews = actors.under_review(world, who)
    with app.app_context():
        before = len(actors.events(proposal_id))
    ballots = [(subject, "approve") for subject in COMMITTEE_OF] + [("dave", "reject")]

    outcomes = race(app, *(_on_review(who, subject, reviews[COMMITTEE_OF[subject]], "vote", vote=choice)
                           for subject, choice in ballots))

    assert all(outcome.ok and outcome.value == VOTING for outcome in outcomes), outcomes
    with app.app_context():
        trail = actors.events(proposal_id)
        assert [e.seq for e in trail] == list(range(1, before + len(ballots) + 1))  # no gap, no duplicate
        assert actors.proposal(proposal_id).event_seq == len(trail)
        cast = trail[before:]
        assert all(e.action == "vote" for e in cast)
        assert sorted(e.actor_id for e in cast) == sorted(world.users[subject] for subject, _ in ballots)
        for name, review_id in reviews.items():
            stored = actors.votes(review_id)
            assert set(stored) == {world.users[s] for s, committee in COMMITTEE_OF.items() if committee == name}
            for user_id, row in stored.items():  # each stored vote is the one of the voter's last event
                last = [e for e in cast if e.actor_id == user_id][-1]
                assert (last.review_id, last.payload["vote"]) == (review_id, row.vote)
            # Reaching the quorum (a read-modify-write of the review's flag) told the chair once.
            notices = db.session().scalar(select(func.count()).select_from(Notice).where(
                Notice.kind == "quorum-reached", Notice.link == f"/reviews/{review_id}"))
            assert notices == 1
        daves = [e.payload for e in cast if e.actor_id == world.users["dave"]]
        assert daves[0]["previous"] is None and daves[1]["previous"] == daves[0]["vote"]
        _chain_verifies()


# --- two ticks at once ----------------------------------------------------------------------


def test_two_ticks_at_once_close_each_overdue_review_once(app, people):
    for _ in range(ROUNDS):
        _two_ticks(app, *people)


def _two_ticks(app, world, who) -> None:
    opened = [actors.under_review(world, who) for _ in range(2)]
    review_ids = {review_id for _, reviews in opened for review_id in reviews.values()}
    with app.app_context():
        latest = max(actors.review(review_id).deadline for review_id in review_ids)

    with clock.frozen(latest + timedelta(minutes=1)):  # process-wide, so set before the threads start
        first, second = race(app, actions.close_overdue_reviews, actions.close_overdue_reviews)

    assert set(first.value).isdisjoint(second.value)
    assert set(first.value) | set(second.value) == review_ids
    with app.app_context():
        for proposal_id, reviews in opened:
            closes = [e for e in actors.events(proposal_id) if e.action == "close-voting"]
            assert sorted(e.review_id for e in closes) == sorted(reviews.values())
            assert all(e.actor_id is None and (e.from_state, e.to_state) == (VOTING, CLOSED) for e in closes)
        assert db.session().scalar(select(func.count()).select_from(Review).where(
            Review.id.in_(review_ids), Review.state != CLOSED)) == 0
        _chain_verifies()


# --- after the decision -----------------------------------------------------------------------


def _approved_with_bruno(world, who) -> int:
    """HOVON's datasets, bruno co-applicant, approved: waits for both to accept HOVON DAC's agreement."""
    proposal_id = actors.new_draft(world, who, world.datasets[:2])
    actors.join_as_co_applicant(world, who, proposal_id, "bruno")
    actors.proposal_act(world, who, "alice", proposal_id, "submit")
    actors.proposal_act(world, who, "olga", proposal_id, "send-to-review")
    review_id = actors.reviews_of(world, proposal_id)["HOVON"]
    for member in ("erin", "fay"):
        actors.review_act(world, who, member, review_id, "vote", vote="approve")
    assert actors.review_act(world, who, "chris", review_id, "decide") == REVIEW_DECIDED
    return proposal_id


def test_the_last_two_acceptances_at_once_start_the_grants_once(app, people):
    for _ in range(ROUNDS):
        _two_acceptances(app, *people)


def _two_acceptances(app, world, who) -> None:
    proposal_id = _approved_with_bruno(world, who)
    alice, bruno = race(app, _on_proposal(who, "alice", proposal_id, "accept-agreement"),
                        _on_proposal(who, "bruno", proposal_id, "accept-agreement"))
    assert alice.ok and bruno.ok, (alice, bruno)
    assert {alice.value, bruno.value} == {AGREEMENT, ACTIVE}  # whoever came second made it active
    with app.app_context():
        grants = db.session().scalars(select(Grant).where(Grant.proposal_id == proposal_id)).all()
        assert sorted((g.user_id, g.dataset_id) for g in grants) == sorted(
            (user, dataset) for user in (world.users["alice"], world.users["bruno"])
            for dataset in {g.dataset_id for g in grants})
        assert len(grants) == 4
        assert actors.proposal(proposal_id).state == ACTIVE
        _chain_verifies()


def test_a_revocation_racing_the_expiry_ends_each_grant_once(app, people):
    for _ in range(ROUNDS):
        _revoke_racing_expiry(app, *people)


def _revoke_racing_expiry(app, world, who) -> None:
    proposal_id = _approved_with_bruno(world, who)
    actors.proposal_act(world, who, "alice", proposal_id, "accept-agreement")
    actors.proposal_act(world, who, "bruno", proposal_id, "accept-agreement")
    later = clock.now() + timedelta(days=400)

    with clock.frozen(later):  # the one clock is the process's: both threads read the moved one
        expired, revoked = race(app, _on_proposal(who, actions.SYSTEM, proposal_id, "expire"),
                                _on_proposal(who, "chris", proposal_id, "revoke", comment="Shared outside the project."))
    assert [expired.ok, revoked.ok].count(True) == 1, (expired, revoked)  # the loser finds nothing live
    loser = revoked if expired.ok else expired
    assert loser.refused.status == 409, loser
    with app.app_context():
        grants = db.session().scalars(select(Grant).where(Grant.proposal_id == proposal_id)).all()
        assert {g.end_reason for g in grants} == {"expired" if expired.ok else "revoked"}
        assert actors.proposal(proposal_id).state == ("expired" if expired.ok else "revoked")
        _chain_verifies()

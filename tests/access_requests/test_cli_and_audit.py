"""`harmony committees`, `harmony requests tick` and `harmony audit verify` on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from harmony import clock, db
from harmony.access_requests import actions, audit
from harmony.access_requests.models import Committee, ProposalEvent, Review
from harmony.catalog.models import StudyGroup
from harmony.errors import InvalidTransition
from tests import factories
from tests.access_requests.conftest import act, draft


def test_committees_add_govern_and_list(app):
    with app.app_context():
        factories.group("HOVON")
    runner = app.test_cli_runner()
    added = runner.invoke(args=["committees", "add", "HOVON DAC", "--rule", "any-reject-blocks", "--quorum", "2",
                                "--days", "10"])
    assert added.exit_code == 0, added.output
    assert "any-reject-blocks, quorum 2 votes, 10 days" in added.output
    assert runner.invoke(args=["committees", "govern", "HOVON DAC", "hovon"]).exit_code == 0
    listed = runner.invoke(args=["committees", "list"])
    assert "HOVON DAC: any-reject-blocks" in listed.output and "governs HOVON" in listed.output
    with app.app_context():
        committee = db.session().scalar(select(Committee))
        assert (committee.rule, committee.quorum, committee.voting_days) == ("any-reject-blocks", 2, 10)
        assert db.session().scalar(select(StudyGroup.committee_id)) == committee.id


def test_committees_add_refuses_bad_input_with_one_clear_line(app):
    runner = app.test_cli_runner()
    twice = [runner.invoke(args=["committees", "add", "DAC"]) for _ in range(2)]
    assert twice[0].exit_code == 0 and twice[1].exit_code == 1
    assert "exists already" in twice[1].output
    fractional = runner.invoke(args=["committees", "add", "Other", "--quorum", "2.5"])
    assert fractional.exit_code == 1 and "whole number" in fractional.output
    unknown = runner.invoke(args=["committees", "govern", "DAC", "NOPE"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output


def test_tick_closes_voting_after_the_deadline_and_tells_the_chair(client, world):
    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    reviews = act(client, world, "olga", pid, "send-to-review").get_json()["reviews"]
    runner = world.app.test_cli_runner()
    assert "0 overdue" in runner.invoke(args=["requests", "tick"]).output
    with world.app.app_context(), pytest.raises(InvalidTransition, match="deadline has not passed"):
        actions.act_on_review(actions.SYSTEM, reviews[0]["id"], "close-voting", actions.ActionInput())
    with world.app.app_context():
        latest = max(db.session().scalars(select(Review.deadline)))
    with clock.frozen(latest + timedelta(minutes=1)):
        assert "2 overdue" in runner.invoke(args=["requests", "tick"]).output
        assert "0 overdue" in runner.invoke(args=["requests", "tick"]).output  # nothing twice
    with world.app.app_context():
        states = set(db.session().scalars(select(Review.state)))
        events = db.session().scalars(select(ProposalEvent).where(ProposalEvent.action == "close-voting")).all()
    assert states == {"closed"} and len(events) == len(reviews) == 2
    assert {event.actor_name for event in events} == {"Harmony (deadline)"}
    chris = client.get("/api/v1/reviews", headers=world.headers("chris")).get_json()["items"]
    assert chris[0]["state"] == "closed"


def test_audit_verify_is_clean_then_names_a_changed_event(client, world):
    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    act(client, world, "olga", pid, "return", comment="Please add the funding.")
    runner = world.app.test_cli_runner()
    clean = runner.invoke(args=["audit", "verify"])
    assert clean.exit_code == 0 and "verifies" in clean.output
    with world.app.app_context(), db.engine().begin() as connection:  # someone edits the table behind our back
        connection.execute(update(ProposalEvent).where(ProposalEvent.seq == 2).values(comment="nothing to see"))
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"proposal {pid}, event 2: was changed after it was written" in broken.output


def test_audit_verify_finds_a_removed_event(client, world):
    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    act(client, world, "olga", pid, "return", comment="Please add the funding.")
    with world.app.app_context(), db.engine().begin() as connection:
        connection.execute(text("DELETE FROM proposal_event WHERE seq = 3"))
    with world.app.app_context():
        found = audit.verify_proposal(db.session(), pid)
    assert found is not None and found.seq == 3 and "ends at event 2" in found.problem
    with world.app.app_context(), db.engine().begin() as connection:
        connection.execute(text("DELETE FROM proposal_event WHERE seq = 2"))
    with world.app.app_context():
        found = audit.verify_proposal(db.session(), pid)
    assert found is not None and found.seq == 2

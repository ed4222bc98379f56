"""Every cell of the permission table (harmony/access_requests/permission_table.py), driven over the API.

For each proposal or review state, each person (applicant, co-applicant, coordinator, admin, committee
member, chair, an outsider and a member of another committee) and each action: a real proposal is brought
into the state through the API and the action is posted as that person. Allowed: 200, the state moves as
the table says and one event is appended. Not allowed: 404 when the person may not see the proposal or
review at all (VISIBLE below, stated here independently of the services), else 403 when they stand in no
relation the action names, 409 when they do but the state is wrong; and nothing changed.

Speed: one consortium per database for the whole module, and one proposal per state shared by every cell
that is refused (a refused cell changes nothing, and each one checks that); an allowed cell moves the
proposal, so it gets a fresh one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from harmony import db
from harmony.access_requests import co_applicants, permission_table, workflow
from harmony.access_requests.models import CoApplicant, Grant, Proposal, ProposalEvent, Question, Recusal, Review, Vote
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, TokenCreate
from harmony.notifications.models import OutboxMail
from tests.access_requests.conftest import World, act, build_world, draft, review_act
from tests.conftest import empty_tables, make_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
CELLS = permission_table.rows()

# Who plays each column (build_world's people; "otto" is made here). HOVON DAC reviews every proposal
# below (they ask for HOVON's datasets only), so gus of EPLN DAC is the other committee's member.
PLAYERS = {
    workflow.APPLICANT: "alice", workflow.CO_APPLICANT: "bruno", workflow.COORDINATOR: "olga",
    workflow.ADMIN: "adam", workflow.MEMBER: "dave", workflow.CHAIR: "chris",
    permission_table.OUTSIDER: "otto", permission_table.OTHER_COMMITTEE_MEMBER: "gus",
}
# proposal states below in which HOVON DAC has a review
REVIEWED = {"under_review", "decided", "withdrawn", "agreement", "active", "closed", "expired", "revoked"}


def visible(target: str, state: str, person: str) -> bool:
    """May the person see the proposal (or review) at all? PRODUCT.md's rule, restated for this test."""
    if target == "review":
        return person in (workflow.MEMBER, workflow.CHAIR, workflow.COORDINATOR, workflow.ADMIN)
    if person == workflow.APPLICANT:
        return True
    if state == "deleted":
        return False
    if person == workflow.CO_APPLICANT:
        return True
    if person in (workflow.COORDINATOR, workflow.ADMIN):
        return state != "draft"
    if person in (workflow.MEMBER, workflow.CHAIR):
        return state in REVIEWED
    return False


# How each state is reached (every step over the API, but `expire`, which the system runs at the grants'
# end); the review states' proposals are under review. "under_review" waits for an answer to a committee
# question, so that `answer` can run in it. A step is "action" or "action@person" (who else acts).
# HOVON DAC has an agreement: its approval leads to the agreement, which alice and bruno accept.
APPROVED = ["submit", "send-to-review", "decide"]
ACTIVE = [*APPROVED, "accept-agreement", "accept-agreement@bruno"]
ROADS = {
    "draft": [],
    "submitted": ["submit"],
    "returned": ["submit", "return"],
    "deleted": ["delete"],
    "voting": ["submit", "send-to-review"],
    "question": ["submit", "send-to-review", "ask-question"],
    "closed": ["submit", "send-to-review", "close-voting"],
    "decided": APPROVED,  # the review's state; the proposal waits for the agreement
    "rejected": ["submit", "send-to-review", "decide@reject"],
    "cancelled": ["submit", "send-to-review", "withdraw"],
    "agreement": APPROVED,
    "active": ACTIVE,
    "finished": [*ACTIVE, "file-report", "close"],
    "expired": [*ACTIVE, "expire"],
    "revoked": [*ACTIVE, "revoke"],
}
# proposal states reached by another scenario (other states: their own name)
PROPOSAL_SCENARIO = {"under_review": "question", "withdrawn": "cancelled", "decided": "rejected", "closed": "finished"}
STEP_ACTOR = {"submit": "alice", "delete": "alice", "withdraw": "alice", "return": "olga", "send-to-review": "olga",
              "ask-question": "chris", "close-voting": "chris", "decide": "chris", "accept-agreement": "alice",
              "file-report": "alice", "close": "alice", "revoke": "chris"}
# what an allowed cell needs done first (an applicant closes the project after the final report)
PREPARE = {"close": ["file-report"]}


def body_for(name: str, world: World | None = None, proposal_id: int | None = None) -> dict:
    """A valid body for the action: a comment where it needs one, the vote, the decision with its reason,
    the final report, the co-applicant to remove."""
    action = workflow.ACTIONS[name]
    body = {"comment": "A comment long enough for any action."} if action.needs_comment else {}
    if name == "vote":
        body["vote"] = "approve"
    if name == "decide":
        body.update(outcome="approved", reason="The consent covers secondary research on relapse.")
    if name == "file-report":
        body.update(publications=["10.1000/relapse.2027"], data_deleted=True)
    if name == "remove-co-applicant" and world is not None:
        with world.app.app_context():
            body["co_applicant"] = db.session().scalar(select(CoApplicant.id).where(
                CoApplicant.proposal_id == proposal_id))
    return body


def expire(world: World, proposal_id: int):
    """What `harmony requests tick` does once the grants' end has passed."""
    from harmony import clock
    from harmony.access_requests.actions import SYSTEM, ActionInput, act_on_proposal

    with world.app.app_context(), clock.frozen(clock.now() + timedelta(days=400)):
        act_on_proposal(SYSTEM, proposal_id, "expire", ActionInput())


def join_as_co_applicant(world: World, proposal_id: int, subject: str = "bruno") -> None:
    """Make `subject` an accepted co-applicant of the draft, as people do: alice invites them by e-mail
    and they accept with the link from the mail."""
    email = f"{subject}@example.org"
    with world.app.app_context():
        co_applicants.invite_co_applicant(world.principal("alice"), proposal_id,
                                          co_applicants.InvitationInput(email=email))
        text = db.session().scalars(select(OutboxMail.body_text).where(OutboxMail.to_address == email)
                                    .order_by(OutboxMail.id.desc())).first()
    link = re.search(r"/requests/invitations/([\w.-]+)", text or "")
    assert link, f"no invitation link in the mail to {email}: {text!r}"
    with world.app.app_context():
        co_applicants.accept_invitation(world.principal(subject), link.group(1))


@dataclass
class Arena:
    """One consortium per database, and the proposals it has brought into each state."""

    world: World
    client: object
    shared: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    def build(self, scenario: str, co_applicant: bool = True) -> tuple[int, int | None]:
        """A new proposal for HOVON's datasets brought into the scenario's state (with bruno as an accepted
        co-applicant unless `co_applicant` is false: he changes no state, and joining takes time)."""
        world, client = self.world, self.client
        proposal_id = draft(client, world, pids=world.datasets[:2])["id"]
        if co_applicant:
            join_as_co_applicant(world, proposal_id)
        review_id = None
        for road_step in ROADS[scenario]:
            step, _, variant = road_step.partition("@")
            if variant == "bruno" and not co_applicant:
                continue
            if step == "expire":
                expire(world, proposal_id)
                continue
            actor = STEP_ACTOR[step] if variant in ("", "reject") else variant
            body = body_for(step)
            if variant == "reject":
                body.update(outcome="rejected")
            if workflow.ACTIONS[step].target == "proposal":
                answer = act(client, world, actor, proposal_id, step, **body)
                reviews = answer.get_json().get("reviews") or []
                review_id = review_id or (reviews[0]["id"] if reviews else None)
            else:
                answer = review_act(client, world, actor, review_id, step, **body)
            assert answer.status_code == 200, (scenario, step, answer.get_json())
        return proposal_id, review_id

    def state(self, scenario: str) -> tuple[int, int | None, dict]:
        """The scenario's shared proposal, its review and its fingerprint when it was built."""
        if scenario not in self.shared:
            proposal_id, review_id = self.build(scenario)
            self.shared[scenario] = (proposal_id, review_id, self.fingerprint(proposal_id))
        return self.shared[scenario]

    def fingerprint(self, proposal_id: int) -> dict:
        """What a refused action must leave alone: the states, the audit trail, votes, recusals, questions,
        grants and whether they ended."""
        with self.world.app.app_context():
            session = db.session()
            reviews = select(Review.id).where(Review.proposal_id == proposal_id)

            def count(model, column, among=reviews):
                return select(func.count()).select_from(model).where(column.in_(among)).scalar_subquery()

            events = count(ProposalEvent, ProposalEvent.proposal_id, [proposal_id])
            row = session.execute(select(
                Proposal.state, Proposal.outcome, Proposal.event_seq, events, count(Vote, Vote.review_id),
                count(Recusal, Recusal.review_id), count(Question, Question.review_id),
            ).where(Proposal.id == proposal_id)).one()
            return {
                **dict(zip(("state", "outcome", "event_seq", "events", "votes", "recusals", "questions"), row,
                           strict=True)),
                "reviews": dict(session.execute(select(Review.id, Review.state)
                                                .where(Review.proposal_id == proposal_id)).all()),
                "grants": dict(session.execute(select(Grant.id, Grant.ended_at)
                                               .where(Grant.proposal_id == proposal_id)).all()),
            }


@pytest.fixture(scope="module")
def arena(database_url, dev_provider, tmp_path_factory):
    """The consortium of tests/access_requests/conftest.py, built once per database for this module."""
    folder = tmp_path_factory.mktemp("permissions")
    app = make_app(database_url, SEARCH_INDEX_DIR=str(folder / "index"), ATTACHMENT_DIR=str(folder / "files"))
    with app.app_context():
        empty_tables()
    world = build_world(app)
    with app.app_context():
        otto = accounts.provision_user(world.issuer, "otto", {"name": "Otto", "email": "otto@example.org"})
        world.users["otto"] = otto.id
        world.tokens["otto"] = accounts.create_token(COMMAND_LINE, otto.id, TokenCreate(name="test"))[1]
    yield Arena(world, app.test_client())
    with app.app_context():
        db.engine().dispose()


def test_the_document_is_the_tables_rendering():
    """docs/permissions.md cannot drift from the workflow: regenerate it with
    `python -m harmony.access_requests.permission_table > docs/permissions.md`."""
    assert DOC.read_text(encoding="utf-8") == permission_table.render()


def test_the_table_covers_every_state_person_and_action():
    assert len(CELLS) == len({cell.id for cell in CELLS})
    expected = sum(len(states) * len(permission_table.PEOPLE) * len(permission_table.actions_of(target))
                   for target, states in permission_table.TARGETS.items())
    assert len(CELLS) == expected
    every_state = {*permission_table.TARGETS["proposal"], *permission_table.TARGETS["review"]}
    assert every_state <= {*ROADS, *PROPOSAL_SCENARIO}, "teach ROADS how to reach the new state"
    assert set(permission_table.PEOPLE) == set(PLAYERS)


def test_the_openapi_action_parameters_are_the_tables_names():
    """Every action of the table is described once: on `{action}`, or on a path of its own with the body
    fields it needs required."""
    from harmony.api.openapi import document

    paths = document("http://harmony.test")["paths"]
    for base, table in (("/api/v1/requests/{proposal_id}/actions", workflow.PROPOSAL_ACTIONS),
                        ("/api/v1/reviews/{review_id}/actions", workflow.REVIEW_ACTIONS)):
        parameter = next(p for p in paths[f"{base}/{{action}}"]["parameters"] if p["name"] == "action")
        own = [name for name in table if f"{base}/{name}" in paths]
        assert sorted(parameter["schema"]["enum"] + own) == sorted(table)
        for name in own:
            action = table[name]
            body = paths[f"{base}/{name}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            needed = {*action.needs, *(["comment"] if action.needs_comment else [])}
            assert needed and set(body["allOf"][1]["required"]) == needed, name


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_cell(arena, cell):
    world, client = arena.world, arena.client
    scenario = PROPOSAL_SCENARIO.get(cell.state, cell.state) if cell.target == "proposal" else cell.state
    if cell.allowed:  # the action moves the proposal: a fresh one
        needs_co_applicant = cell.person == workflow.CO_APPLICANT or cell.action == "remove-co-applicant"
        proposal_id, review_id = arena.build(scenario, co_applicant=needs_co_applicant)
        for step in PREPARE.get(cell.action, []):
            assert act(client, world, "alice", proposal_id, step, **body_for(step)).status_code == 200
        before = arena.fingerprint(proposal_id)
    else:  # refused: the shared one, which no refusal may have changed since it was built
        proposal_id, review_id, before = arena.state(scenario)
    subject = PLAYERS[cell.person]
    if cell.target == "proposal":
        answer = act(client, world, subject, proposal_id, cell.action, **body_for(cell.action, world, proposal_id))
    else:
        answer = review_act(client, world, subject, review_id, cell.action, **body_for(cell.action))
    after = arena.fingerprint(proposal_id)
    if cell.allowed:
        assert answer.status_code == 200, answer.get_json()
        action = workflow.ACTIONS[cell.action]
        moved = after["state"] if cell.target == "proposal" else after["reviews"][review_id]
        assert moved in action.may_lead_to(cell.state)
        assert after["events"] == before["events"] + 1
        assert answer.mimetype == "application/json"
    else:
        expected = cell.refusal if visible(cell.target, cell.state, cell.person) else 404
        assert (answer.status_code, answer.mimetype) == (expected, "application/problem+json"), answer.get_json()
        assert after == before

"""A small consortium for the access-request tests: two study groups, each governed by its own
committee (majority with a quorum of 2; any-reject-blocks with a quorum of 2), the demo's personas,
a personal API token for each, and published datasets in both groups. Made through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from harmony import db
from harmony.access_requests import co_applicants, committees
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput, TokenCreate
from harmony.notifications.models import OutboxMail
from tests import factories

PEOPLE = {
    # subject: (role, committee index or None)
    "alice": (None, None), "bruno": (None, None), "olga": ("coordinator", None), "adam": ("admin", None),
    "dave": ("member", 0), "erin": ("member", 0), "fay": ("member", 0), "chris": ("chair", 0),
    "gus": ("member", 1), "hana": ("member", 1), "ivy": ("chair", 1),
}


@dataclass
class World:
    app: Any
    groups: list
    committees: list
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    datasets: list = field(default_factory=list)  # PIDs: [group 0's, group 1's]
    issuer: str = factories.ISSUER

    def headers(self, subject: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[subject]}"} if subject else {}

    def principal(self, subject: str):
        with self.app.app_context():
            return accounts.principal_for(accounts.find_user(subject, self.issuer))


def build_world(app, datasets_per_group: int = 2, issuer: str = factories.ISSUER, **dataset_overrides: Any) -> World:
    """`issuer`: the provider the people are known at; pages sign in at the development provider, so
    page tests pass its issuer (see `page_world`)."""
    with app.app_context():
        hovon, epln = factories.group("HOVON"), factories.group("EPLN", country="DE")
        first = committees.create_committee(COMMAND_LINE, committees.CommitteeInput(
            name="HOVON DAC", rule="majority", quorum=2, voting_days=14, agreement="HOVON data access agreement v1."))
        second = committees.create_committee(COMMAND_LINE, committees.CommitteeInput(
            name="EPLN DAC", rule="any-reject-blocks", quorum=2, voting_days=21))
        committees.govern(COMMAND_LINE, first.id, hovon.id)
        committees.govern(COMMAND_LINE, second.id, epln.id)
        world = World(app, [hovon, epln], [first, second], issuer=issuer)
        for subject, (role, index) in PEOPLE.items():
            person = accounts.provision_user(issuer, subject, {"name": subject.title(),
                                                               "email": f"{subject}@example.org"})
            world.users[subject] = person.id
            if role:
                scope = world.committees[index].id if index is not None else None
                accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=person.id, role=role, scope_id=scope))
            world.tokens[subject] = accounts.create_token(COMMAND_LINE, person.id, TokenCreate(name="test"))[1]
        cora = factories.curator("cora", hovon)
        kai = factories.curator("kai", epln)
        for curator, group in ((cora, hovon), (kai, epln)):
            for number in range(datasets_per_group):
                overrides = {"data_use": ["DUO:0000042"], "title": f"{group.acronym} trial {number + 1}",
                             **dataset_overrides}
                world.datasets.append(factories.dataset(curator, group, **overrides).pid)
    return world


@pytest.fixture
def world(app):
    return build_world(app)


@pytest.fixture
def page_world(app, dev_provider):
    """The same consortium, known at the development provider, so `tests.identity.sign_in(client, subject)`
    signs a test client in as any of its people."""
    return build_world(app, issuer=dev_provider.issuer)


@pytest.fixture
def api(app):
    """A client without a session: the API helpers send each person's token."""
    return app.test_client()


@pytest.fixture
def people(app, page_world):
    """A test client signed in at the development provider per person, made on first use."""
    from tests.identity import sign_in

    clients = {}

    def person(subject: str):
        if subject not in clients:
            clients[subject] = app.test_client()
            sign_in(clients[subject], subject)
        return clients[subject]

    return person


FILLED = {
    "lay_summary": "We want to learn which children and adults with AML relapse, to treat them better.",
    "abstract": "A pooled analysis of AML trials to find genetic subgroups that predict relapse.",
    "objectives": "Estimate relapse risk by genetic subgroup.",
    "methods": "Cox regression stratified by trial; multiple imputation for missing covariates.",
    "purpose": {"code": "HMB"},
    "duration_months": 12,
    "institution": "University of Leiden",
    "data_security_plan": "Analysis inside the university's secure research environment.",
}


def draft(client, world, subject: str = "alice", pids: list[str] | None = None, **fields: Any) -> dict:
    """A complete draft through the API, ready to submit."""
    body = {"title": "Relapse in AML across trials", "datasets": pids if pids is not None else world.datasets,
            **FILLED, **fields}
    response = client.post("/api/v1/requests", json=body, headers=world.headers(subject))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, world, subject: str, proposal_id: int, action: str, **body: Any):
    return client.post(f"/api/v1/requests/{proposal_id}/actions/{action}", json=body, headers=world.headers(subject))


def review_act(client, world, subject: str, review_id: int, action: str, **body: Any):
    return client.post(f"/api/v1/reviews/{review_id}/actions/{action}", json=body, headers=world.headers(subject))


def approve(client, world, subject: str = "alice", pids: list[str] | None = None, reject: tuple[str, ...] = (),
            **fields: Any) -> int:
    """A proposal taken through screening and review to a decision: every committee approves, except the
    committees named in `reject`. Returns its id; it then waits for the agreement (or is active)."""
    proposal_id = draft(client, world, subject, pids, **fields)["id"]
    assert act(client, world, subject, proposal_id, "submit").status_code == 200
    review_and_decide(client, world, proposal_id, reject)
    return proposal_id


def review_and_decide(client, world, proposal_id: int, reject: tuple[str, ...] = ()) -> list[str]:
    """Olga sends the submitted proposal to review; in each committee two members vote approve (reject in the
    committees named in `reject`) and the chair confirms. Returns the reviewing committees' names."""
    sent = act(client, world, "olga", proposal_id, "send-to-review")
    assert sent.status_code == 200, sent.get_json()
    voters = {"HOVON DAC": ("erin", "fay", "chris"), "EPLN DAC": ("gus", "hana", "ivy")}
    for review in sent.get_json()["reviews"]:
        *members, chair = voters[review["committee"]]
        vote = "reject" if review["committee"] in reject else "approve"
        for member in members:
            assert review_act(client, world, member, review["id"], "vote", vote=vote).status_code == 200
        decided = review_act(client, world, chair, review["id"], "decide")
        assert decided.status_code == 200, decided.get_json()
    return [review["committee"] for review in sent.get_json()["reviews"]]


def join_by_mail(world, proposal_id: int, subject: str = "bruno") -> int:
    """Alice invites `subject` by e-mail; they follow the link in the mail, signed in, and join. Returns the
    invitation's (the co-applicant's) id."""
    email = f"{subject}@example.org"
    with world.app.app_context():
        invitation = co_applicants.invite_co_applicant(world.principal("alice"), proposal_id,
                                                       co_applicants.InvitationInput(email=email))
    with world.app.app_context():
        mail = db.session().scalars(select(OutboxMail).where(OutboxMail.to_address == email)
                                    .order_by(OutboxMail.id.desc()).limit(1)).one()
        token = mail.body_text.split("/requests/invitations/", 1)[1].split()[0]
        co_applicants.accept_invitation(world.principal(subject), token)
    return invitation.id

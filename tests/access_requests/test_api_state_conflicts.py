"""Well-formed requests that the current state refuses answer 409 (problem type `state-conflict`, the fields
in `errors`), not 422: a client that sends a body valid per the API's description is told "not now", and
422 stays for input that is wrong in itself (issue 10 §6, Schemathesis' positive_data_acceptance)."""

from __future__ import annotations

from harmony import db
from harmony.access_requests.co_applicants import MAX_CO_APPLICANTS
from harmony.access_requests.proposals import MAX_DATASETS
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, TokenCreate
from harmony.catalog import services as catalog
from harmony.errors import StateConflict, ValidationError
from tests import factories
from tests.access_requests.conftest import act, draft

CONFLICT = "http://harmony.test/problems/state-conflict"


def conflict(answer, *fields: str) -> dict:
    """A 409 problem of type state-conflict naming these fields."""
    assert (answer.status_code, answer.mimetype) == (409, "application/problem+json"), answer.get_data()[:300]
    body = answer.get_json()
    assert body["type"] == CONFLICT and body["status"] == 409, body
    assert set(fields) <= set(body.get("errors", {})), body
    return body


def test_a_state_conflict_is_a_validation_error_that_answers_409():
    error = StateConflict(fields={"name": ["taken"]})
    assert isinstance(error, ValidationError) and error.fields == {"name": ["taken"]}  # forms catch it as before
    assert (error.status, error.type_slug) == (409, "state-conflict")
    assert ValidationError.status == 422


def test_a_committee_name_taken_already_is_a_conflict(client, world):
    admin = world.headers("adam")
    before = client.get("/api/v1/committees", headers=admin).get_json()["items"]
    conflict(client.post("/api/v1/committees", json={"name": "hovon dac"}, headers=admin), "name")
    conflict(client.put(f"/api/v1/committees/{world.committees[1].id}", json={"name": "HOVON DAC"}, headers=admin),
             "name")
    assert client.get("/api/v1/committees", headers=admin).get_json()["items"] == before
    bad = client.post("/api/v1/committees", json={"name": "X"}, headers=admin)  # too short: wrong in itself
    assert bad.status_code == 422 and "name" in bad.get_json()["errors"]


def test_a_study_group_acronym_taken_already_is_a_conflict(client, world):
    admin = world.headers("adam")
    conflict(client.put("/api/v1/groups/EPLN", json={"name": "EPLN again", "acronym": "hovon"}, headers=admin),
             "acronym")
    assert client.get("/api/v1/groups/EPLN").status_code == 200
    conflict(client.post("/api/v1/datasets", json={"group": "NOPE", "content": {}},
                         headers=world.headers("adam")), "group")


def test_datasets_that_cannot_be_requested_are_a_conflict_but_too_many_is_input(client, world):
    alice = world.headers("alice")
    with world.app.app_context():
        cora = factories.principal("cora")
        unpublished = factories.dataset(cora, world.groups[0], publish=False).pid
        curator = {"Authorization": "Bearer " + accounts.create_token(COMMAND_LINE, cora.user_id,
                                                                      TokenCreate(name="test"))[1]}
    body = conflict(client.post("/api/v1/requests", json={"title": "T", "datasets": ["HM-999999", unpublished]},
                                headers=curator), "datasets")  # its curator sees the draft, and may not ask for it
    assert body["errors"]["datasets"] == ["HM-999999: no such published dataset.",
                                          f"{unpublished} is not published, so access cannot be asked."]
    proposal_id = draft(client, world)["id"]
    conflict(client.patch(f"/api/v1/requests/{proposal_id}", json={"datasets": [unpublished]}, headers=alice),
             "datasets")
    many = [f"HM-{number:06d}" for number in range(1, MAX_DATASETS + 2)]
    too_many = client.post("/api/v1/requests", json={"title": "T", "datasets": many}, headers=alice)
    assert too_many.status_code == 422 and "datasets" in too_many.get_json()["errors"]


def test_co_applicants_beyond_the_maximum_and_removing_a_stranger_are_conflicts(client, world):
    alice = world.headers("alice")
    proposal_id = draft(client, world)["id"]
    for number in range(MAX_CO_APPLICANTS):
        invited = client.post(f"/api/v1/requests/{proposal_id}/co-applicants", json={"email": f"p{number}@example.org"},
                              headers=alice)
        assert invited.status_code == 201
    conflict(client.post(f"/api/v1/requests/{proposal_id}/co-applicants", json={"email": "one.more@example.org"},
                         headers=alice), "email")
    conflict(act(client, world, "alice", proposal_id, "remove-co-applicant", co_applicant=10**9), "co_applicant")
    missing = act(client, world, "alice", proposal_id, "remove-co-applicant")  # names nobody: wrong in itself
    assert missing.status_code == 422 and "co_applicant" in missing.get_json()["errors"]


def test_sending_to_review_a_dataset_withdrawn_meanwhile_is_a_conflict(client, world):
    proposal_id = draft(client, world, pids=world.datasets[:1])["id"]
    assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    with world.app.app_context():
        cora = factories.principal("cora")
        catalog.withdraw(cora, catalog.get_dataset(cora, world.datasets[0]).id, "The sponsor withdrew consent.")
        db.session().expire_all()
    body = conflict(act(client, world, "olga", proposal_id, "send-to-review"), "datasets")
    assert body["detail"] == "The proposal cannot go to review."
    found = client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("olga")).get_json()
    assert found["state"] == "submitted"

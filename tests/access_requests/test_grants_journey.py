"""After the decision, over the API: the agreement, the grants it starts, a co-applicant removed, a
renewal that replaces the original, revocation by a chair, the final report and closing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import audit
from harmony.access_requests.grants import add_months
from harmony.access_requests.models import Grant
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput
from harmony.notifications.models import OutboxMail
from tests.access_requests.conftest import act, approve, draft, join_by_mail, review_act, review_and_decide


def _grants(world, proposal_id):
    with world.app.app_context():
        return db.session().scalars(select(Grant).where(Grant.proposal_id == proposal_id).order_by(Grant.id)).all()


def test_agreement_then_grants_for_every_person_and_approved_dataset(client, world):
    proposal_id = approve(client, world)
    found = client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()
    assert found["state"] == "agreement" and "accept-agreement" in found["actions"]
    assert _grants(world, proposal_id) == []

    stale = act(client, world, "alice", proposal_id, "accept-agreement", agreements={world.committees[0].id: 0})
    assert stale.status_code == 409  # not the version HOVON DAC has now
    accepted = act(client, world, "alice", proposal_id, "accept-agreement",
                   agreements={world.committees[0].id: 1})
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["state"] == "active"
    grants = _grants(world, proposal_id)
    assert len(grants) == 4 and {g.user_id for g in grants} == {world.users["alice"]}
    assert all(g.end == add_months(g.start, 12) for g in grants)
    again = act(client, world, "alice", proposal_id, "accept-agreement")
    assert again.status_code == 409  # nothing left to accept in an active proposal
    with world.app.app_context():
        assert list(audit.verify(db.session())) == []


def test_a_co_applicant_must_accept_too_and_removal_ends_only_their_grants(client, world):
    proposal_id = draft(client, world)["id"]
    co_id = join_by_mail(world, proposal_id, "bruno")
    assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    review_and_decide(client, world, proposal_id)

    assert act(client, world, "alice", proposal_id, "accept-agreement").get_json()["state"] == "agreement"
    assert act(client, world, "bruno", proposal_id, "accept-agreement").get_json()["state"] == "active"
    assert len(_grants(world, proposal_id)) == 8

    assert act(client, world, "bruno", proposal_id, "remove-co-applicant", co_applicant=co_id).status_code == 403
    removed = act(client, world, "alice", proposal_id, "remove-co-applicant", co_applicant=co_id)
    assert removed.status_code == 200, removed.get_json()
    grants = _grants(world, proposal_id)
    assert {g.end_reason for g in grants if g.user_id == world.users["bruno"]} == {"removed"}
    assert all(g.ended_at is None for g in grants if g.user_id == world.users["alice"])
    assert client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("bruno")).status_code == 404


def test_a_chair_revokes_only_their_committees_datasets_and_the_last_revocation_ends_the_project(client, world):
    proposal_id = approve(client, world)
    act(client, world, "alice", proposal_id, "accept-agreement")
    no_reason = act(client, world, "chris", proposal_id, "revoke")
    assert no_reason.status_code == 422
    assert act(client, world, "gus", proposal_id, "revoke", comment="Members may not.").status_code == 403
    revoked = act(client, world, "chris", proposal_id, "revoke", comment="The data were shared outside the project.")
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "active"
    grants = _grants(world, proposal_id)
    hovon = world.committees[0].id
    assert all((g.revoked_at is not None) == (g.committee_id == hovon) for g in grants)
    ended = act(client, world, "ivy", proposal_id, "revoke", comment="Following the HOVON DAC's finding.")
    assert ended.get_json()["state"] == "revoked"
    assert act(client, world, "adam", proposal_id, "revoke", comment="Nothing left.").status_code == 409


def test_a_renewal_is_linked_reviewed_again_and_replaces_the_original(client, world):
    proposal_id = approve(client, world, pids=world.datasets[2:])  # EPLN only: no agreement to accept
    assert client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()["state"] == "active"
    started = act(client, world, "alice", proposal_id, "renew")
    assert started.status_code == 200, started.get_json()
    events = client.get(f"/api/v1/requests/{proposal_id}/events", headers=world.headers("alice")).get_json()["items"]
    renewal_id = events[-1]["payload"]["linked"]
    assert act(client, world, "alice", proposal_id, "renew").status_code == 409  # one open renewal at a time
    renewal = client.get(f"/api/v1/requests/{renewal_id}", headers=world.headers("alice")).get_json()
    assert renewal["state"] == "draft" and renewal["kind"] == "renewal" and renewal["parent"] == proposal_id

    later = clock.now() + timedelta(days=60)
    with clock.frozen(later):
        assert act(client, world, "alice", renewal_id, "submit").status_code == 200
        sent = act(client, world, "olga", renewal_id, "send-to-review").get_json()
        review_id = sent["reviews"][0]["id"]
        review_act(client, world, "gus", review_id, "vote", vote="approve")
        review_act(client, world, "hana", review_id, "vote", vote="approve")
        assert review_act(client, world, "ivy", review_id, "decide").status_code == 200
    assert client.get(f"/api/v1/requests/{renewal_id}", headers=world.headers("alice")).get_json()["state"] == "active"
    original = client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()
    assert original["state"] == "closed"
    assert {g.end_reason for g in _grants(world, proposal_id)} == {"replaced"}
    assert {g.start for g in _grants(world, renewal_id)} == {later}


def test_closing_needs_the_final_report_and_ends_the_grants(client, world):
    proposal_id = approve(client, world, pids=world.datasets[2:])
    refused = act(client, world, "alice", proposal_id, "close")
    assert refused.status_code == 409 and "report" in refused.get_json()["errors"]  # no report filed yet
    unsure = act(client, world, "alice", proposal_id, "file-report", publications=["10.1000/xyz123"])
    assert unsure.status_code == 422 and "data_deleted" in unsure.get_json()["errors"]
    filed = act(client, world, "alice", proposal_id, "file-report", publications=["10.1000/xyz123", " "],
                data_deleted=True, comment="Relapse risk model published.")
    assert filed.status_code == 200
    assert act(client, world, "alice", proposal_id, "close").get_json()["state"] == "closed"
    assert {g.end_reason for g in _grants(world, proposal_id)} == {"closed"}


def test_an_amendment_goes_only_to_the_committees_of_what_it_adds_and_keeps_the_original_end(client, world):
    proposal_id = approve(client, world, pids=world.datasets[2:3])  # one EPLN dataset: no agreement, active
    original_end = {g.end for g in _grants(world, proposal_id)}
    assert act(client, world, "alice", proposal_id, "amend").status_code == 200
    linked = client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()["linked"]
    assert [(p["kind"], p["state"]) for p in linked] == [("amendment", "draft")]
    amendment_id = linked[0]["id"]
    unchanged = act(client, world, "alice", amendment_id, "submit")
    assert unchanged.status_code == 200
    nothing = act(client, world, "olga", amendment_id, "send-to-review")
    assert nothing.status_code == 409 and "datasets" in nothing.get_json()["errors"]  # it adds nothing
    assert act(client, world, "olga", amendment_id, "return", comment="Add what you need.").status_code == 200
    added = client.patch(f"/api/v1/requests/{amendment_id}", json={"datasets": [world.datasets[2], world.datasets[0]]},
                         headers=world.headers("alice"))
    assert added.status_code == 200, added.get_json()
    detail = added.get_json()
    assert detail["kind"] == "amendment" and detail["parent"] == proposal_id
    assert [c["field"] for c in detail["changes"]] == ["Requested datasets"]
    assert act(client, world, "alice", amendment_id, "resubmit").status_code == 200
    sent = act(client, world, "olga", amendment_id, "send-to-review").get_json()
    assert [r["committee"] for r in sent["reviews"]] == ["HOVON DAC"]  # EPLN's dataset stays approved
    review_id = sent["reviews"][0]["id"]
    for member in ("erin", "fay"):
        review_act(client, world, member, review_id, "vote", vote="approve")
    decided = review_act(client, world, "chris", review_id, "decide")
    assert decided.status_code == 200
    waiting = client.get(f"/api/v1/requests/{amendment_id}", headers=world.headers("alice")).get_json()
    assert waiting["state"] == "agreement" and waiting["outcome"] == "approved"
    assert act(client, world, "alice", amendment_id, "accept-agreement").get_json()["state"] == "active"
    grants = _grants(world, amendment_id)
    assert len(grants) == 2 and {g.end for g in grants} == original_end  # an amendment does not extend
    assert client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()["state"] == "closed"


# --- the review's findings: each a way access could outlive a decision ------------------------------


def _linked_draft(client, world, proposal_id, action):
    assert act(client, world, "alice", proposal_id, action).status_code == 200
    return client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()["linked"][-1]["id"]


def test_a_recused_chair_cannot_revoke(client, world):
    with world.app.app_context():
        accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=world.users["erin"], role="chair",
                                                         scope_id=world.committees[0].id))
    proposal_id = draft(client, world, pids=world.datasets[:2])["id"]
    act(client, world, "alice", proposal_id, "submit")
    review_id = act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"][0]["id"]
    review_act(client, world, "chris", review_id, "declare-conflict", comment="I co-wrote the protocol.")
    for member in ("erin", "fay"):
        review_act(client, world, member, review_id, "vote", vote="approve")
    assert review_act(client, world, "erin", review_id, "decide").status_code == 200
    act(client, world, "alice", proposal_id, "accept-agreement")
    assert act(client, world, "chris", proposal_id, "revoke", comment="Recused, yet trying.").status_code == 403
    assert act(client, world, "erin", proposal_id, "revoke", comment="The data left the environment.").status_code == 200


def test_an_amendment_does_not_bring_back_revoked_access(client, world):
    proposal_id = approve(client, world)
    act(client, world, "alice", proposal_id, "accept-agreement")
    assert act(client, world, "chris", proposal_id, "revoke", comment="Shared outside the project.").status_code == 200
    amendment_id = _linked_draft(client, world, proposal_id, "amend")
    carried = client.get(f"/api/v1/requests/{amendment_id}", headers=world.headers("alice")).get_json()
    assert sorted(d["pid"] for d in carried["datasets"]) == world.datasets[2:]  # not the revoked HOVON ones
    client.patch(f"/api/v1/requests/{amendment_id}", json={"methods": "Also a competing-risks model."},
                 headers=world.headers("alice"))
    act(client, world, "alice", amendment_id, "submit")
    assert review_and_decide(client, world, amendment_id) == ["EPLN DAC"]  # the committees of what it carries


def test_a_partly_rejected_amendment_leaves_the_originals_other_access(client, world):
    proposal_id = approve(client, world)
    act(client, world, "alice", proposal_id, "accept-agreement")
    amendment_id = _linked_draft(client, world, proposal_id, "amend")
    join_by_mail(world, amendment_id, "bruno")  # a new co-applicant: every committee reviews
    act(client, world, "alice", amendment_id, "submit")
    assert review_and_decide(client, world, amendment_id, reject=("EPLN DAC",)) == ["HOVON DAC", "EPLN DAC"]
    accepted = [act(client, world, who, amendment_id, "accept-agreement").get_json()["state"] for who in ("alice", "bruno")]
    assert accepted[-1] == "active"
    original = _grants(world, proposal_id)
    assert {(g.dataset_id, g.end_reason) for g in original} == {
        (g.dataset_id, "replaced" if g.committee_id == world.committees[0].id else None) for g in original}
    assert client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")).get_json()["state"] == "active"


def test_a_removed_co_applicant_leaves_the_renewal_under_way_and_hears_no_more(client, world):
    proposal_id = draft(client, world, pids=world.datasets[2:])["id"]
    co_id = join_by_mail(world, proposal_id, "bruno")
    act(client, world, "alice", proposal_id, "submit")
    review_and_decide(client, world, proposal_id)
    renewal_id = _linked_draft(client, world, proposal_id, "renew")
    assert act(client, world, "alice", proposal_id, "remove-co-applicant", co_applicant=co_id).status_code == 200
    renewal = client.get(f"/api/v1/requests/{renewal_id}", headers=world.headers("alice")).get_json()
    assert [(c["email"], c["removed"]) for c in renewal["co_applicants"]] == [("bruno@example.org", True)]
    act(client, world, "alice", renewal_id, "submit")
    review_and_decide(client, world, renewal_id)
    assert {g.user_id for g in _grants(world, renewal_id)} == {world.users["alice"]}
    act(client, world, "ivy", renewal_id, "revoke", comment="Found on a shared drive.")
    with world.app.app_context():
        told = db.session().scalars(select(OutboxMail.subject).where(OutboxMail.to_address == "bruno@example.org")).all()
    assert not any("revoked" in subject.lower() for subject in told), told


def test_after_an_admin_closes_the_project_the_applicant_can_still_file_the_report(client, world):
    proposal_id = approve(client, world, pids=world.datasets[2:])
    assert act(client, world, "adam", proposal_id, "close").get_json()["state"] == "closed"
    filed = act(client, world, "alice", proposal_id, "file-report", data_deleted=True, publications=[])
    assert filed.status_code == 200, filed.get_json()


def test_an_amendment_that_changes_the_text_goes_to_every_committee(client, world):
    proposal_id = approve(client, world)
    act(client, world, "alice", proposal_id, "accept-agreement")
    amendment_id = _linked_draft(client, world, proposal_id, "amend")
    client.patch(f"/api/v1/requests/{amendment_id}", json={"objectives": "Also relapse after transplant."},
                 headers=world.headers("alice"))
    act(client, world, "alice", amendment_id, "submit")
    assert review_and_decide(client, world, amendment_id) == ["HOVON DAC", "EPLN DAC"]

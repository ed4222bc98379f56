"""The whole road over the API: draft, submit, return, resubmit, review by two committees with
different rules, a conflict of interest, a confirmed and an overridden decision, the combined outcome
and an audit trail that verifies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from harmony import db
from harmony.access_requests import audit, co_applicants
from harmony.access_requests.models import Review
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput
from harmony.errors import Conflict
from harmony.notifications.models import Notice, OutboxMail
from tests.access_requests.conftest import act, draft, review_act


def test_a_proposal_for_two_committees_from_draft_to_decision(client, world):
    created = draft(client, world)
    pid = created["id"]
    assert created["state"] == "draft" and created["actions"] == ["submit", "delete"]
    assert {d["committee"] for d in created["datasets"]} == {"HOVON DAC", "EPLN DAC"}
    assert created["problems"] == {}

    assert act(client, world, "alice", pid, "submit").get_json()["state"] == "submitted"
    returned = act(client, world, "olga", pid, "return", comment="Please describe the imputation model.")
    assert returned.status_code == 200 and returned.get_json()["state"] == "returned"
    patched = client.patch(f"/api/v1/requests/{pid}", json={"methods": "Cox regression; MICE with 20 imputations."},
                           headers=world.headers("alice"))
    assert patched.status_code == 200
    assert act(client, world, "alice", pid, "resubmit").get_json()["state"] == "submitted"
    sent = act(client, world, "olga", pid, "send-to-review").get_json()
    assert sent["state"] == "under_review"
    reviews = {r["committee"]: r["id"] for r in sent["reviews"]}

    first, second = reviews["HOVON DAC"], reviews["EPLN DAC"]
    assert review_act(client, world, "dave", first, "declare-conflict", comment="I co-authored the protocol.").status_code == 200
    assert review_act(client, world, "dave", first, "vote", vote="approve").status_code == 403  # recused
    assert review_act(client, world, "erin", first, "vote", vote="approve", comment="Sound plan.").status_code == 200
    hidden = client.get(f"/api/v1/reviews/{first}", headers=world.headers("fay")).get_json()
    assert "votes" not in hidden  # fay has not voted yet
    assert review_act(client, world, "fay", first, "vote", vote="approve-with-conditions",
                      comment="Only children under 18 in one model.").status_code == 200
    seen = client.get(f"/api/v1/reviews/{first}", headers=world.headers("fay")).get_json()
    assert {v["voter"] for v in seen["votes"]} == {"Erin", "Fay"}
    chair_view = client.get(f"/api/v1/reviews/{first}", headers=world.headers("chris")).get_json()
    assert chair_view["computed_outcome"] == "approved" and chair_view["tally"]["quorum_met"]
    decided = review_act(client, world, "chris", first, "decide")
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["outcome"] == "approved"

    assert review_act(client, world, "gus", second, "vote", vote="approve").status_code == 200
    hana = review_act(client, world, "hana", second, "vote", vote="reject", comment="Consent does not cover it.")
    assert hana.status_code == 200
    no_reason = review_act(client, world, "ivy", second, "decide", outcome="approved")
    assert no_reason.status_code == 409 and "reason" in no_reason.get_json()["errors"]
    override = review_act(client, world, "ivy", second, "decide", outcome="approved",
                          reason="The consent form's section 4 covers secondary research.")
    assert override.status_code == 200 and override.get_json()["overridden"] is True

    final = client.get(f"/api/v1/requests/{pid}", headers=world.headers("alice")).get_json()
    assert final["state"] == "agreement" and final["outcome"] == "approved"  # HOVON DAC has an agreement
    assert {d["outcome"] for d in final["datasets"]} == {"approved"}

    events = client.get(f"/api/v1/requests/{pid}/events", headers=world.headers("olga")).get_json()["items"]
    assert [e["action"] for e in events] == ["create", "submit", "return", "resubmit", "send-to-review",
                                             "declare-conflict", "vote", "vote", "decide", "vote", "vote", "decide"]
    assert events[3]["payload"]["changed"] == ["Methods and statistical analysis plan"]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(events, events[1:], strict=False))
    applicant_view = client.get(f"/api/v1/requests/{pid}/events", headers=world.headers("alice")).get_json()["items"]
    assert "vote" not in {e["action"] for e in applicant_view}  # single votes stay with the committees
    with world.app.app_context():
        assert list(audit.verify(db.session())) == []


def test_a_stale_action_gets_409_and_changes_nothing(client, world):
    pid = draft(client, world)["id"]
    assert act(client, world, "alice", pid, "submit").status_code == 200
    again = act(client, world, "alice", pid, "submit")
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    events = client.get(f"/api/v1/requests/{pid}/events", headers=world.headers("alice")).get_json()["items"]
    assert [e["action"] for e in events] == ["create", "submit"]


def test_submitting_lists_every_problem_at_once_and_keeps_the_draft(client, world):
    response = client.post("/api/v1/requests", json={"title": "Only a title", "datasets": world.datasets[:1]},
                           headers=world.headers("alice"))
    pid = response.get_json()["id"]
    refused = act(client, world, "alice", pid, "submit")
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/problems/state-conflict")
    errors = refused.get_json()["errors"]
    assert {"lay_summary", "abstract", "objectives", "methods", "purpose", "duration_months", "institution",
            "data_security_plan"} <= set(errors)
    kept = client.get(f"/api/v1/requests/{pid}", headers=world.headers("alice")).get_json()
    assert kept["state"] == "draft" and kept["title"] == "Only a title"


def test_a_co_applicant_is_invited_by_mail_and_joins_with_the_link(client, world):
    pid = draft(client, world)["id"]
    invited = client.post(f"/api/v1/requests/{pid}/co-applicants", json={"email": "Bruno@Example.org"},
                          headers=world.headers("alice"))
    assert invited.status_code == 201 and invited.get_json() == {"email": "bruno@example.org", "joined": False}
    again = client.post(f"/api/v1/requests/{pid}/co-applicants", json={"email": "bruno@example.org"},
                        headers=world.headers("alice"))
    assert again.status_code == 409 and "invited already" in again.get_json()["errors"]["email"][0]
    assert client.get(f"/api/v1/requests/{pid}", headers=world.headers("bruno")).status_code == 404
    by_bruno = client.post(f"/api/v1/requests/{pid}/co-applicants", json={"email": "x@example.org"},
                           headers=world.headers("bruno"))
    assert by_bruno.status_code == 404  # not his proposal (yet)
    with world.app.app_context():
        mail = db.session().scalar(select(OutboxMail).where(OutboxMail.to_address == "bruno@example.org"))
        token = mail.body_text.split("/requests/invitations/", 1)[1].split()[0]
        co_applicants.accept_invitation(world.principal("bruno"), token)
        with pytest.raises(Conflict):  # the link is used up
            co_applicants.accept_invitation(world.principal("erin"), token)
    seen = client.get(f"/api/v1/requests/{pid}", headers=world.headers("bruno")).get_json()
    assert [(c["email"], c["joined"], c["removed"]) for c in seen["co_applicants"]] == [("bruno@example.org", True, False)]
    assert seen["actions"] == []  # only the applicant submits
    events = client.get(f"/api/v1/requests/{pid}/events", headers=world.headers("alice")).get_json()["items"]
    assert [e["action"] for e in events] == ["create", "invite", "join"]


def test_each_step_tells_the_people_who_act_next_naming_the_proposal(client, world):
    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    act(client, world, "olga", pid, "return", comment="Please add the funding.")
    act(client, world, "alice", pid, "resubmit")
    act(client, world, "olga", pid, "send-to-review")
    with world.app.app_context():
        notices = db.session().execute(select(Notice.user_id, Notice.text, Notice.link).order_by(Notice.id)).all()
    told = [(user, text) for user, text, _link in notices]
    users = world.users
    title = "\u201cRelapse in AML across trials\u201d"
    assert (users["olga"], f"{title}: Alice submitted the proposal; it waits for screening.") in told
    assert (users["olga"], f"{title}: Alice resubmitted the proposal; it waits for screening.") in told
    assert (users["alice"], f"{title}: The coordinator returned the proposal for revision.") in told
    reviewers = {user for user, text, link in notices if link.startswith("/reviews/")}
    assert reviewers == {users[s] for s in ("dave", "erin", "fay", "chris", "gus", "hana", "ivy")}


def test_reviews_done_come_a_page_at_a_time(client, world):
    for _ in range(3):
        pid = draft(client, world)["id"]
        act(client, world, "alice", pid, "submit")
        act(client, world, "olga", pid, "send-to-review")
        act(client, world, "alice", pid, "withdraw")
    open_only = client.get("/api/v1/reviews", headers=world.headers("chris")).get_json()
    assert open_only == {"items": []}
    first = client.get("/api/v1/reviews?all=1&per_page=2", headers=world.headers("chris")).get_json()
    assert (first["done_total"], first["pages"], len(first["items"])) == (3, 2, 2)
    last = client.get("/api/v1/reviews?all=1&per_page=2&page=2", headers=world.headers("chris")).get_json()
    assert len(last["items"]) == 1 and {i["state"] for i in first["items"] + last["items"]} == {"cancelled"}
    assert len({i["id"] for i in first["items"] + last["items"]}) == 3
    page = client.get("/reviews?all=1&page=2")  # the page needs a signed-in person: a visitor is sent to sign in
    assert page.status_code == 302


def test_when_the_chair_is_recused_a_newly_appointed_chair_decides(client, world):
    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    reviews = {r["committee"]: r["id"] for r in act(client, world, "olga", pid, "send-to-review").get_json()["reviews"]}
    first = reviews["HOVON DAC"]
    assert review_act(client, world, "chris", first, "declare-conflict", comment="I lead one of the trials.").status_code == 200
    for member in ("dave", "erin"):
        assert review_act(client, world, member, first, "vote", vote="approve").status_code == 200
    assert review_act(client, world, "chris", first, "decide").status_code == 403  # recused: not the chair here
    with world.app.app_context():
        accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=world.users["fay"], role="chair",
                                                         scope_id=world.committees[0].id))
    decided = review_act(client, world, "fay", first, "decide")
    assert decided.status_code == 200 and decided.get_json()["outcome"] == "approved"


def test_the_wait_for_an_answer_does_not_eat_the_voting_time(client, world):
    from datetime import timedelta

    from harmony import clock

    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    review = act(client, world, "olga", pid, "send-to-review").get_json()["reviews"][0]
    with world.app.app_context():
        deadline = db.session().get(Review, review["id"]).deadline
    assert review_act(client, world, "chris", review["id"], "ask-question", comment="Which consent form?").status_code == 200
    with clock.frozen(clock.now() + timedelta(days=20)):  # the deadline passes while the committee waits
        assert "0 overdue" in world.app.test_cli_runner().invoke(args=["requests", "tick"]).output
        assert act(client, world, "alice", pid, "answer", comment="The 2015 consent, section 4.").status_code == 200
        with world.app.app_context():
            extended = db.session().get(Review, review["id"]).deadline
        assert timedelta(days=20) <= extended - deadline < timedelta(days=20, minutes=1)
        assert "0 overdue" in world.app.test_cli_runner().invoke(args=["requests", "tick"]).output


def test_huge_page_numbers_are_refused_or_clamped_not_errors(client, world):
    huge = "99999999999999999999"
    refused = client.get(f"/api/v1/requests?page={huge}", headers=world.headers("alice"))
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    with world.app.app_context():
        from harmony.pagination import paginate

        page = paginate(select(Review).order_by(Review.id), int(huge), 25)
    assert page.items == [] and page.page == 10**6


def test_a_file_is_a_pdf_only_when_it_starts_as_one(client, world):
    from io import BytesIO

    pid = draft(client, world)["id"]

    def upload(data: bytes):
        return client.post(f"/api/v1/requests/{pid}/attachments", headers=world.headers("alice"),
                           data={"kind": "ethics-approval", "file": (BytesIO(data), "approval.pdf")})

    assert upload(b"<html><script>alert(1)</script><!-- %PDF-1.4 --></html>").status_code == 422
    assert upload(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").status_code == 201


def test_the_screening_pages_are_for_coordinators(client, world):
    from tests.identity import sign_in

    pid = draft(client, world)["id"]
    act(client, world, "alice", pid, "submit")
    browser = world.app.test_client()
    sign_in(browser, "zed")  # a researcher with no part in it
    assert browser.get(f"/screening/{pid}").status_code == 403
    assert browser.get("/screening").status_code == 403

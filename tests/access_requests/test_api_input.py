"""Hostile and bad input to the access-request API: unknown actions and fields, wrong types, values
outside their lists, bodies that are not JSON, uploads that are not PDFs or too large or carry paths
in their names, attachment ids of other proposals, and markup in every text field."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from harmony import db
from harmony.access_requests.attachments import safe_filename
from harmony.access_requests.content import TEXT_FIELDS
from tests.access_requests.conftest import act, build_world, draft, review_act
from tests.access_requests.test_api_access import PDF, upload
from tests.access_requests.test_permission_table import join_as_co_applicant
from tests.conftest import empty_tables, make_app

PROBLEM = "application/problem+json"
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.pdf$")


def refused(answer, status: int, *fields: str) -> dict:
    """The answer is a problem with this status (and, for 422 and 409, errors naming these fields)."""
    assert (answer.status_code, answer.mimetype) == (status, PROBLEM), (answer.status_code, answer.get_data()[:300])
    body = answer.get_json()
    assert body["status"] == status
    if fields:
        assert set(fields) <= set(body.get("errors", {})), body
    return body


@pytest.fixture
def files(app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    return tmp_path / "attachments"


def stored_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def under_review(client, world) -> tuple[int, int]:
    proposal_id = draft(client, world, pids=world.datasets[:2])["id"]
    assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    return proposal_id, act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"][0]["id"]


def event_count(client, world, proposal_id: int) -> int:
    return len(client.get(f"/api/v1/requests/{proposal_id}/events", headers=world.headers("olga")).get_json()["items"])


def test_the_openapi_input_schemas_are_the_models_the_api_validates_with():
    from harmony.access_requests.actions import ActionInput
    from harmony.access_requests.committees import CommitteeInput
    from harmony.access_requests.content import ProposalContent
    from harmony.access_requests.models import VOTES
    from harmony.api.openapi import document

    schemas = document("http://harmony.test")["components"]["schemas"]
    for model in (ProposalContent, ActionInput, CommitteeInput):
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields), model
        assert schemas[model.__name__]["additionalProperties"] is False
    assert set(schemas["ProposalCreate"]["properties"]) == {*ProposalContent.model_fields, "datasets"}
    assert {"enum": list(VOTES)} in schemas["ActionInput"]["properties"]["vote"]["anyOf"]


def test_an_unknown_action_is_a_404_problem(client, world):
    proposal_id, review_id = under_review(client, world)
    before = event_count(client, world, proposal_id)
    for name in ("frobnicate", "vote", "approve", "SUBMIT", "submit%20", "..%2F..%2Fme"):
        refused(act(client, world, "alice", proposal_id, name), 404)
    for name in ("frobnicate", "submit", "withdraw", "Vote"):
        refused(review_act(client, world, "chris", review_id, name), 404)
    refused(act(client, world, "bruno", proposal_id, "frobnicate"), 404)  # nor for whoever may not see it
    assert event_count(client, world, proposal_id) == before


def test_unknown_fields_are_named_in_a_422(client, world):
    proposal_id = draft(client, world)["id"]
    headers = world.headers("alice")
    refused(client.post("/api/v1/requests", json={"title": "T", "colour": "red", "applicant_id": 7}, headers=headers),
            422, "colour", "applicant_id")
    refused(client.patch(f"/api/v1/requests/{proposal_id}", json={"state": "submitted"}, headers=headers), 422, "state")
    refused(client.patch(f"/api/v1/requests/{proposal_id}", json={"purpose": {"code": "HMB", "commerce": True}},
                         headers=headers), 422, "purpose.commerce")
    refused(act(client, world, "alice", proposal_id, "submit", comment="Go.", state="decided"), 422, "state")
    refused(client.post("/api/v1/committees", json={"name": "New DAC", "members": ["gus"]},
                        headers=world.headers("adam")), 422, "members")
    kept = client.get(f"/api/v1/requests/{proposal_id}", headers=headers).get_json()
    assert kept["state"] == "draft" and "colour" not in kept["content"] and len(kept["co_applicants"]) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"title": 42}, "title"), ({"title": ["a"]}, "title"), ({"duration_months": "twelve"}, "duration_months"),
    ({"duration_months": 1.5}, "duration_months"), ({"duration_months": 61}, "duration_months"),
    ({"purpose": "HMB"}, "purpose"), ({"purpose": {"code": "XYZ"}}, "purpose.code"),
    ({"publication_commitment": "maybe"}, "publication_commitment"), ({"datasets": "HM-000001"}, "datasets"),
    ({"datasets": [1, 2]}, "datasets"), ({"title": "x" * 301}, "title"),
])
def test_wrong_types_are_a_422_naming_the_field(client, world, body, field):
    refused(client.post("/api/v1/requests", json={"title": "T", **body}, headers=world.headers("alice")), 422, field)
    assert client.get("/api/v1/requests", headers=world.headers("alice")).get_json()["total"] == 0


def test_wrong_types_in_actions_and_committees(client, world):
    proposal_id, review_id = under_review(client, world)
    refused(review_act(client, world, "erin", review_id, "vote", vote=["approve"]), 422, "vote")
    refused(review_act(client, world, "erin", review_id, "vote", vote="approve", comment=5), 422, "comment")
    refused(act(client, world, "alice", proposal_id, "withdraw", comment={"text": "x"}), 422, "comment")
    refused(client.post("/api/v1/committees", json={"name": "New DAC", "quorum": "lots"},
                        headers=world.headers("adam")), 422, "quorum")
    refused(client.get("/api/v1/requests?page=abc", headers=world.headers("alice")), 422)
    refused(client.get("/api/v1/requests?per_page=1000", headers=world.headers("alice")), 422)
    refused(client.post("/api/v1/requests", data="[1, 2]", content_type="application/json",
                        headers=world.headers("alice")), 400)
    refused(client.post("/api/v1/requests", data='{"title": "unterminated', content_type="application/json",
                        headers=world.headers("alice")), 400)
    refused(client.post("/api/v1/requests", data='{"title": NaN}', content_type="application/json",
                        headers=world.headers("alice")), 400)


def test_a_vote_outside_the_list_and_an_override_without_reason_are_refused(client, world):
    proposal_id, review_id = under_review(client, world)
    before = event_count(client, world, proposal_id)
    for value in ("yes", "APPROVE", "approved", ""):
        refused(review_act(client, world, "erin", review_id, "vote", vote=value), 422, "vote")
    refused(review_act(client, world, "erin", review_id, "vote", comment="I forgot the vote."), 422, "vote")
    # No votes: the rule computes no outcome, so any outcome is an override and needs a reason. The body is
    # well-formed; the votes so far (the state) make the reason necessary: 409, not 422.
    refused(review_act(client, world, "chris", review_id, "decide", outcome="approved"), 409, "reason")
    refused(review_act(client, world, "chris", review_id, "decide", outcome="approved", reason="   "), 409, "reason")
    refused(review_act(client, world, "chris", review_id, "decide", outcome="approved", reason="Because."), 409,
            "reason")
    refused(review_act(client, world, "chris", review_id, "decide"), 409, "outcome")  # none computed, none chosen
    refused(review_act(client, world, "chris", review_id, "decide", outcome="maybe", reason="A good long reason."),
            422, "outcome")
    review = client.get(f"/api/v1/reviews/{review_id}", headers=world.headers("chris")).get_json()
    assert review["state"] == "voting" and review["votes"] == [] and review["outcome"] is None
    assert event_count(client, world, proposal_id) == before


def test_a_body_that_is_not_json_is_a_415(client, world):
    proposal_id, review_id = under_review(client, world)
    alice, chris = world.headers("alice"), world.headers("chris")
    for content_type, data in (("application/x-www-form-urlencoded", "title=Mine"), ("text/plain", '{"title": "x"}'),
                               ("application/xml", "<title>x</title>")):
        refused(client.post("/api/v1/requests", data=data, content_type=content_type, headers=alice), 415)
        refused(client.post(f"/api/v1/requests/{proposal_id}/actions/withdraw", data=data, content_type=content_type,
                            headers=alice), 415)
        refused(client.post(f"/api/v1/reviews/{review_id}/actions/vote", data=data, content_type=content_type,
                            headers=chris), 415)
        refused(client.post("/api/v1/committees", data=data, content_type=content_type,
                            headers=world.headers("adam")), 415)
    returned_draft = draft(client, world)["id"]
    refused(client.patch(f"/api/v1/requests/{returned_draft}", data="title=x", content_type="text/plain",
                         headers=alice), 415)
    assert client.get(f"/api/v1/requests/{proposal_id}", headers=alice).get_json()["state"] == "under_review"
    assert client.get("/api/v1/committees").get_json()["items"].__len__() == 2


def test_an_upload_that_is_not_a_pdf_is_refused_and_leaves_no_file(client, world, files):
    proposal_id = draft(client, world)["id"]
    for data in (b"MZ\x90\x00 an executable", b"<html><script>alert(1)</script></html>", b"", b"%PD"):
        refused(upload(client, world, "alice", proposal_id, data=data, filename="ethics.pdf"), 422, "file")
    refused(upload(client, world, "alice", proposal_id, kind="selfie"), 422, "kind")
    missing = client.post(f"/api/v1/requests/{proposal_id}/attachments", data={"kind": "ethics-approval"},
                          headers=world.headers("alice"), content_type="multipart/form-data")
    refused(missing, 400)
    assert stored_files(files) == []
    assert client.get(f"/api/v1/requests/{proposal_id}/attachments", headers=world.headers("alice")).get_json() == {
        "items": []}


@pytest.fixture
def small_app(database_url, dev_provider, tmp_path):
    """Like the `app` fixture, with attachments limited to 1 KiB in the test's own folder."""
    application = make_app(database_url, SEARCH_INDEX_DIR=str(tmp_path / "index"),
                           ATTACHMENT_DIR=str(tmp_path / "attachments"), ATTACHMENT_MAX_BYTES=1024)
    with application.app_context():
        empty_tables()
    yield application
    with application.app_context():
        db.engine().dispose()


def test_an_oversized_upload_is_refused_and_leaves_no_file(small_app, tmp_path):
    world, client = build_world(small_app), small_app.test_client()
    proposal_id = draft(client, world)["id"]
    folder = tmp_path / "attachments"
    for size in (1025, 64 * 1024 + 7, 300 * 1024):
        big = PDF + b"0" * (size - len(PDF))
        refused(upload(client, world, "alice", proposal_id, data=big), 422, "file")
        assert stored_files(folder) == []
    exact = PDF + b"0" * (1024 - len(PDF))
    stored = upload(client, world, "alice", proposal_id, data=exact)
    assert stored.status_code == 201 and stored.get_json()["size"] == 1024
    assert len(stored_files(folder)) == 1


def test_a_path_in_the_file_name_is_stored_and_served_under_a_safe_name(client, world, files, tmp_path):
    proposal_id = draft(client, world)["id"]
    names = {
        "../../etc/passwd.pdf": "passwd.pdf",
        '<script>alert(1)</script>.pdf': "script.pdf",
        "résumé — final.pdf": "resume  final.pdf",
        "/": "attachment.pdf",
        "approval": "approval.pdf",
    }
    for sent, safe in names.items():
        stored = upload(client, world, "alice", proposal_id, filename=sent)
        assert stored.status_code == 201, stored.get_json()
        attachment = stored.get_json()
        assert attachment["filename"] == safe, sent
        assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
        with client.get(attachment["url"], headers=world.headers("alice")) as download:
            assert download.status_code == 200 and download.mimetype == "application/pdf"
            assert download.headers["Content-Disposition"] in (f"attachment; filename={safe}",
                                                               f'attachment; filename="{safe}"')
            assert download.data == PDF
    # Backslashes and quotes do not survive multipart quoting: such names are checked on the function itself.
    assert safe_filename("..\\..\\windows\\system32\\ethics.pdf") == "ethics.pdf"
    assert safe_filename('a"; filename=evil.exe\r\nX-Injected: 1.pdf') == "a filenameevil.exeX-Injected 1.pdf"
    assert all(STORED_NAME.match(name) for name in stored_files(files))
    assert len(stored_files(files)) == len(names)
    assert not (tmp_path / "etc").exists() and not (files.parent.parent / "etc").exists()


def test_another_proposals_attachment_id_is_a_404(client, world, files):
    first, second = draft(client, world)["id"], draft(client, world)["id"]
    bruno = draft(client, world, "bruno")["id"]
    attachment = upload(client, world, "alice", first).get_json()
    with client.get(attachment["url"], headers=world.headers("alice")) as download:
        assert download.status_code == 200
    for proposal_id, subject in ((second, "alice"), (bruno, "bruno"), (bruno, "alice"), (first, "bruno")):
        answer = client.get(f"/api/v1/requests/{proposal_id}/attachments/{attachment['id']}",
                            headers=world.headers(subject))
        refused(answer, 404)
    refused(client.get(f"/api/v1/requests/{first}/attachments/{attachment['id'] + 1000}",
                       headers=world.headers("alice")), 404)


MARKUP = '<script>alert("{0}")</script><img src=x onerror="alert(1)"> &amp; &lt;b&gt; \'{0}\' </textarea>'


def test_markup_in_every_text_field_comes_back_verbatim_as_json(client, world):
    fields = {name: MARKUP.format(name) for name in TEXT_FIELDS}
    created = client.post("/api/v1/requests", json={**fields, "datasets": world.datasets[:2],
                                                    "purpose": {"code": "HMB"}, "duration_months": 12},
                          headers=world.headers("alice"))
    assert created.status_code == 201, created.get_json()
    proposal_id = created.get_json()["id"]
    join_as_co_applicant(world, proposal_id)
    assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    comments = {step: MARKUP.format(step) for step in ("return", "vote", "ask-question", "answer", "decide")}
    assert act(client, world, "olga", proposal_id, "return", comment=comments["return"]).status_code == 200
    assert act(client, world, "alice", proposal_id, "resubmit").status_code == 200
    review_id = act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"][0]["id"]
    assert review_act(client, world, "erin", review_id, "vote", vote="approve",
                      comment=comments["vote"]).status_code == 200
    assert review_act(client, world, "chris", review_id, "ask-question",
                      comment=comments["ask-question"]).status_code == 200
    assert act(client, world, "bruno", proposal_id, "answer", comment=comments["answer"]).status_code == 200
    assert review_act(client, world, "chris", review_id, "decide", outcome="rejected",
                      reason=comments["decide"]).status_code == 200
    committee = client.post("/api/v1/committees", json={"name": MARKUP.format("name")[:200],
                                                        "agreement": MARKUP.format("agreement")},
                            headers=world.headers("adam"))
    assert committee.status_code == 201, committee.get_json()

    answers = {
        "proposal": client.get(f"/api/v1/requests/{proposal_id}", headers=world.headers("alice")),
        "list": client.get("/api/v1/requests", headers=world.headers("alice")),
        "events": client.get(f"/api/v1/requests/{proposal_id}/events", headers=world.headers("olga")),
        "review": client.get(f"/api/v1/reviews/{review_id}", headers=world.headers("chris")),
        "committees": client.get("/api/v1/committees", headers=world.headers("adam")),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert answer.mimetype == "application/json", name  # never text/html, so never rendered as a page
        assert answer.headers["X-Content-Type-Options"] == "nosniff", name
    assert answers["proposal"].get_json()["content"] == {**answers["proposal"].get_json()["content"], **fields}
    assert answers["list"].get_json()["items"][0]["title"] == fields["title"]
    events = {event["action"]: event for event in answers["events"].get_json()["items"]}
    for step in ("return", "vote", "ask-question", "answer"):
        assert events[step]["comment"] == comments[step], step
    assert events["decide"]["payload"]["reason"] == comments["decide"]
    review = answers["review"].get_json()
    assert review["decision_reason"] == comments["decide"]
    assert review["votes"][0]["comment"] == comments["vote"]
    assert review["questions"] == [{**review["questions"][0], "text": comments["ask-question"],
                                    "answer": comments["answer"]}]
    made = next(c for c in answers["committees"].get_json()["items"] if c["id"] == committee.get_json()["id"])
    assert (made["name"], made["agreement"]) == (MARKUP.format("name")[:200], MARKUP.format("agreement"))
    raw = answers["proposal"].get_data(as_text=True)
    assert "&lt;script" not in raw and "\\u003cscript" not in raw  # not HTML-escaped either: verbatim JSON


def test_an_upload_as_someone_else_or_after_submission_is_refused(client, world, files):
    proposal_id = draft(client, world)["id"]
    join_as_co_applicant(world, proposal_id)
    assert upload(client, world, "bruno", proposal_id).status_code == 201  # co-applicants may attach
    assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    refused(upload(client, world, "alice", proposal_id), 409)
    refused(upload(client, world, "olga", proposal_id), 403)
    refused(upload(client, world, "gus", proposal_id), 404)
    assert len(stored_files(files)) == 1
    body = io.BytesIO(PDF)
    answer = client.post(f"/api/v1/requests/{proposal_id}/attachments", data=body.read(),
                         content_type="application/pdf", headers=world.headers("alice"))
    refused(answer, 400)

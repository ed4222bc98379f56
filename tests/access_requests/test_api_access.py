"""Who may see what over the JSON API: proposals, their attachments and audit trails, reviews and their
votes, lists, and tokens. Every answer checked here is also checked against the OpenAPI document's
schema for it, so the document describes what clients really get."""

from __future__ import annotations

import io

import pytest

from tests.access_requests.conftest import act, draft, review_act
from tests.access_requests.test_permission_table import join_as_co_applicant

PROBLEM = "application/problem+json"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def files(app, tmp_path):
    """Attachments go to the test's own folder, not instance/."""
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    return tmp_path / "attachments"


@pytest.fixture
def conforms(client):
    """`conforms(answer, "Proposal")`: the JSON answer is valid against the OpenAPI document's schema."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    document = client.get("/api/v1/openapi.json").get_json()
    registry = referencing.Registry().with_resource(
        "urn:harmony:openapi", referencing.Resource.from_contents(document, referencing.jsonschema.DRAFT202012))

    def check(answer, schema_name: str):
        expected = PROBLEM if schema_name == "Problem" else "application/json"
        assert answer.mimetype == expected, (answer.status_code, answer.get_data(as_text=True)[:300])
        schema = {"$ref": f"urn:harmony:openapi#/components/schemas/{schema_name}"}
        jsonschema.Draft202012Validator(schema, registry=registry).validate(answer.get_json())
        return answer.get_json()

    return check


def get(client, world, subject, path, **query):
    return client.get(path, query_string=query, headers=world.headers(subject))


def upload(client, world, subject, proposal_id, data=PDF, filename="ethics.pdf", kind="ethics-approval"):
    return client.post(f"/api/v1/requests/{proposal_id}/attachments", headers=world.headers(subject),
                       data={"file": (io.BytesIO(data), filename), "kind": kind}, content_type="multipart/form-data")


def under_review(client, world, pids, subject="alice") -> tuple[int, dict[str, int]]:
    """A proposal for `pids`, sent to the committees: its id and its reviews by committee name."""
    proposal_id = draft(client, world, subject, pids=pids)["id"]
    assert act(client, world, subject, proposal_id, "submit").status_code == 200
    sent = act(client, world, "olga", proposal_id, "send-to-review")
    assert sent.status_code == 200, sent.get_json()
    return proposal_id, {review["committee"]: review["id"] for review in sent.get_json()["reviews"]}


def test_a_researcher_cannot_read_another_researchers_proposal(client, world, files, conforms):
    proposal_id = draft(client, world, "alice")["id"]
    stored = upload(client, world, "alice", proposal_id)
    assert stored.status_code == 201, stored.get_json()
    attachment = conforms(stored, "Attachment")
    paths = [f"/api/v1/requests/{proposal_id}", f"/api/v1/requests/{proposal_id}/events",
             f"/api/v1/requests/{proposal_id}/attachments", attachment["url"]]
    conforms(get(client, world, "alice", paths[0]), "Proposal")
    conforms(get(client, world, "alice", paths[1]), "EventList")
    conforms(get(client, world, "alice", paths[2]), "AttachmentList")
    with get(client, world, "alice", paths[3]) as download:
        assert download.status_code == 200 and download.data == PDF

    for state in ("draft", "submitted"):
        for subject in ("bruno", "olga", "dave"):  # a coordinator sees no drafts, a member nothing before review
            if (subject, state) == ("olga", "submitted"):
                continue
            for path in paths:
                answer = get(client, world, subject, path)
                assert answer.status_code == 404, (subject, state, path)
                assert conforms(answer, "Problem")["type"].endswith("/not-found")
        for refused in (
            client.patch(paths[0], json={"title": "Mine now"}, headers=world.headers("bruno")),
            upload(client, world, "bruno", proposal_id),
            act(client, world, "bruno", proposal_id, "withdraw"),
        ):
            assert refused.status_code == 404 and refused.mimetype == PROBLEM
        if state == "draft":
            assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    assert get(client, world, "olga", paths[0]).status_code == 200
    assert get(client, world, "alice", paths[0]).get_json()["title"] == "Relapse in AML across trials"


def test_a_member_of_one_committee_cannot_see_or_act_in_another_committees_review(client, world, conforms):
    proposal_id, reviews = under_review(client, world, world.datasets)  # both groups: two reviews
    hovon, epln = reviews["HOVON DAC"], reviews["EPLN DAC"]
    conforms(get(client, world, "gus", f"/api/v1/reviews/{epln}"), "Review")
    for subject in ("gus", "ivy"):
        answer = get(client, world, subject, f"/api/v1/reviews/{hovon}")
        assert answer.status_code == 404
        conforms(answer, "Problem")
    assert review_act(client, world, "gus", hovon, "vote", vote="reject").status_code == 404
    assert review_act(client, world, "ivy", hovon, "decide", outcome="rejected",
                      reason="Not our committee, but we try anyway.").status_code == 404
    assert review_act(client, world, "ivy", hovon, "close-voting").status_code == 404
    queue = conforms(get(client, world, "gus", "/api/v1/reviews"), "ReviewQueue")
    assert [item["id"] for item in queue["items"]] == [epln]
    chris = get(client, world, "chris", f"/api/v1/reviews/{hovon}").get_json()
    assert chris["tally"]["cast"] == 0 and "votes" in chris and chris["votes"] == []  # gus's vote went nowhere

    only_hovon, _ = under_review(client, world, world.datasets[:2])
    assert get(client, world, "gus", f"/api/v1/requests/{only_hovon}").status_code == 404
    assert get(client, world, "gus", f"/api/v1/requests/{only_hovon}/events").status_code == 404
    assert get(client, world, "dave", f"/api/v1/requests/{only_hovon}").status_code == 200


def test_a_recused_member_cannot_vote_and_their_vote_is_withdrawn(client, world, conforms):
    _, reviews = under_review(client, world, world.datasets[:2])
    review = reviews["HOVON DAC"]
    assert review_act(client, world, "dave", review, "vote", vote="approve").status_code == 200
    recused = review_act(client, world, "dave", review, "declare-conflict", comment="I co-wrote the protocol.")
    assert recused.status_code == 200 and conforms(recused, "Review")["recused"] is True
    for vote in ("approve", "reject"):
        refused = review_act(client, world, "dave", review, "vote", vote=vote)
        assert refused.status_code == 403
        conforms(refused, "Problem")
    assert review_act(client, world, "dave", review, "ask-question", comment="May I still ask?").status_code == 403
    chair = conforms(get(client, world, "chris", f"/api/v1/reviews/{review}"), "Review")
    assert chair["votes"] == [] and chair["recusals"] == ["Dave"]
    assert chair["tally"]["eligible"] == 3 and chair["tally"]["cast"] == 0


def test_votes_are_hidden_from_members_until_they_vote(client, world, conforms):
    proposal_id, reviews = under_review(client, world, world.datasets[:2])
    review = reviews["HOVON DAC"]
    path = f"/api/v1/reviews/{review}"
    assert review_act(client, world, "erin", review, "vote", vote="reject", comment="Too small.").status_code == 200

    for subject in ("fay", "dave"):
        hidden = conforms(get(client, world, subject, path), "Review")
        assert "votes" not in hidden and "tally" not in hidden and "computed_outcome" not in hidden
        assert hidden["my_vote"] is None
        events = conforms(get(client, world, subject, f"/api/v1/requests/{proposal_id}/events"), "EventList")
        assert "vote" not in {event["action"] for event in events["items"]}
    for subject in ("chris", "olga", "adam"):  # the chair, coordinators and admins always
        assert [v["voter"] for v in get(client, world, subject, path).get_json()["votes"]] == ["Erin"]

    assert review_act(client, world, "fay", review, "vote", vote="approve").status_code == 200
    seen = conforms(get(client, world, "fay", path), "Review")
    assert {(v["voter"], v["vote"]) for v in seen["votes"]} == {("Erin", "reject"), ("Fay", "approve")}
    assert seen["my_vote"] == {"vote": "approve", "comment": None} and seen["tally"]["cast"] == 2
    events = get(client, world, "fay", f"/api/v1/requests/{proposal_id}/events").get_json()["items"]
    assert [event["action"] for event in events].count("vote") == 2
    assert "votes" not in get(client, world, "dave", path).get_json()  # dave still has not voted

    assert review_act(client, world, "chris", review, "close-voting").status_code == 200
    after = conforms(get(client, world, "dave", path), "Review")  # voting is over: everyone who may see it
    assert len(after["votes"]) == 2 and after["computed_outcome"] == "rejected"  # majority: a tie rejects


def test_the_applicants_never_see_single_votes_in_the_audit_trail(client, world, conforms):
    proposal_id = draft(client, world, "alice", pids=world.datasets[:2])["id"]
    join_as_co_applicant(world, proposal_id)
    assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    review = act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"][0]["id"]
    assert review_act(client, world, "dave", review, "declare-conflict").status_code == 200
    assert review_act(client, world, "erin", review, "vote", vote="approve", comment="Fine.").status_code == 200
    assert review_act(client, world, "chris", review, "ask-question", comment="Which imputation?").status_code == 200
    assert act(client, world, "bruno", proposal_id, "answer", comment="MICE, 20 imputations.").status_code == 200
    assert review_act(client, world, "fay", review, "vote", vote="approve-with-conditions",
                      comment="Children only in one model.").status_code == 200
    assert review_act(client, world, "chris", review, "decide").status_code == 200

    everything = [e["action"] for e in get(client, world, "olga", f"/api/v1/requests/{proposal_id}/events")
                  .get_json()["items"]]
    assert {"vote", "declare-conflict", "ask-question", "answer", "decide"} <= set(everything)
    for subject in ("alice", "bruno"):
        events = conforms(get(client, world, subject, f"/api/v1/requests/{proposal_id}/events"), "EventList")
        seen = [event["action"] for event in events["items"]]
        assert "vote" not in seen and "declare-conflict" not in seen, (subject, seen)
        assert {"submit", "send-to-review", "ask-question", "answer", "decide"} <= set(seen)
        assert "Fine." not in str(events)  # no vote's comment, in any field
        assert get(client, world, subject, f"/api/v1/reviews/{review}").status_code == 404
    assert get(client, world, "alice", f"/api/v1/requests/{proposal_id}").get_json()["outcome"] == "approved"


def test_the_list_holds_exactly_what_each_person_may_see(client, world, conforms):
    hovon, epln = world.datasets[:2], world.datasets[2:]
    alice_draft = draft(client, world, "alice", pids=hovon)["id"]
    alice_submitted = draft(client, world, "alice", pids=hovon)["id"]
    assert act(client, world, "alice", alice_submitted, "submit").status_code == 200
    alice_reviewed, _ = under_review(client, world, hovon, "alice")
    bruno_draft = draft(client, world, "bruno", pids=epln)["id"]
    bruno_reviewed, _ = under_review(client, world, epln, "bruno")
    everything = {alice_draft, alice_submitted, alice_reviewed, bruno_draft, bruno_reviewed}

    expected = {
        "alice": {alice_draft, alice_submitted, alice_reviewed},
        "bruno": {bruno_draft, bruno_reviewed},
        "olga": {alice_submitted, alice_reviewed, bruno_reviewed},  # submitted and later, nobody's drafts
        "adam": {alice_submitted, alice_reviewed, bruno_reviewed},
        "dave": {alice_reviewed}, "chris": {alice_reviewed},  # what HOVON DAC reviews
        "gus": {bruno_reviewed}, "ivy": {bruno_reviewed},
    }
    for subject, visible in expected.items():
        listed = conforms(get(client, world, subject, "/api/v1/requests"), "ProposalList")
        assert {item["id"] for item in listed["items"]} == visible, subject
        assert listed["total"] == len(visible)
        for proposal_id in everything:  # the list and the single GET agree
            status = get(client, world, subject, f"/api/v1/requests/{proposal_id}").status_code
            assert status == (200 if proposal_id in visible else 404), (subject, proposal_id)

    assert get(client, world, "olga", "/api/v1/requests", state="draft").get_json()["items"] == []
    drafts = get(client, world, "alice", "/api/v1/requests", state="draft").get_json()["items"]
    assert [item["id"] for item in drafts] == [alice_draft]
    paged = get(client, world, "olga", "/api/v1/requests", per_page=2, page=2).get_json()
    assert (paged["total"], paged["pages"], len(paged["items"])) == (3, 2, 1)


ENDPOINTS = [
    ("get", "/api/v1/requests"), ("post", "/api/v1/requests"), ("get", "/api/v1/requests/{p}"),
    ("patch", "/api/v1/requests/{p}"), ("post", "/api/v1/requests/{p}/actions/withdraw"),
    ("get", "/api/v1/requests/{p}/events"), ("get", "/api/v1/requests/{p}/attachments"),
    ("post", "/api/v1/requests/{p}/attachments"), ("get", "/api/v1/requests/{p}/attachments/1"),
    ("get", "/api/v1/reviews"), ("get", "/api/v1/reviews/{r}"), ("post", "/api/v1/reviews/{r}/actions/vote"),
    ("post", "/api/v1/committees"), ("put", "/api/v1/committees/{c}"), ("get", "/api/v1/committees"),
]


def test_a_missing_or_bad_token_gets_a_401_problem(client, world, conforms):
    """Nothing is told or done without a valid token, not even whether the proposal exists."""
    proposal_id, reviews = under_review(client, world, world.datasets[:2])
    ids = {"p": proposal_id, "r": reviews["HOVON DAC"], "c": world.committees[0].id}
    bad = ("Bearer not-a-token", f"Bearer {world.tokens['alice']}x", "Bearer ")
    for header in (None, *bad):
        for method, path in ENDPOINTS:
            headers = {"Authorization": header} if header else {}
            answer = getattr(client, method)(path.format(**ids), json=None if method == "get" else {"vote": "approve"},
                                             headers=headers)
            if header is None and path == "/api/v1/committees" and method == "get":
                assert answer.status_code == 200  # the committees are public
                conforms(answer, "CommitteeList")
                continue
            assert answer.status_code == 401, (header, method, path, answer.status_code)
            assert conforms(answer, "Problem")["status"] == 401
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    after = get(client, world, "olga", f"/api/v1/requests/{proposal_id}/events").get_json()["items"]
    assert [event["action"] for event in after] == ["create", "submit", "send-to-review"]
    assert get(client, world, "alice", f"/api/v1/requests/{proposal_id}").get_json()["state"] == "under_review"

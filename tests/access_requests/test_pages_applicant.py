"""The applicant's pages: basket, my proposals, the proposal form with its autosave, a proposal with
its actions, attachments, co-applicants and timeline, and the decision letter.

People sign in through the development provider (`page_world`); the committees' side of the road is
driven through the JSON API, as in test_journey_api.py.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from harmony import db
from harmony.access_requests import proposals
from harmony.access_requests.models import Proposal
from harmony.notifications.models import OutboxMail
from tests import factories
from tests.access_requests.conftest import FILLED, act, draft, review_act
from tests.identity import query_of, sign_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = "<script>alert('x')</script><b onmouseover=\"steal()\">bold</b>"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def person(app, subject: str):
    """A test client signed in as `subject`, and a CSRF token of its session.

    Every person has a client of their own, and API calls go through `api`: the `client` fixture
    (pytest-flask's) keeps its last request's context pushed, and the other clients' requests would
    then share its `g`, where Flask-WTF caches the CSRF token of the page."""
    client = app.test_client()
    sign_in(client, subject)
    return client, factories.csrf_token(client, "/basket")


@pytest.fixture
def alice(app, page_world):
    return person(app, "alice")


def content_of(world, proposal_id: int) -> dict:
    with world.app.app_context():
        return db.session().get(Proposal, proposal_id).content


def state_of(world, proposal_id: int) -> str:
    with world.app.app_context():
        return db.session().get(Proposal, proposal_id).state


def marked_invalid(page: str, field_id: str) -> bool:
    control = re.search(rf'<(?:input|textarea) [^>]*id="{field_id}"[^>]*>', page).group(0)
    return 'aria-invalid="true"' in control and "is-invalid" in control and f'id="{field_id}-error"' in page


def buttons(page: str) -> set[str]:
    """The labels of the action buttons on a proposal's page."""
    return {unescape(label).strip() for label in re.findall(r'id="action-[a-z-]+-button">([^<]+)</button>', page)}


# --- the basket -----------------------------------------------------------------------------


def test_a_visitor_signs_in_first_and_confirms_the_dataset(app, page_world):
    client = app.test_client()
    pid = page_world.datasets[0]
    landing = client.get(f"/datasets/{pid}")
    assert "Set-Cookie" not in landing.headers and 'name="csrf_token"' not in landing.get_data(as_text=True)
    response = client.get("/basket/add", query_string={"pid": pid})  # the landing page's GET form
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    after = query_of(response.headers["Location"])["next"]
    assert after == f"/basket/add?pid={pid}"
    back = sign_in(client, "alice", next_path=after)
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/basket/add?pid={pid}")
    confirm = text_of(client.get(f"/basket/add?pid={pid}"))
    assert "Add “HOVON trial 1” to your basket?" in confirm
    with app.app_context():
        assert proposals.basket(page_world.principal("alice")) == []  # a GET changes nothing


def test_basket_add_from_the_landing_page_and_from_search_results(app, page_world, alice):
    client, token = alice
    first, second = page_world.datasets[0], page_world.datasets[2]
    landing = text_of(client.get(f"/datasets/{first}"))
    assert f'action="/basket/add?pid={first}"' in landing
    added = client.post(f"/basket/add?pid={first}", data={"csrf_token": token})
    assert added.status_code == 302 and added.headers["Location"].endswith("/basket")
    from_search = client.post("/basket/add", data={"csrf_token": token, "dataset": second, "next": "/datasets?q=AML"})
    assert from_search.status_code == 302 and from_search.headers["Location"].endswith("/datasets?q=AML")
    elsewhere = client.post("/basket/add", data={"csrf_token": token, "dataset": second,
                                                 "next": "https://evil.example/"})
    assert "evil" not in elsewhere.headers["Location"]
    basket = text_of(client.get("/basket"))
    assert "HOVON trial 1" in basket and "EPLN trial 1" in basket and "is in your basket" in basket
    removed = client.post("/basket/remove", data={"csrf_token": token, "dataset": first})
    assert removed.status_code == 302
    assert "HOVON trial 1" not in text_of(client.get("/basket"))


def test_the_basket_pools_patients_by_population_and_disease(app, page_world, alice):
    client, token = alice
    with app.app_context():
        children = factories.dataset(factories.principal("cora"), page_world.groups[0], title="Paediatric ALL cohort",
                                     population="paediatric", n_patients=150, diseases=["DOID:9952"],
                                     data_use=["DUO:0000042", "DUO:0000019"]).pid
    empty = text_of(client.get("/basket"))
    assert "Your basket is empty" in empty and 'href="/datasets"' in empty
    for pid in (page_world.datasets[0], children):
        client.post("/basket/add", data={"csrf_token": token, "dataset": pid})
    page = text_of(client.get("/basket"))
    assert re.search(r'class="pooled-total">950</strong> patients in\s+2 datasets', page)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="text-end">\d+</td>'
                           r'<td class="text-end">([\d,]+)</td></tr>', page))
    assert rows["Adult"] == "800" and rows["Paediatric"] == "150"
    assert rows["acute myeloid leukemia"] == "800" and rows["acute lymphoblastic leukemia"] == "150"
    assert rows["Leukaemias"] == "950"  # both datasets are about leukaemias
    assert "Publication required" in page and "Requestor agrees to make results of studies" in page
    assert 'action="/requests/new"' in page


# --- starting and writing a proposal --------------------------------------------------------


def test_start_a_proposal_from_the_basket(app, page_world, alice):
    client, token = alice
    for pid in page_world.datasets[:2]:
        client.post("/basket/add", data={"csrf_token": token, "dataset": pid})
    new = text_of(client.get("/requests/new"))
    assert 'name="title"' in new and "HOVON trial 2" in new
    refused = client.post("/requests/new", data={"csrf_token": token, "title": "  "})
    assert refused.status_code == 422 and "Give the proposal a title." in text_of(refused)
    started = client.post("/requests/new", data={"csrf_token": token, "title": "Relapse after induction"})
    assert started.status_code == 302
    proposal_id = int(re.search(r"/requests/(\d+)/edit$", started.headers["Location"]).group(1))
    edit = text_of(client.get(f"/requests/{proposal_id}/edit"))
    assert 'value="Relapse after induction"' in edit and "HOVON trial 1" in edit and "HOVON trial 2" in edit
    with app.app_context():
        assert proposals.basket(page_world.principal("alice")) == []


def edit_fields(**changes) -> dict:
    fields = {"title": "Relapse in AML across trials", **{k: v for k, v in FILLED.items() if isinstance(v, str)},
              "purpose_code": "DUO:0000006", "duration_months": "12"}
    fields.update(changes)
    return fields


def test_invalid_input_comes_back_with_the_messages_and_nothing_is_saved(page_world, alice):
    client, token = alice
    proposal_id = draft(client, page_world)["id"]
    before = content_of(page_world, proposal_id)
    response = client.post(f"/requests/{proposal_id}/edit", data={
        "csrf_token": token, **edit_fields(title="New title", duration_months="99", purpose_code="DUO:0000007",
                                           purpose_disease="Flu of the bone", lay_summary="Kept\nas typed"),
        "action": "save"})
    assert response.status_code == 422
    page = text_of(response)
    assert 'value="New title"' in page and 'value="99"' in page and 'value="Flu of the bone"' in page
    assert re.search(r'id="lay_summary" name="lay_summary" rows="4">\s*Kept\nas typed</textarea>', page)
    assert marked_invalid(page, "duration_months") and marked_invalid(page, "purpose_disease")
    assert "unknown disease: Flu of the bone" in page
    assert 'id="error-summary"' in page and 'tabindex="-1"' in page
    assert 'href="#duration_months"' in page  # the summary leads to the field
    assert content_of(page_world, proposal_id) == before


def test_saving_keeps_what_was_typed_and_removes_a_dataset(page_world, alice):
    client, token = alice
    proposal_id = draft(client, page_world, pids=page_world.datasets[:2])["id"]
    saved = client.post(f"/requests/{proposal_id}/edit", data={
        "csrf_token": token, **edit_fields(objectives="Typed before removing"), "remove_dataset": page_world.datasets[0]})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/requests/{proposal_id}/edit")
    assert content_of(page_world, proposal_id)["objectives"] == "Typed before removing"
    with page_world.app.app_context():
        assert [d.pid for _l, d in proposals.datasets_of(proposal_id)] == [page_world.datasets[1]]
    added = client.post(f"/requests/{proposal_id}/edit", data={
        "csrf_token": token, **edit_fields(), "add_dataset": "HM-999999", "action": "save"})
    assert added.status_code == 422 and "HM-999999: no such published dataset." in text_of(added)


def test_autosave_answers_json_and_saves_the_valid_fields(page_world, alice):
    client, token = alice
    proposal_id = draft(client, page_world, title="Autosaved")["id"]
    response = client.post(f"/requests/{proposal_id}/autosave", data={
        "csrf_token": token, **edit_fields(lay_summary="Typed a moment ago", duration_months="abc")})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["saved_at"] and body["saved_at"].endswith("Z")
    assert list(body["problems"]) == ["duration_months"]
    saved = content_of(page_world, proposal_id)
    assert saved["lay_summary"] == "Typed a moment ago" and saved["duration_months"] == 12
    stranger, stranger_token = person(page_world.app, "bruno")
    refused = stranger.post(f"/requests/{proposal_id}/autosave", data={"csrf_token": stranger_token, "title": "Mine"})
    assert refused.status_code == 404 and refused.get_json()["saved_at"] is None
    assert content_of(page_world, proposal_id)["title"] == "Relapse in AML across trials"  # not "Mine"


def test_the_form_asks_what_the_conditions_demand_and_flags_misfits(app, page_world, alice):
    client, token = alice
    with app.app_context():
        strict = factories.dataset(factories.principal("cora"), page_world.groups[0], title="Strict trial",
                                   data_use=["DUO:0000007", "DUO:0000019", "DUO:0000021"],
                                   data_use_diseases=["DOID:9952"]).pid
    plain = draft(client, page_world, pids=page_world.datasets[:1])["id"]
    page = text_of(client.get(f"/requests/{plain}/edit"))
    assert 'name="publication_commitment"' not in page and 'name="ethics_approval"' not in page
    assert 'name="purpose_code"' in page and 'enctype="multipart/form-data"' in page
    strict_id = draft(client, page_world, pids=[strict])["id"]
    page = text_of(client.get(f"/requests/{strict_id}/edit"))
    assert 'name="publication_commitment"' in page and 'name="ethics_approval"' in page
    assert '<input type="hidden" name="shown" value="publication_commitment">' in page
    assert "Ethics approval document (PDF)" in page and "A commitment to publish the results" in page
    assert "Your purpose does not fit this dataset's conditions" in page
    assert "does not cover health, medical or biomedical research" in page
    response = client.post(f"/requests/{strict_id}/edit", data={
        "csrf_token": token, **edit_fields(purpose_code="DUO:0000007", purpose_disease="ALL"),
        "shown": ["publication_commitment"], "publication_commitment": "y", "action": "save"})
    assert response.status_code == 302
    stored = content_of(page_world, strict_id)
    assert stored["publication_commitment"] is True and stored["purpose"]["disease"] == "DOID:9952"
    assert "Your purpose does not fit" not in text_of(client.get(f"/requests/{strict_id}/edit"))


def test_save_and_submit_lists_every_problem_then_submits(page_world, alice):
    client, token = alice
    created = client.post("/api/v1/requests", json={"title": "Only a title", "datasets": page_world.datasets[:1]},
                          headers=page_world.headers("alice")).get_json()
    proposal_id = created["id"]
    refused = client.post(f"/requests/{proposal_id}/edit", data={
        "csrf_token": token, "title": "Only a better title", "action": "submit"})
    assert refused.status_code == 422
    page = text_of(refused)
    for label in ("Lay summary", "Scientific abstract", "Objectives", "Methods and statistical analysis plan",
                  "Research purpose", "Requested duration (months)", "Institution", "Data security plan"):
        assert f"{label} is needed before you submit." in page, label
    assert marked_invalid(page, "lay_summary") and 'href="#purpose_code-0"' in page
    assert state_of(page_world, proposal_id) == "draft"
    assert content_of(page_world, proposal_id)["title"] == "Only a better title"  # the save stays
    submitted = client.post(f"/requests/{proposal_id}/edit", data={"csrf_token": token, **edit_fields(),
                                                                   "action": "submit"})
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith(f"/requests/{proposal_id}")
    assert state_of(page_world, proposal_id) == "submitted"
    assert client.get(f"/requests/{proposal_id}/edit").status_code == 302  # no longer editable


# --- a proposal's page and its actions ------------------------------------------------------


def test_action_buttons_are_the_allowed_ones(app, api, page_world, alice):
    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    assert buttons(text_of(alice_client.get(f"/requests/{proposal_id}"))) == {"Submit", "Delete draft"}
    forbidden = alice_client.post(f"/requests/{proposal_id}/actions/return", data={"csrf_token": token,
                                                                                   "comment": "Self-return"})
    assert forbidden.status_code == 403 and state_of(page_world, proposal_id) == "draft"
    done = alice_client.post(f"/requests/{proposal_id}/actions/submit", data={"csrf_token": token})
    assert done.status_code == 302 and state_of(page_world, proposal_id) == "submitted"
    page = text_of(alice_client.get(f"/requests/{proposal_id}"))
    assert buttons(page) == {"Withdraw"} and "Waiting on the coordinator to screen the proposal." in page
    olga, olga_token = person(app, "olga")
    assert buttons(text_of(olga.get(f"/requests/{proposal_id}"))) == {"Return for revision", "Send to the committees"}


def test_withdrawing_asks_for_confirmation(api, page_world, alice):
    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    act(api, page_world, "alice", proposal_id, "submit")
    unconfirmed = alice_client.post(f"/requests/{proposal_id}/actions/withdraw", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "Tick “Yes, I am sure” to withdraw." in text_of(unconfirmed)
    assert state_of(page_world, proposal_id) == "submitted"
    confirmed = alice_client.post(f"/requests/{proposal_id}/actions/withdraw", data={"csrf_token": token,
                                                                                     "confirm": "y"})
    assert confirmed.status_code == 302 and state_of(page_world, proposal_id) == "withdrawn"


def test_a_refused_comment_comes_back_with_the_message(app, api, page_world):
    proposal_id = draft(api, page_world)["id"]
    act(api, page_world, "alice", proposal_id, "submit")
    olga, token = person(app, "olga")
    empty = olga.post(f"/requests/{proposal_id}/actions/return", data={"csrf_token": token, "comment": " "})
    assert empty.status_code == 422 and "Write a comment: return for revision needs one." in text_of(empty)
    long_comment = "Please say more. " * 600
    too_long = text_of(olga.post(f"/requests/{proposal_id}/actions/return",
                                 data={"csrf_token": token, "comment": long_comment}))
    assert "at most 10000 characters" in too_long and long_comment.strip() in too_long
    assert state_of(page_world, proposal_id) == "submitted"


def test_another_researcher_gets_404(app, api, page_world, alice):
    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    upload = alice_client.post(f"/requests/{proposal_id}/attachments", data={
        "csrf_token": token, "kind": "protocol", "file": (__import__("io").BytesIO(PDF), "protocol.pdf")})
    assert upload.status_code == 302
    attachment_id = api.get(f"/api/v1/requests/{proposal_id}", headers=page_world.headers("alice")
                               ).get_json()["attachments"][0]["id"]
    bruno, bruno_token = person(app, "bruno")
    for path in (f"/requests/{proposal_id}", f"/requests/{proposal_id}/edit", f"/requests/{proposal_id}/decision",
                 f"/requests/{proposal_id}/attachments/{attachment_id}"):
        assert bruno.get(path).status_code == 404, path
    for path in (f"/requests/{proposal_id}/actions/submit", f"/requests/{proposal_id}/actions/delete",
                 f"/requests/{proposal_id}/attachments", f"/requests/{proposal_id}/co-applicants",
                 f"/requests/{proposal_id}/attachments/{attachment_id}/delete"):
        assert bruno.post(path, data={"csrf_token": bruno_token, "confirm": "y"}).status_code == 404, path
    assert state_of(page_world, proposal_id) == "draft"
    assert bruno.get(f"/requests/{proposal_id}/attachments/{attachment_id}").status_code == 404


# --- attachments ----------------------------------------------------------------------------


def test_a_pdf_is_attached_and_downloaded_under_a_safe_name(api, page_world, alice):
    import io

    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    response = alice_client.post(f"/requests/{proposal_id}/attachments", data={
        "csrf_token": token, "kind": "ethics-approval",
        "file": (io.BytesIO(PDF), "../../etc/Ethics approval é;.pdf")})
    assert response.status_code == 302
    page = text_of(alice_client.get(f"/requests/{proposal_id}"))
    link = re.search(rf'href="(/requests/{proposal_id}/attachments/\d+)" download>([^<]+)</a>', page)
    assert link and link.group(2) == "Ethics approval e.pdf" and "Ethics approval" in page
    with alice_client.get(link.group(1)) as download:
        assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
        disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and 'filename="Ethics approval e.pdf"' in disposition
    deleted = alice_client.post(link.group(1) + "/delete", data={"csrf_token": token})
    assert deleted.status_code == 302 and alice_client.get(link.group(1)).status_code == 404


def test_a_renamed_non_pdf_is_refused_with_a_message(api, page_world, alice):
    import io

    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    response = alice_client.post(f"/requests/{proposal_id}/attachments", data={
        "csrf_token": token, "kind": "ethics-approval", "file": (io.BytesIO(b"MZ\x90\x00 not a pdf" * 20), "approval.pdf")})
    assert response.status_code == 422
    page = text_of(response)
    assert "Only PDF documents are accepted; this file is not a PDF." in page and marked_invalid(page, "file")
    assert "No documents attached." in page


# --- escaping -------------------------------------------------------------------------------


def test_typed_html_is_shown_escaped_on_the_page_and_in_the_timeline(app, api, page_world, alice):
    alice_client, _token = alice
    fields = {key: f"{key}: {HTML}\nsecond line" for key in (
        "lay_summary", "abstract", "objectives", "methods", "institution", "funding", "conflicts_of_interest",
        "data_security_plan", "publication_plan", "collaborator")}
    proposal_id = draft(api, page_world, title=f"Title {HTML}", **fields)["id"]
    act(api, page_world, "alice", proposal_id, "submit")
    act(api, page_world, "olga", proposal_id, "return", comment=f"Returned {HTML}")
    for viewer in (alice_client, person(app, "olga")[0]):
        page = text_of(viewer.get(f"/requests/{proposal_id}"))
        assert "<script>" not in page and "<b onmouseover" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
        for key in ("title", *fields):
            if key != "title":
                assert f"{key}: &lt;script&gt;" in page, key
        assert "Title &lt;script&gt;" in page
        assert re.search(r"<strong>Olga</strong> returned the proposal for revision:</p>\s*"
                         r'<div class="typed-text timeline-detail">Returned &lt;script&gt;', page)
    assert "&lt;script&gt;" in text_of(alice_client.get(f"/requests/{proposal_id}/edit"))


# --- the road to a decision -----------------------------------------------------------------


def decide_both(client, world, proposal_id: int) -> dict:
    """Through the API: the first committee confirms an approval with a condition, the second's
    chair overrides a rejection."""
    act(client, world, "alice", proposal_id, "submit")
    act(client, world, "olga", proposal_id, "return", comment="Please describe the imputation model.")
    client.patch(f"/api/v1/requests/{proposal_id}", json={"methods": "Cox regression; MICE with 20 imputations."},
                 headers=world.headers("alice"))
    act(client, world, "alice", proposal_id, "resubmit")
    reviews = {r["committee"]: r["id"] for r in act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"]}
    first, second = reviews["HOVON DAC"], reviews["EPLN DAC"]
    review_act(client, world, "dave", first, "declare-conflict", comment="I co-authored the protocol.")
    review_act(client, world, "erin", first, "vote", vote="approve", comment="Sound plan.")
    review_act(client, world, "fay", first, "vote", vote="approve-with-conditions", comment="Only children <18 in one model.")
    assert review_act(client, world, "chris", first, "decide").status_code == 200
    review_act(client, world, "gus", second, "vote", vote="approve")
    review_act(client, world, "hana", second, "vote", vote="reject", comment="Consent does not cover it.")
    assert review_act(client, world, "ivy", second, "decide", outcome="approved",
                      reason="The consent form's section 4 covers secondary research.").status_code == 200
    return reviews


def test_the_decision_letter_appears_once_decided(app, api, page_world, alice):
    alice_client, _token = alice
    proposal_id = draft(api, page_world)["id"]
    assert alice_client.get(f"/requests/{proposal_id}/decision").status_code == 404
    decide_both(api, page_world, proposal_id)
    letter = alice_client.get(f"/requests/{proposal_id}/decision")
    assert letter.status_code == 200
    page = text_of(letter)
    assert "Decision on your proposal “Relapse in AML across trials”" in page
    assert 'class="letter-outcome">approved</strong>' in page
    hovon, epln = page.split('id="committee-1"')[1].split('id="committee-2"')
    assert "HOVON DAC" in hovon and "The chair confirmed the outcome the votes gave." in hovon
    assert "Only children &lt;18 in one model." in hovon and page_world.datasets[0] in hovon
    assert "EPLN DAC" in epln and "The chair overrode the outcome the votes gave (rejected)." in epln
    assert "The consent form&#39;s section 4 covers secondary research." in epln and page_world.datasets[2] in epln
    with alice_client.get("/static/css/requests.css") as stylesheet:
        assert "@media print" in text_of(stylesheet)
    assert "requests.css" in page

    request_page = text_of(alice_client.get(f"/requests/{proposal_id}"))
    assert f'href="/requests/{proposal_id}/decision"' in request_page
    assert "Chris</strong> recorded the committee&#39;s decision: approved (computed outcome confirmed)." in request_page
    assert "Ivy</strong> overrode the computed outcome (rejected → approved):" in request_page
    assert "Changed since it was returned: Methods and statistical analysis plan." in request_page
    assert "voted" not in request_page  # single votes stay with the committees
    olga_page = text_of(person(app, "olga")[0].get(f"/requests/{proposal_id}"))
    assert "Dave</strong> declared a conflict of interest and is recused:" in olga_page
    assert "Erin</strong> voted approve:" in olga_page
    assert "Fay</strong> voted approve with conditions:" in olga_page


def test_answering_a_committee_question_shows_the_question(app, api, page_world, alice):
    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    act(api, page_world, "alice", proposal_id, "submit")
    reviews = act(api, page_world, "olga", proposal_id, "send-to-review").get_json()["reviews"]
    review_act(api, page_world, "erin", reviews[0]["id"], "ask-question", comment="Which <b>cohorts</b> exactly?")
    page = text_of(alice_client.get(f"/requests/{proposal_id}"))
    assert "Send answer" in buttons(page) and "Which &lt;b&gt;cohorts&lt;/b&gt; exactly?" in page
    assert "Waiting on the applicant to answer a committee&#39;s question." in page
    assert "Waiting on the applicant to answer a committee&#39;s question." in text_of(alice_client.get("/requests"))
    answered = alice_client.post(f"/requests/{proposal_id}/actions/answer",
                                 data={"csrf_token": token, "comment": "HOVON 132 and EPLN 1."})
    assert answered.status_code == 302
    page = text_of(alice_client.get(f"/requests/{proposal_id}"))
    assert "HOVON 132 and EPLN 1." in page and "Send answer" not in buttons(page)


# --- my proposals and co-applicants ----------------------------------------------------------


def test_my_proposals_with_state_and_whom_they_wait_for(app, api, page_world, alice):
    alice_client, _token = alice
    bruno, _ = person(app, "bruno")
    empty = text_of(bruno.get("/requests"))
    assert "You have no proposals yet" in empty and 'href="/datasets"' in empty
    first = draft(api, page_world, title="First proposal")["id"]
    draft(api, page_world, title="Second proposal")
    act(api, page_world, "alice", first, "submit")
    page = text_of(alice_client.get("/requests"))
    assert "First proposal" in page and "Second proposal" in page
    assert "Waiting on the coordinator to screen the proposal." in page
    assert "Waiting on the applicant to finish and submit the proposal." in page
    assert ">Submitted</span>" in page and ">Draft</span>" in page
    assert "First proposal" not in text_of(bruno.get("/requests"))
    for number in range(20):
        draft(api, page_world, title=f"Bulk {number}")
    assert "First proposal" in text_of(alice_client.get("/requests?page=2"))
    assert alice_client.get("/requests?page=3").status_code == 404


def test_a_co_applicant_is_invited_and_joins(app, api, page_world, alice):
    alice_client, token = alice
    proposal_id = draft(api, page_world)["id"]
    refused = alice_client.post(f"/requests/{proposal_id}/co-applicants", data={"csrf_token": token,
                                                                                "email": "not an address"})
    assert refused.status_code == 422 and marked_invalid(text_of(refused), "email")
    address = "bruno@demo.harmony.example"  # what the development provider says bruno's address is
    invited = alice_client.post(f"/requests/{proposal_id}/co-applicants", data={"csrf_token": token,
                                                                                "email": address})
    assert invited.status_code == 302
    assert f"{address} — invited" in text_of(alice_client.get(f"/requests/{proposal_id}"))
    with app.app_context():
        mail = db.session().scalars(select(OutboxMail).where(OutboxMail.kind == "co-applicant-invited")).one()
    link = re.search(r"/requests/invitations/[A-Za-z0-9_.\-]+", mail.body_text).group(0)
    erin, erin_token = person(app, "erin")  # a forwarded link does not let someone else in
    forwarded = erin.post(link, data={"csrf_token": erin_token})
    assert forwarded.status_code == 403 and f"sent to {address}" in text_of(forwarded)
    bruno, bruno_token = person(app, "bruno")
    assert bruno.get(f"/requests/{proposal_id}").status_code == 404
    assert "Accept the invitation" in text_of(bruno.get(link))
    joined = bruno.post(link, data={"csrf_token": bruno_token})
    assert joined.status_code == 302 and joined.headers["Location"].endswith(f"/requests/{proposal_id}")
    page = text_of(bruno.get(f"/requests/{proposal_id}"))
    assert f"{address} — joined" in page and buttons(page) == set()  # only the applicant submits


# --- in a browser -----------------------------------------------------------------------------


def test_the_form_saves_itself_while_alice_types(page, live_site, dev_provider):
    from playwright.sync_api import expect

    from tests.access_requests.conftest import build_world

    base, app = live_site
    world = build_world(app, issuer=dev_provider.issuer)
    page.goto(base + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("button", name="Authorize as alice").click()
    page.wait_for_url(base + "/**")
    page.goto(base + f"/datasets/{world.datasets[0]}")
    page.get_by_role("button", name="Request access").click()
    page.get_by_label("Title of the proposal").fill("Typed in a browser")
    page.get_by_role("button", name="Start a proposal").click()
    proposal_id = int(re.search(r"/requests/(\d+)/edit", page.url).group(1))
    page.get_by_label("Lay summary").fill("Saved without pressing a button.")
    page.get_by_label("Requested duration (months)").fill("600")
    # Each pause in typing saves (after 1.2 s); on a loaded machine the second save can take a while.
    expect(page.locator("#autosave-status")).to_contain_text("Saved at", timeout=20000)
    expect(page.locator("#autosave-status")).to_contain_text("less than or equal to 60", timeout=20000)
    assert content_of(world, proposal_id)["lay_summary"] == "Saved without pressing a button."

"""The committee, coordinator and admin pages: the review queue, a review with its forms, screening
with what changed after a return, and the admins' committees. Each persona signs in at the
development provider; proposals reach the committees through the API, as an applicant's would."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from harmony import clock
from harmony.access_requests import committees
from harmony.access_requests.models import Review
from harmony.catalog import services as catalog
from tests.access_requests.conftest import act, draft, review_act
from tests.factories import csrf_token

EVIL = "<script>alert('x')</script>"


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def reviewed(api, page_world):
    """A proposal for datasets of both groups, sent to HOVON DAC and EPLN DAC."""
    proposal = draft(api, page_world)
    assert act(api, page_world, "alice", proposal["id"], "submit").status_code == 200
    sent = act(api, page_world, "olga", proposal["id"], "send-to-review").get_json()
    return {"id": proposal["id"], **{r["committee"]: r["id"] for r in sent["reviews"]}}


def post(client, path: str, **data):
    """Post a form as `client`'s browser would, with the CSRF token of its own session."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data})


def vote_path(review_id: int, action: str = "vote") -> str:
    return f"/reviews/{review_id}/actions/{action}"


def radio(page: str, name: str) -> dict[str, bool]:
    """Each radio button's value and whether it is checked."""
    return {re.search(r'value="([^"]*)"', tag).group(1): " checked" in tag
            for tag in re.findall(rf'<input [^>]*name="{name}"[^>]*>', page) if 'type="radio"' in tag}


# --- the queue --------------------------------------------------------------------------------


def test_each_member_sees_their_committees_reviews(api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    dave = text_of(people("dave").get("/reviews"))
    assert "Relapse in AML across trials" in dave and "HOVON DAC" in dave and "EPLN DAC" not in dave
    assert "Your vote is needed" in dave and f'href="/reviews/{hovon}"' in dave
    gus = text_of(people("gus").get("/reviews"))
    assert "EPLN DAC" in gus and "HOVON DAC" not in gus

    assert review_act(api, page_world, "erin", hovon, "vote", vote="approve").status_code == 200
    assert review_act(api, page_world, "dave", hovon, "declare-conflict", comment="Co-author.").status_code == 200
    erin = text_of(people("erin").get("/reviews"))
    assert "Your vote:" in erin and ">Approve<" in erin and "Your vote is needed" not in erin
    assert re.search(r"<td>1</td>\s*</tr>", erin)  # votes cast
    assert "Recused" in text_of(people("dave").get("/reviews"))


    alice = text_of(people("alice").get("/reviews"))
    assert "You do not sit on a data access committee" in alice and "HOVON DAC" not in alice


def test_an_overdue_review_is_marked(api, page_world, people, reviewed):
    late = draft(api, page_world, title="An old proposal")["id"]
    with clock.frozen(clock.now() - timedelta(days=15)):  # HOVON DAC votes for 14 days
        act(api, page_world, "alice", late, "submit")
        act(api, page_world, "olga", late, "send-to-review")
    page = text_of(people("fay").get("/reviews"))
    rows = {title: page.split(title, 1)[1].split("</tr>", 1)[0] for title in ("An old proposal", "Relapse in AML")}
    assert "Overdue" in rows["An old proposal"] and "Overdue" not in rows["Relapse in AML"]
    assert page.index("An old proposal") < page.index("Relapse in AML")  # the earlier deadline first


def test_decided_reviews_are_listed_apart(api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    for subject in ("erin", "fay"):
        review_act(api, page_world, subject, hovon, "vote", vote="approve")
    assert review_act(api, page_world, "chris", hovon, "decide").status_code == 200
    open_only = text_of(people("fay").get("/reviews"))
    assert "No review is open" in open_only and "Reviews done" not in open_only
    everything = text_of(people("fay").get("/reviews?all=1"))
    done = everything.split("Reviews done", 1)[1]
    assert "Relapse in AML across trials" in done and "(approved)" in done


def test_the_navigation_shows_each_page_to_whom_it_is_for(people, page_world):
    def links(subject: str) -> set[str]:
        page = text_of(people(subject).get("/"))
        return {label for label in ("Reviews", "Screening", "Committees") if f">{label}</a>" in page}

    assert links("alice") == set()
    assert links("dave") == {"Reviews"}
    assert links("olga") == {"Screening"}
    assert links("adam") == {"Screening", "Committees"}


# --- one review -------------------------------------------------------------------------------


def test_votes_are_hidden_until_the_member_has_voted(api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    review_act(api, page_world, "erin", hovon, "vote", vote="reject", comment="Consent is too narrow.")
    before = text_of(people("fay").get(f"/reviews/{hovon}"))
    assert "Votes are shown after you vote or declare a conflict" in before
    assert "Consent is too narrow." not in before and "Computed outcome" not in before
    assert f'action="{vote_path(hovon)}"' in before and "Your vote is needed" in before

    response = post(people("fay"), vote_path(hovon), vote="approve-with-conditions", comment="Adults only.")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/{hovon}")
    after = text_of(people("fay").get(f"/reviews/{hovon}"))
    assert "Your vote is recorded" in after
    assert "Consent is too narrow." in after and "Adults only." in after and "Votes are shown after" not in after
    assert radio(after, "vote") == {"approve": False, "approve-with-conditions": True, "reject": False, "abstain": False}
    # the vote can be changed
    assert post(people("fay"), vote_path(hovon), vote="reject", comment="On reflection, no.").status_code == 302
    assert "On reflection, no." in text_of(people("chris").get(f"/reviews/{hovon}"))


def test_the_review_shows_the_proposal_its_datasets_and_conditions(people, reviewed, page_world):
    page = text_of(people("dave").get(f"/reviews/{reviewed['HOVON DAC']}"))
    for shown in ("Relapse in AML across trials", "Cox regression stratified by trial", "University of Leiden",
                  "Health, medical or biomedical research", "12 months", "HOVON trial 1", "HOVON trial 2",
                  "GRU", "Compatible</strong> with the stated purpose", "Dave", "Chris"):
        assert shown in page, shown
    assert "EPLN trial 1" not in page  # the other committee's datasets
    for heading in ("The proposal", "Datasets HOVON DAC decides on", "Questions and answers", "Your part", "Votes"):
        assert f">{heading}</h2>" in page, heading


def test_a_member_of_the_other_committee_gets_404(people, reviewed):
    hovon = reviewed["HOVON DAC"]
    assert people("gus").get(f"/reviews/{hovon}").status_code == 404
    assert post(people("gus"), vote_path(hovon), vote="approve").status_code == 404
    assert people("alice").get(f"/reviews/{hovon}").status_code == 404


def test_a_recused_member_has_no_vote_form_and_cannot_vote(app, api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    unconfirmed = post(people("dave"), vote_path(hovon, "declare-conflict"), comment="My spouse leads trial 132.")
    assert unconfirmed.status_code == 422
    page = text_of(unconfirmed)
    assert 'id="conflict-confirm-error"' in page and "Tick the box to confirm" in page
    assert "My spouse leads trial 132." in page  # the reason is kept
    assert f'action="{vote_path(hovon)}"' in page  # not recused: still a member who votes

    declared = post(people("dave"), vote_path(hovon, "declare-conflict"), comment="My spouse leads trial 132.",
                    confirm="y")
    assert declared.status_code == 302
    page = text_of(people("dave").get(f"/reviews/{hovon}"))
    assert "You declared a conflict of interest" in page
    assert f'action="{vote_path(hovon)}"' not in page and 'name="vote"' not in page
    assert post(people("dave"), vote_path(hovon), vote="approve").status_code == 403
    assert "My spouse leads trial 132." in page  # he sees the votes (none yet) and the declared conflicts
    chair_page = text_of(people("chris").get(f"/reviews/{hovon}"))
    assert "recused" in chair_page and "My spouse leads trial 132." in chair_page
    review_act(api, page_world, "erin", hovon, "vote", vote="approve")  # erin now sees votes and recusals ...
    erin_page = text_of(people("erin").get(f"/reviews/{hovon}"))
    assert "Dave" in erin_page and "My spouse leads trial 132." not in erin_page  # ... but not why
    erin_trail = api.get(f"/api/v1/requests/{reviewed['id']}/events", headers=page_world.headers("erin")).get_json()
    conflict = next(e for e in erin_trail["items"] if e["action"] == "declare-conflict")
    assert conflict["actor"].startswith("Dave") and conflict["comment"] is None


def test_the_chair_sees_the_tally_and_a_member_who_has_not_voted_does_not(api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    for subject in ("erin", "fay"):
        review_act(api, page_world, subject, hovon, "vote", vote="approve")
    chair = text_of(people("chris").get(f"/reviews/{hovon}"))
    assert ">Tally</h2>" in chair and "2 of 4 members voted (quorum 2 reached)" in chair
    assert re.search(r'class="computed-outcome">approved<', chair)
    assert radio(chair, "outcome") == {"approved": True, "rejected": False}
    assert "Confirm the computed outcome (approved)" in chair
    member = text_of(people("dave").get(f"/reviews/{hovon}"))
    assert ">Tally</h2>" not in member and "Computed outcome" not in member and "quorum 2" not in member
    assert 'name="outcome"' not in member  # only the chair decides


def test_the_chair_confirms_the_computed_outcome(app, api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    for subject in ("erin", "fay"):
        review_act(api, page_world, subject, hovon, "vote", vote="approve")
    assert post(people("chris"), vote_path(hovon, "decide"), outcome="approved", reason="").status_code == 302
    with app.app_context():
        from harmony import db

        review = db.session().get(Review, hovon)
        assert (review.state, review.outcome, review.overridden) == ("decided", "approved", False)
    page = text_of(people("chris").get(f"/reviews/{hovon}"))
    assert "The committee&#39;s decision is recorded" in page or "The committee's decision is recorded" in page
    assert "Decision: <strong>approved</strong>" in page and 'name="outcome"' not in page


def test_an_override_needs_a_reason_and_keeps_the_chosen_outcome(app, api, page_world, people, reviewed):
    epln = reviewed["EPLN DAC"]
    review_act(api, page_world, "gus", epln, "vote", vote="approve")
    review_act(api, page_world, "hana", epln, "vote", vote="reject", comment="Consent does not cover it.")
    page = text_of(people("ivy").get(f"/reviews/{epln}"))
    assert "Confirm the computed outcome (rejected)" in page  # any reject blocks

    refused = post(people("ivy"), vote_path(epln, "decide"), outcome="approved", reason="")
    assert refused.status_code == 422
    page = text_of(refused)
    error = re.search(r'<div class="invalid-feedback" id="decide-reason-error">(.*?)</div>', page, re.S)
    assert error and "You are overriding the computed outcome (rejected)" in error.group(1)
    assert 'aria-invalid="true"' in re.search(r'<textarea [^>]*id="decide-reason"[^>]*>', page).group(0)
    assert 'href="#decide-reason"' in page  # the error summary leads to the field
    assert radio(page, "outcome") == {"rejected": False, "approved": True}

    reason = "The consent form's section 4 covers secondary research."
    assert post(people("ivy"), vote_path(epln, "decide"), outcome="approved", reason=reason).status_code == 302
    with app.app_context():
        from harmony import db

        review = db.session().get(Review, epln)
        assert (review.outcome, review.overridden, review.decision_reason) == ("approved", True, reason)
    page = text_of(people("ivy").get(f"/reviews/{epln}"))
    assert "overrode the computed outcome, rejected" in page


def test_an_action_the_state_no_longer_allows_comes_back_with_409(api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    assert post(people("chris"), vote_path(hovon, "close-voting")).status_code == 302
    late = post(people("erin"), vote_path(hovon), vote="approve", comment="Sorry I am late.")
    assert late.status_code == 409
    page = text_of(late)
    assert "Cannot vote: it is voting closed." in page and "error-summary" in page
    assert f'action="{vote_path(hovon)}"' not in page


def test_a_member_asks_the_applicant_and_voting_waits_for_the_answer(api, page_world, people, reviewed):
    hovon = reviewed["HOVON DAC"]
    empty = post(people("erin"), vote_path(hovon, "ask-question"), comment="")
    assert empty.status_code == 422 and 'id="question-comment-error"' in text_of(empty)
    assert post(people("erin"), vote_path(hovon, "ask-question"),
                comment="Which trials' consent covers children?").status_code == 302
    page = text_of(people("fay").get(f"/reviews/{hovon}"))
    questions = page.split(">Questions and answers</h2>", 1)[1].split("</section>", 1)[0]
    assert "Erin" in questions and "Which trials&#39; consent covers children?" in questions
    assert "Waiting for the applicant's answer." in questions
    assert "Voting is paused" in page and f'action="{vote_path(hovon)}"' not in page
    assert act(api, page_world, "alice", reviewed["id"], "answer", comment="All of them, see section 4.").status_code == 200
    page = text_of(people("fay").get(f"/reviews/{hovon}"))
    assert "All of them, see section 4." in page and f'action="{vote_path(hovon)}"' in page


def test_typed_html_is_shown_as_text(api, page_world, people):
    proposal = draft(api, page_world, title=f"AML {EVIL}", lay_summary=f"Lay {EVIL}", methods="<b>bold</b> plan",
                     institution="<i>Leiden</i>")
    uploaded = api.post(f"/api/v1/requests/{proposal['id']}/attachments", headers=page_world.headers("alice"),
                        data={"kind": "ethics-approval", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "approval.pdf")})
    assert uploaded.status_code == 201
    act(api, page_world, "alice", proposal["id"], "submit")
    sent = act(api, page_world, "olga", proposal["id"], "send-to-review").get_json()
    hovon = next(r["id"] for r in sent["reviews"] if r["committee"] == "HOVON DAC")
    review_act(api, page_world, "erin", hovon, "vote", vote="approve", comment=f"Fine {EVIL}")
    attachment = uploaded.get_json()["id"]
    page = text_of(people("chris").get(f"/reviews/{hovon}"))
    assert f'href="/requests/{proposal["id"]}/attachments/{attachment}">approval.pdf</a>' in page
    assert "Ethics approval:" in page
    for subject, path in (("chris", f"/reviews/{hovon}"), ("erin", "/reviews")):
        page = text_of(people(subject).get(path))
        assert EVIL not in page and "&lt;script&gt;alert(" in page, (subject, path)
    page = text_of(people("chris").get(f"/reviews/{hovon}"))
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; plan" in page
    assert "<i>Leiden</i>" not in page and "Fine &lt;script&gt;" in page


# --- screening --------------------------------------------------------------------------------


def test_screening_lists_submitted_proposals_oldest_first(api, page_world, people):
    first = draft(api, page_world, title="First proposal", pids=page_world.datasets[:1])
    second = draft(api, page_world, subject="bruno", title="Second proposal")
    act(api, page_world, "alice", first["id"], "submit")
    with clock.frozen(clock.now() + timedelta(days=3)):
        act(api, page_world, "bruno", second["id"], "submit")
    page = text_of(people("olga").get("/screening"))
    assert page.index("First proposal") < page.index("Second proposal")
    first_item = page.split("First proposal", 1)[1].split("Second proposal", 1)[0]
    assert "Alice" in first_item and page_world.datasets[0] in first_item and "HOVON DAC" in first_item
    assert "EPLN DAC" not in first_item
    second_item = page.split("Second proposal", 1)[1]
    assert "Bruno" in second_item and "EPLN DAC, HOVON DAC" in second_item
    assert "Resubmitted" not in page
    assert people("dave").get("/screening").status_code == 403
    assert people("alice").get("/screening").status_code == 403


def test_a_returned_and_resubmitted_proposal_shows_what_changed(app, api, page_world, people):
    proposal = draft(api, page_world, pids=page_world.datasets[:1])["id"]
    act(api, page_world, "alice", proposal, "submit")
    screen = text_of(people("olga").get(f"/screening/{proposal}"))
    assert "Cox regression stratified by trial" in screen and "What changed" not in screen
    assert f'action="/screening/{proposal}/actions/return"' in screen

    missing = post(people("olga"), f"/screening/{proposal}/actions/return", comment="  ")
    assert missing.status_code == 422
    assert 'id="return-comment-error"' in text_of(missing) and "needs one" in text_of(missing)
    returned = post(people("olga"), f"/screening/{proposal}/actions/return", comment="Describe the imputation.")
    assert returned.status_code == 302 and returned.headers["Location"].endswith("/screening")

    changed = {"methods": "Cox regression; MICE with 20 imputations.", "datasets": page_world.datasets[:2]}
    assert api.patch(f"/api/v1/requests/{proposal}", json=changed, headers=page_world.headers("alice")).status_code == 200
    assert act(api, page_world, "alice", proposal, "resubmit").status_code == 200

    for path in ("/screening", f"/screening/{proposal}"):
        page = text_of(people("olga").get(path))
        assert "What changed since you returned it" in page, path
        table = page.split("What changed since you returned it", 1)[1].split("</table>", 1)[0]
        assert "Methods and statistical analysis plan" in table and "Requested datasets" in table
        assert "Cox regression stratified by trial" in table and "MICE with 20 imputations" in table
        assert page_world.datasets[1] in table and "Lay summary" not in table

    sent = post(people("olga"), f"/screening/{proposal}/actions/send-to-review")
    assert sent.status_code == 302
    assert "Relapse in AML" in text_of(people("dave").get("/reviews"))
    page = text_of(people("olga").get(f"/screening/{proposal}"))
    assert "there is nothing to screen" in page and 'action="/screening/' not in page


def test_screening_actions_are_the_coordinators(people, page_world, api):
    proposal = draft(api, page_world)["id"]
    act(api, page_world, "alice", proposal, "submit")
    assert post(people("alice"), f"/screening/{proposal}/actions/send-to-review").status_code == 403
    assert post(people("dave"), f"/screening/{proposal}/actions/send-to-review").status_code == 404
    assert post(people("olga"), f"/screening/{proposal}/actions/submit").status_code == 404


# --- committees (admins) ----------------------------------------------------------------------


def test_admins_see_the_committees(people, page_world):
    page = text_of(people("adam").get("/admin/committees"))
    row = page.split("HOVON DAC</a>", 1)[1].split("</tr>", 1)[0]
    for shown in ("Majority", "2 votes", "14", "HOVON", "Chris (chair)", "Dave", "version 1"):
        assert shown in row, shown
    assert "Any reject blocks" in page and 'href="/admin/roles"' in page


def test_create_a_committee_with_errors_kept_then_fixed(app, people, page_world):
    adam = people("adam")
    refused = post(adam, "/admin/committees", name="X", rule="majority", quorum="1.5", voting_days="400",
                   agreement="Use the data only for the approved purpose.")
    assert refused.status_code == 422
    page = text_of(refused)
    for field in ("committee-name", "quorum", "voting_days"):
        assert f'id="{field}-error"' in page, field
    assert 'value="X"' in page and 'value="1.5"' in page and 'value="400"' in page
    assert "Use the data only for the approved purpose." in page
    assert "a whole number of votes" in page

    clash = post(adam, "/admin/committees", name="hovon dac", rule="majority", quorum="2", voting_days="10")
    assert clash.status_code == 422 and "exists already" in text_of(clash)

    created = post(adam, "/admin/committees", name="ALLG DAC", rule="unanimity", quorum="0.5", voting_days="10",
                   agreement="ALLG agreement v1.")
    assert created.status_code == 302
    committee_id = int(created.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        made = committees.get_committee(committee_id)
        assert (made.name, made.rule, made.quorum, made.voting_days, made.agreement_version) == (
            "ALLG DAC", "unanimity", 0.5, 10, 1)


def test_edit_a_committee_and_the_groups_it_governs(app, people, page_world):
    adam = people("adam")
    hovon, epln = page_world.committees
    page = text_of(adam.get(f"/admin/committees/{epln.id}"))
    assert 'value="any-reject-blocks" selected' in page or 'selected value="any-reject-blocks"' in page
    assert "(now governed by HOVON DAC)" in page and 'href="/admin/roles"' in page

    refused = post(adam, f"/admin/committees/{epln.id}", name="EPLN DAC", rule="chair-decides", quorum="abc",
                   voting_days="0", groups=[str(page_world.groups[0].id)])
    assert refused.status_code == 422
    page = text_of(refused)
    assert 'id="quorum-error"' in page and 'id="voting_days-error"' in page and 'value="abc"' in page
    assert re.search(rf'<input checked[^>]*value="{page_world.groups[0].id}"', page)  # the choice is kept
    with app.app_context():
        assert [g.acronym for g in committees.governed_groups(epln.id)] == ["EPLN"]  # nothing saved

    saved = post(adam, f"/admin/committees/{epln.id}", name="EPLN DAC", rule="chair-decides", quorum="3",
                 voting_days="30", agreement="EPLN agreement v1.", groups=[str(page_world.groups[0].id)])
    assert saved.status_code == 302
    with app.app_context():
        changed = committees.get_committee(epln.id)
        assert (changed.rule, changed.quorum, changed.voting_days, changed.agreement_version) == (
            "chair-decides", 3, 30, 1)
        assert [g.acronym for g in committees.governed_groups(epln.id)] == ["HOVON"]
        assert committees.governed_groups(hovon.id) == []
        assert {g.acronym: g.committee_id for g in catalog.groups()} == {"HOVON": epln.id, "EPLN": None}
    page = text_of(adam.get("/admin/committees"))
    assert "Chair decides" in page and "3 votes" in page


def test_the_committee_pages_are_for_admins(people, page_world, app):
    committee = page_world.committees[0].id
    for subject in ("olga", "chris", "alice"):
        assert people(subject).get("/admin/committees").status_code == 403, subject
        assert people(subject).get(f"/admin/committees/{committee}").status_code == 403, subject
    assert post(people("olga"), "/admin/committees", name="Sneaky DAC", rule="majority", quorum="2",
                voting_days="10").status_code == 403
    assert post(people("chris"), f"/admin/committees/{committee}", name="HOVON DAC", rule="unanimity", quorum="2",
                voting_days="10").status_code == 403
    anonymous = app.test_client().get("/admin/committees")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    with app.app_context():
        assert [c.name for c in committees.committees()] == ["EPLN DAC", "HOVON DAC"]
        assert committees.get_committee(committee).rule == "majority"

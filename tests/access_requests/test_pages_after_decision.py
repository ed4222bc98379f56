"""The pages after a decision: accepting the agreement on the proposal's page, the grants with their end
dates, the final report, renewals and amendments linked to the original, closing, removing a
co-applicant, revocation by a chair, and "My access".

People sign in at the development provider (`people`, `page_world`); the committees' side of the road is
driven through the JSON API with each person's token (`approve(api, page_world, …)`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import actions, committees
from harmony.access_requests.grants import add_months
from harmony.access_requests.models import Grant, Proposal
from harmony.accounts.models import User
from harmony.accounts.services import COMMAND_LINE
from tests.access_requests.conftest import act, approve, join_by_mail
from tests.factories import csrf_token

DATE = "%d %B %Y"  # the pages' one date format (access_requests/_macros.html `date`)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, **data):
    """Post a form as the client's browser would, with the CSRF token of its own session."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data})


def buttons(page: str) -> set[str]:
    """The labels of the action buttons on a proposal's page."""
    return {unescape(label).strip() for label in re.findall(r'id="action-[a-z-]+-button"[^>]*>([^<]+)</', page)}


def marked_invalid(page: str, field_id: str) -> bool:
    """The control is marked invalid and its message sits next to it."""
    control = re.search(rf'<(?:input|textarea|select) [^>]*id="{field_id}"[^>]*>', page).group(0)
    return 'aria-invalid="true"' in control and "is-invalid" in control and f'id="{field_id}-error"' in page


def textarea(page: str, field_id: str) -> str:
    """What a text area holds, as the browser shows it."""
    found = re.search(rf'<textarea [^>]*id="{field_id}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S).group(1)
    return unescape(found)


def error_of(page: str, field_id: str) -> str:
    return unescape(re.search(rf'id="{field_id}-error">(.*?)</div>', page, re.S).group(1)).strip()


def name_of(world, subject: str) -> str:
    with world.app.app_context():
        return db.session().get(User, world.users[subject]).display_name


def grants_of(world, proposal_id: int) -> list[Grant]:
    with world.app.app_context():
        return db.session().scalars(select(Grant).where(Grant.proposal_id == proposal_id).order_by(Grant.id)).all()


def proposal(world, proposal_id: int) -> Proposal:
    with world.app.app_context():
        return db.session().get(Proposal, proposal_id)


def active(api, world, subject: str = "alice", **fields) -> int:
    """An approved proposal of EPLN's datasets: no agreement to accept, active at once."""
    proposal_id = approve(api, world, subject, pids=world.datasets[2:], **fields)
    assert proposal(world, proposal_id).state == "active"
    return proposal_id


def hovon_active(api, world) -> int:
    """An approved proposal of HOVON's datasets, the agreement accepted over the API: active."""
    proposal_id = approve(api, world, pids=world.datasets[:2])
    assert act(api, world, "alice", proposal_id, "accept-agreement").get_json()["state"] == "active"
    return proposal_id


# --- the agreement --------------------------------------------------------------------------------


def test_alice_reads_and_accepts_the_agreement_and_sees_her_grants_with_their_end_dates(api, page_world, people):
    proposal_id = approve(api, page_world, pids=page_world.datasets[:2])
    hovon = page_world.committees[0].id
    alice = people("alice")
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert "HOVON DAC: data access agreement, version 1" in page and "HOVON data access agreement v1." in page
    assert "I have read and accept the data access agreement of HOVON DAC (version 1)" in page
    assert f'name="version_{hovon}" type="hidden" value="1"' in page
    decided = proposal(page_world, proposal_id).decided_at
    assert re.search(rf"by <time [^>]*>{(decided + timedelta(days=30)).strftime(DATE)}</time>", page)  # 30 days
    alice_name = name_of(page_world, "alice")
    assert re.search(rf"Still to accept</h3>\s*<ul>\s*<li>{alice_name}: HOVON DAC</li>", page)
    assert "Accept the agreement" in buttons(page)

    unticked = post(alice, f"/requests/{proposal_id}/agreement", **{f"version_{hovon}": "1"})
    assert unticked.status_code == 422
    assert marked_invalid(text_of(unticked), f"accept_{hovon}")
    assert error_of(text_of(unticked), f"accept_{hovon}") == "Tick the box to accept the agreement of HOVON DAC."
    assert proposal(page_world, proposal_id).state == "agreement"

    accepted = post(alice, f"/requests/{proposal_id}/agreement", **{f"accept_{hovon}": "y", f"version_{hovon}": "1"})
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith(f"/requests/{proposal_id}#grants")
    assert proposal(page_world, proposal_id).state == "active"
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert "You accepted the data access agreement. Access begins now" in page
    assert "I have read and accept" not in page and "Accept the agreement" not in buttons(page)
    grants = grants_of(page_world, proposal_id)
    assert len(grants) == 2
    table = page.split('id="grants-heading"', 1)[1].split("</table>", 1)[0]
    for grant in grants:
        assert grant.end == add_months(grant.start, 12)
        assert f'<time datetime="{grant.end.isoformat()}">{grant.end.strftime(DATE)}</time>' in table
    assert table.count(f"<td>{alice_name}</td>") == 2 and table.count(">Live</span>") == 2
    assert f'href="/datasets/{page_world.datasets[0]}"' in table


def test_a_changed_agreement_is_not_accepted_and_the_new_version_is_shown(api, page_world, people):
    proposal_id = approve(api, page_world, pids=page_world.datasets[:2])
    hovon = page_world.committees[0].id
    alice = people("alice")
    assert f'name="version_{hovon}" type="hidden" value="1"' in text_of(alice.get(f"/requests/{proposal_id}"))
    with page_world.app.app_context():  # meanwhile, the committee changes its agreement
        committees.update_committee(COMMAND_LINE, hovon, committees.CommitteeInput(
            name="HOVON DAC", rule="majority", quorum=2, voting_days=14, agreement="HOVON agreement v2: no copies."))

    stale = post(alice, f"/requests/{proposal_id}/agreement", **{f"accept_{hovon}": "y", f"version_{hovon}": "1"})
    assert stale.status_code == 302 and stale.headers["Location"].endswith(f"/requests/{proposal_id}#agreement")
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert "HOVON DAC changed its agreement (version 2); read the new version and accept it." in page
    assert "HOVON agreement v2: no copies." in page and f'name="version_{hovon}" type="hidden" value="2"' in page
    assert proposal(page_world, proposal_id).state == "agreement" and grants_of(page_world, proposal_id) == []

    accepted = post(alice, f"/requests/{proposal_id}/agreement", **{f"accept_{hovon}": "y", f"version_{hovon}": "2"})
    assert accepted.status_code == 302 and proposal(page_world, proposal_id).state == "active"


def test_committee_members_read_the_agreement_but_only_applicants_accept_it(api, page_world, people):
    proposal_id = approve(api, page_world, pids=page_world.datasets[:2])
    page = text_of(people("erin").get(f"/requests/{proposal_id}"))
    assert "HOVON data access agreement v1." in page and f"{name_of(page_world, 'alice')}: HOVON DAC" in page
    assert "I have read and accept" not in page and "Accept the agreement" not in buttons(page)
    hovon = page_world.committees[0].id
    refused = post(people("erin"), f"/requests/{proposal_id}/agreement", **{f"accept_{hovon}": "y",
                                                                             f"version_{hovon}": "1"})
    assert refused.status_code == 403 and proposal(page_world, proposal_id).state == "agreement"


# --- grants and the final report ------------------------------------------------------------------


def test_ended_and_revoked_grants_say_why_and_the_report_form_stays_after_expiry(api, page_world, people):
    proposal_id = active(api, page_world)
    first, second = page_world.datasets[2:]
    revoked = act(api, page_world, "ivy", proposal_id, "revoke", comment="Shared outside the project.",
                  dataset=first)
    assert revoked.status_code == 200
    alice = people("alice")
    rows = {pid: text_of(alice.get(f"/requests/{proposal_id}")).split(f"{pid}</span>", 1)[1].split("</tr>", 1)[0]
            for pid in (first, second)}
    assert "Revoked: Shared outside the project." in rows[first] and ">Live</span>" in rows[second]
    assert "File the final report" in buttons(text_of(alice.get(f"/requests/{proposal_id}")))

    later = max(g.end for g in grants_of(page_world, proposal_id)) + timedelta(days=1)
    with clock.frozen(later), page_world.app.app_context():  # `harmony requests tick`
        actions.act_on_proposal(actions.SYSTEM, proposal_id, "expire", actions.ActionInput())
    assert proposal(page_world, proposal_id).state == "expired"
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    row = page.split(f"{second}</span>", 1)[1].split("</tr>", 1)[0]
    assert "Ended (reached its end date)" in row
    assert "File the final report" in buttons(page) and "Ask for a renewal" in buttons(page)
    assert "Ask for an amendment" not in buttons(page) and "Close the project" not in buttons(page)


def test_the_report_form_keeps_what_was_typed_when_something_is_missing(api, page_world, people):
    proposal_id = active(api, page_world)
    alice = people("alice")
    typed = "10.1000/xyz123\nPMID: 31452104\nSmith J. Relapse in AML. Blood 2027."
    missing = post(alice, f"/requests/{proposal_id}/report", publications=typed, summary="We <b>found</b> it.")
    assert missing.status_code == 422
    page = text_of(missing)
    assert error_of(page, "data_deleted") == "Say whether the data were deleted (or when they will be)."
    assert re.search(r'<fieldset class="mb-3" aria-describedby="data_deleted-error', page)
    assert textarea(page, "publications") == typed  # kept as typed
    assert textarea(page, "summary") == "We <b>found</b> it." and "We &lt;b&gt;found" in page
    assert "Publications" not in text_of(alice.get(f"/requests/{proposal_id}")).split('id="report-heading"', 1)[1] \
        .split("<form", 1)[0]  # nothing filed

    filed = post(alice, f"/requests/{proposal_id}/report", publications=typed, data_deleted="no",
                 summary="We found it.")
    assert filed.status_code == 302 and filed.headers["Location"].endswith("#final-report")
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    report = page.split('id="report-heading"', 1)[1]
    assert "<li>PMID: 31452104</li>" in report and "Not yet" in report
    assert "Correct the final report" in report
    assert re.search(r'<input checked[^>]*value="no"|<input [^>]*value="no"[^>]*checked', report)
    register = client_register(api)
    entry = next(item for item in register if item["id"] == proposal_id)
    assert entry["publications"] == [
        {"title": "10.1000/xyz123", "url": "https://doi.org/10.1000/xyz123"},
        {"title": "PMID: 31452104", "url": "https://pubmed.ncbi.nlm.nih.gov/31452104/"},
        {"title": "Smith J. Relapse in AML. Blood 2027.", "url": None}]


def client_register(api) -> list[dict]:
    return api.get("/api/v1/register").get_json()["items"]


def test_closing_asks_for_confirmation_and_the_final_report_first(api, page_world, people):
    proposal_id = active(api, page_world)
    alice = people("alice")
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert "Close the project" in buttons(page) and 'id="confirm-close"' in page

    unsure = post(alice, f"/requests/{proposal_id}/close")
    assert unsure.status_code == 422 and marked_invalid(text_of(unsure), "confirm-close")
    assert error_of(text_of(unsure), "confirm-close") == "Tick “Yes, I am sure” to close the project."
    no_report = post(alice, f"/requests/{proposal_id}/close", confirm="y")
    assert no_report.status_code == 422 and "File the final report (publications, whether the data were deleted) " \
                                            "first." in unescape(text_of(no_report))
    assert proposal(page_world, proposal_id).state == "active"

    assert post(alice, f"/requests/{proposal_id}/report", data_deleted="yes").status_code == 302
    closed = post(alice, f"/requests/{proposal_id}/close", confirm="y")
    assert closed.status_code == 302 and proposal(page_world, proposal_id).state == "closed"
    assert {g.end_reason for g in grants_of(page_world, proposal_id)} == {"closed"}
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert "Ended (the project was closed)" in page and "Close the project" not in buttons(page)


def test_removing_a_co_applicant_asks_first_and_ends_only_their_grants(api, page_world, people):
    from tests.access_requests.conftest import draft, review_act

    proposal_id = draft(api, page_world, pids=page_world.datasets[2:])["id"]
    co_id = join_by_mail(page_world, proposal_id, "bruno")
    assert act(api, page_world, "alice", proposal_id, "submit").status_code == 200
    review = act(api, page_world, "olga", proposal_id, "send-to-review").get_json()["reviews"][0]["id"]
    for member in ("gus", "hana"):
        review_act(api, page_world, member, review, "vote", vote="approve")
    assert review_act(api, page_world, "ivy", review, "decide").status_code == 200
    assert proposal(page_world, proposal_id).state == "active"

    assert "action-remove-co-applicant" not in text_of(people("bruno").get(f"/requests/{proposal_id}"))
    alice = people("alice")
    assert f'id="action-remove-co-applicant-{co_id}-button"' in text_of(alice.get(f"/requests/{proposal_id}"))
    path = f"/requests/{proposal_id}/co-applicants/{co_id}/remove"
    unsure = post(alice, path)
    assert unsure.status_code == 422 and marked_invalid(text_of(unsure), f"confirm-remove-{co_id}")
    assert post(people("bruno"), path, confirm="y").status_code == 403
    removed = post(alice, path, confirm="y")
    assert removed.status_code == 302 and removed.headers["Location"].endswith("#co-applicants")
    grants = grants_of(page_world, proposal_id)
    assert {g.end_reason for g in grants if g.user_id == page_world.users["bruno"]} == {"removed"}
    assert all(g.ended_at is None for g in grants if g.user_id == page_world.users["alice"])
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert "bruno@example.org — joined" in page and "; removed <time" in page
    assert f'id="action-remove-co-applicant-{co_id}-button"' not in page


# --- renewals and amendments ----------------------------------------------------------------------


def test_the_renewal_button_opens_a_linked_draft_showing_what_differs(api, page_world, people):
    proposal_id = active(api, page_world)
    alice = people("alice")
    page = text_of(alice.get(f"/requests/{proposal_id}"))
    assert {"Ask for a renewal", "Ask for an amendment"} <= buttons(page)

    started = post(alice, f"/requests/{proposal_id}/renewal")
    assert started.status_code == 302
    with page_world.app.app_context():
        renewal = db.session().scalars(select(Proposal).where(Proposal.parent_id == proposal_id)).one()
    assert renewal.kind == "renewal" and renewal.state == "draft"
    assert started.headers["Location"].endswith(f"/requests/{renewal.id}/edit")
    assert f"Your renewal of proposal {proposal_id} is a draft" in text_of(alice.get(started.headers["Location"]))

    changed = api.patch(f"/api/v1/requests/{renewal.id}", json={"duration_months": 24, "title": "Relapse, continued"},
                        headers=page_world.headers("alice"))
    assert changed.status_code == 200, changed.get_json()
    page = text_of(alice.get(f"/requests/{renewal.id}"))
    banner = page.split('id="linked-heading"', 1)[1].split("</div>", 1)[0]
    assert f'Renewal of <a href="/requests/{proposal_id}">proposal {proposal_id}</a>' in banner
    differences = page.split('class="table table-sm changes-table"', 1)[1].split("</table>", 1)[0]
    assert f'<th scope="col">Proposal {proposal_id}</th><th scope="col">This renewal</th>' in differences
    assert re.search(r'Requested duration \(months\)</th><td class="typed-text changed-old">12 months</td>'
                     r'<td class="typed-text changed-new">24 months</td>', differences)
    assert "Relapse, continued" in differences and "Lay summary" not in differences

    original = text_of(alice.get(f"/requests/{proposal_id}"))
    listed = original.split('id="followups-heading"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/requests/{renewal.id}">Renewal: proposal {renewal.id}</a>' in listed and ">Draft</span>" in listed

    again = post(alice, f"/requests/{proposal_id}/amendment")  # one open follow-up at a time
    assert again.status_code == 409
    assert f"Proposal {renewal.id}, linked to this one, is still open" in text_of(again)


# --- revocation -----------------------------------------------------------------------------------


def test_chris_revokes_with_a_reason_and_confirmation(api, page_world, people):
    proposal_id = hovon_active(api, page_world)
    chris = people("chris")
    page = text_of(chris.get(f"/requests/{proposal_id}"))
    assert "Revoke access" in buttons(page)
    options = re.findall(r'<option [^>]*value="([^"]*)"', page.split('id="dataset"', 1)[1].split("</select>", 1)[0])
    assert options == ["", *sorted(page_world.datasets[:2])]

    no_reason = post(chris, f"/requests/{proposal_id}/revoke", confirm="y", dataset=page_world.datasets[0])
    assert no_reason.status_code == 422
    assert marked_invalid(text_of(no_reason), "reason")
    assert error_of(text_of(no_reason), "reason") == "Write a comment: revoke access needs one."
    assert all(g.revoked_at is None for g in grants_of(page_world, proposal_id))

    unsure = post(chris, f"/requests/{proposal_id}/revoke", reason="Data <shared> outside the project.")
    assert unsure.status_code == 422 and marked_invalid(text_of(unsure), "confirm-revoke")
    assert textarea(text_of(unsure), "reason") == "Data <shared> outside the project."  # kept

    revoked = post(chris, f"/requests/{proposal_id}/revoke", reason="Data shared outside the project.",
                   dataset=page_world.datasets[0], confirm="y")
    assert revoked.status_code == 302
    grants = {g.dataset_id: g for g in grants_of(page_world, proposal_id)}
    assert sorted(g.revoked_at is not None for g in grants.values()) == [False, True]
    page = text_of(people("alice").get(f"/requests/{proposal_id}"))
    assert "Revoked: Data shared outside the project." in page and ">Live</span>" in page


def test_a_member_who_is_not_chair_sees_no_revoke_button_and_may_not_post(api, page_world, people):
    proposal_id = hovon_active(api, page_world)
    erin = people("erin")
    page = text_of(erin.get(f"/requests/{proposal_id}"))
    assert "HOVON trial 1" in page  # she sees the proposal and its grants …
    assert "Revoke access" not in buttons(page) and 'name="reason"' not in page  # … but no revoke form
    refused = post(erin, f"/requests/{proposal_id}/revoke", reason="Members may not.", confirm="y")
    assert refused.status_code == 403
    assert all(g.revoked_at is None for g in grants_of(page_world, proposal_id))
    assert "Revoke access" not in buttons(text_of(people("alice").get(f"/requests/{proposal_id}")))


# --- My access ------------------------------------------------------------------------------------


def test_my_access_lists_only_my_own_grants_live_first(api, page_world, people):
    ended = hovon_active(api, page_world)  # first, so its grants end before the live ones would
    assert act(api, page_world, "chris", ended, "revoke", comment="Ended by the committee.").status_code == 200
    mine = active(api, page_world, title="Alice's EPLN project")
    theirs = approve(api, page_world, "bruno", pids=page_world.datasets[:2], title="Bruno's HOVON project")
    assert act(api, page_world, "bruno", theirs, "accept-agreement").get_json()["state"] == "active"

    response = people("alice").get("/access")
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="my-access-link"' in page and ">My access</a>" in page
    assert "Alice&#39;s EPLN project" in page and "Bruno&#39;s HOVON project" not in page
    assert f'href="/requests/{mine}"' in page and f'href="/requests/{theirs}"' not in page
    rows = re.findall(r'<tr class="grant-(\w+)">', page)
    assert rows == ["live", "live", "revoked", "revoked"]  # live first
    first = grants_of(page_world, mine)[0]
    days = (first.end.date() - clock.now().date()).days  # 12 months ahead: 365 or 366 calendar days
    assert days >= 365 and f"<td>{days} days</td>" in page and first.end.strftime(DATE) in page
    assert "2 live grants" in page

    bruno = text_of(people("bruno").get("/access"))
    assert "Bruno&#39;s HOVON project" in bruno and "Alice&#39;s EPLN project" not in bruno
    empty = text_of(people("dave").get("/access"))
    assert "You have no access to any dataset yet" in empty and "Access comes from an approved proposal" in empty


def test_my_access_needs_a_sign_in(app, page_world):
    response = app.test_client().get("/access")
    assert response.status_code == 302 and "/login" in response.headers["Location"]

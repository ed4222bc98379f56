"""`harmony requests tick` with the injected clock, on both databases: reminders 30 and 7 days before access
ends (one mail per person and proposal), expiry at the end, reminders before the other due dates and
escalations after them, each once; the due dates on the dashboard; the committees' days to answer and to
accept the agreement, editable like the voting days.

Proposals move through the API at T0 (a moment in the past, so the people's API tokens stay valid at every
moment the tests visit); the tick runs in-process through the command line runner.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import deadlines, grants
from harmony.access_requests.grants import add_months
from harmony.access_requests.models import Grant, Proposal, SentReminder
from harmony.notifications.models import Notice, OutboxMail
from tests.access_requests.conftest import act, approve, draft, join_by_mail, review_act, review_and_decide

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


def tick(world, at: datetime) -> str:
    with clock.frozen(at):
        result = world.app.test_cli_runner().invoke(args=["requests", "tick"])
    assert result.exit_code == 0, result.output
    return result.output


def line(output: str, start: str) -> str:
    return next(text for text in output.splitlines() if text.startswith(start))


def mails(world, kind: str) -> list[OutboxMail]:
    with world.app.app_context():
        return list(db.session().scalars(select(OutboxMail).where(OutboxMail.kind == kind).order_by(OutboxMail.id)))


def to(found: list[OutboxMail]) -> list[str]:
    return sorted(mail.to_address.split("@")[0] for mail in found)


def state(world, proposal_id: int) -> str:
    with world.app.app_context():
        return db.session().get(Proposal, proposal_id).state


def set_days(client, world, committee: int, **days) -> dict:
    """The admin changes a committee's days over the API (PUT takes the whole committee)."""
    listed = client.get("/api/v1/committees", headers=world.headers("adam")).get_json()["items"]
    current = next(item for item in listed if item["id"] == committee)
    body = {key: current[key] for key in ("name", "rule", "quorum", "voting_days", "answer_days", "agreement_days",
                                          "agreement")}
    response = client.put(f"/api/v1/committees/{committee}", json={**body, **days}, headers=world.headers("adam"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def active_at_t0(client, world, pids=None, co_applicant: str | None = None) -> int:
    """A proposal approved and active from T0, for 12 months."""
    with clock.frozen(T0):
        if co_applicant is None:
            proposal_id = approve(client, world, pids=pids)
        else:
            proposal_id = draft(client, world, pids=pids)["id"]
            join_by_mail(world, proposal_id, co_applicant)
            assert act(client, world, "alice", proposal_id, "submit").status_code == 200
            review_and_decide(client, world, proposal_id)
        for subject in ("alice", co_applicant):
            if subject and state(world, proposal_id) == "agreement":
                assert act(client, world, subject, proposal_id, "accept-agreement").status_code == 200
    assert state(world, proposal_id) == "active"
    return proposal_id


# --- the end of access ------------------------------------------------------------------------


def test_reminders_30_and_7_days_before_the_end_then_expiry(client, world):
    proposal_id = active_at_t0(client, world, co_applicant="bruno")
    end = add_months(T0, 12)
    with world.app.app_context():
        assert {g.end for g in db.session().scalars(select(Grant))} == {end}

    assert line(tick(world, end - 30 * DAY - MINUTE), "Reminders that access ends") == \
        "Reminders that access ends: 0 sent."
    assert mails(world, "access-ending") == []

    output = tick(world, end - 30 * DAY)
    assert line(output, "Reminders that access ends") == "Reminders that access ends: 2 sent, to 2 person(s)."
    first = mails(world, "access-ending")
    assert to(first) == ["alice", "bruno"]  # one mail each for their four grants
    alice = next(mail for mail in first if mail.to_address.startswith("alice"))
    assert "Access ends on 3 March 2026: Relapse in AML across trials" == alice.subject
    assert all(pid in alice.body_text for pid in world.datasets)
    assert "in 30 days" in alice.body_text and "File the final report" in alice.body_text
    assert f"http://harmony.test/requests/{proposal_id}" in alice.body_text
    bruno = next(mail for mail in first if mail.to_address.startswith("bruno"))
    assert "The applicant files the final report" in bruno.body_text

    tick(world, end - 29 * DAY)
    tick(world, end - 7 * DAY - MINUTE)
    assert len(mails(world, "access-ending")) == 2  # nothing new

    tick(world, end - 7 * DAY)
    second = mails(world, "access-ending")[2:]
    assert to(second) == ["alice", "bruno"] and all("in 7 days" in mail.body_text for mail in second)
    tick(world, end - 6 * DAY)
    tick(world, end - MINUTE)
    assert len(mails(world, "access-ending")) == 4
    assert state(world, proposal_id) == "active"

    output = tick(world, end)
    assert line(output, "Expired") == "Expired the access of 1 proposal(s) that reached its end."
    assert state(world, proposal_id) == "expired"
    with world.app.app_context():
        assert db.session().scalars(select(Grant).where(grants.live(end))).all() == []
        assert {g.end_reason for g in db.session().scalars(select(Grant))} == {"expired"}
        keys = sorted(db.session().scalars(select(SentReminder.key)))
    assert len(keys) == 4 and all(key.startswith(f"grant-end:{proposal_id}:") for key in keys)
    assert to(mails(world, "access-expired")) == ["alice", "bruno"]
    assert "Expired the access of 0" in tick(world, end + DAY)
    assert len(mails(world, "access-ending")) == 4 and len(mails(world, "access-expired")) == 2


def test_a_tick_that_did_not_run_for_weeks_sends_the_latest_reminder_only(client, world):
    proposal_id = active_at_t0(client, world, pids=world.datasets[2:])  # EPLN: no agreement
    end = add_months(T0, 12)
    tick(world, end - 5 * DAY)
    [late] = mails(world, "access-ending")
    assert "in 5 days" in late.body_text
    with world.app.app_context():
        assert list(db.session().scalars(select(SentReminder.key))) == [
            f"grant-end:{proposal_id}:{world.users['alice']}:{end:%Y%m%dT%H%M%S}:7"]
    tick(world, end - 4 * DAY)
    assert len(mails(world, "access-ending")) == 1


def test_after_the_end_only_the_expiry_no_reminder(client, world):
    proposal_id = active_at_t0(client, world, pids=world.datasets[2:])
    tick(world, add_months(T0, 12) + 3 * DAY)
    assert mails(world, "access-ending") == []
    assert state(world, proposal_id) == "expired"


# --- screening and voting -----------------------------------------------------------------------


def test_screening_overdue_goes_to_the_coordinators_once(client, world):
    with clock.frozen(T0):
        proposal_id = draft(client, world)["id"]
        assert act(client, world, "alice", proposal_id, "submit").status_code == 200
    tick(world, T0 + 5 * DAY - MINUTE)
    assert mails(world, "screening-overdue") == []
    output = tick(world, T0 + 5 * DAY)
    assert line(output, "Escalations of overdue screening") == "Escalations of overdue screening: 1 sent, to 1 person(s)."
    [mail] = mails(world, "screening-overdue")
    assert mail.to_address == "olga@example.org" and f"http://harmony.test/screening/{proposal_id}" in mail.body_text
    assert "Relapse in AML across trials" in mail.subject
    tick(world, T0 + 9 * DAY)
    assert len(mails(world, "screening-overdue")) == 1


def test_voting_reminder_to_who_has_not_voted_and_escalation_to_the_chair_without_quorum(client, world):
    with clock.frozen(T0):
        proposal_id = draft(client, world, pids=world.datasets[:2])["id"]  # HOVON DAC only: 14 days to vote
        act(client, world, "alice", proposal_id, "submit")
        [review] = act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"]
        assert review_act(client, world, "erin", review["id"], "vote", vote="approve").status_code == 200
    tick(world, T0 + 12 * DAY - MINUTE)
    assert mails(world, "voting-reminder") == []
    tick(world, T0 + 12 * DAY)
    reminded = mails(world, "voting-reminder")
    assert to(reminded) == ["chris", "dave", "fay"]  # not erin, who voted
    assert all(f"http://harmony.test/reviews/{review['id']}" in mail.body_text for mail in reminded)
    tick(world, T0 + 13 * DAY)
    assert len(mails(world, "voting-reminder")) == 3 and mails(world, "voting-overdue") == []

    output = tick(world, T0 + 14 * DAY)  # closed at the deadline with one vote of the two needed
    assert "Closed the voting of 1 overdue review(s)." in output
    [escalated] = mails(world, "voting-overdue")
    assert escalated.to_address == "chris@example.org" and "quorum" in escalated.body_text.lower()
    tick(world, T0 + 15 * DAY)
    assert len(mails(world, "voting-overdue")) == 1


def test_a_review_that_reached_its_quorum_is_not_escalated(client, world):
    with clock.frozen(T0):
        proposal_id = draft(client, world, pids=world.datasets[:2])["id"]
        act(client, world, "alice", proposal_id, "submit")
        [review] = act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"]
        for member in ("erin", "fay"):
            review_act(client, world, member, review["id"], "vote", vote="approve")
    tick(world, T0 + 14 * DAY)
    assert mails(world, "voting-overdue") == []
    assert mails(world, "voting-reminder") == []  # first seen at the deadline: too late to remind


# --- the answer to a question ---------------------------------------------------------------------


def test_answer_reminder_then_escalation_to_the_chair_and_the_coordinators(client, world):
    set_days(client, world, world.committees[0].id, answer_days=5)
    with clock.frozen(T0):
        proposal_id = draft(client, world, pids=world.datasets[:2])["id"]
        act(client, world, "alice", proposal_id, "submit")
        [review] = act(client, world, "olga", proposal_id, "send-to-review").get_json()["reviews"]
    with clock.frozen(T0 + DAY):
        assert review_act(client, world, "dave", review["id"], "ask-question",
                          comment="Which trials exactly?").status_code == 200
    asked = T0 + DAY
    tick(world, asked + 2 * DAY - MINUTE)
    assert mails(world, "answer-reminder") == []
    tick(world, asked + 2 * DAY)  # 3 days before the due date
    [reminder] = mails(world, "answer-reminder")
    assert reminder.to_address == "alice@example.org" and "Answer by 9 March 2025" in reminder.subject
    assert f"http://harmony.test/requests/{proposal_id}" in reminder.body_text

    stats = stats_at(client, world, asked + DAY)
    assert [item["reason"] for item in stats["overdue"]] == ["question"]

    tick(world, asked + 5 * DAY - MINUTE)
    assert mails(world, "answer-overdue") == []
    tick(world, asked + 5 * DAY)
    escalated = mails(world, "answer-overdue")
    assert to(escalated) == ["chris", "olga"]
    assert all(f"http://harmony.test/reviews/{review['id']}" in mail.body_text for mail in escalated)
    tick(world, asked + 6 * DAY)
    assert len(mails(world, "answer-overdue")) == 2 and len(mails(world, "answer-reminder")) == 1

    [late] = stats_at(client, world, asked + 7 * DAY)["overdue"]
    assert (late["reason"], late["review_id"], late["waiting_on"], late["days"]) == (
        "answer-overdue", review["id"], ["Alice"], 2.0)
    assert late["due"] == (asked + 5 * DAY).isoformat().replace("+00:00", "Z")


def stats_at(client, world, at: datetime) -> dict:
    with clock.frozen(at):
        response = client.get("/api/v1/stats/requests", headers=world.headers("olga"))
    assert response.status_code == 200
    return response.get_json()


# --- the agreement --------------------------------------------------------------------------------


def test_agreement_due_after_the_shortest_term_reminded_then_escalated(client, world):
    hovon, epln = (c.id for c in world.committees)
    set_days(client, world, epln, agreement_days=10, agreement="EPLN data access agreement v1.")  # HOVON: 30
    with clock.frozen(T0):
        proposal_id = draft(client, world)["id"]
        join_by_mail(world, proposal_id, "bruno")
    with clock.frozen(T0):
        act(client, world, "alice", proposal_id, "submit")
        review_and_decide(client, world, proposal_id)
    with clock.frozen(T0 + DAY):
        assert act(client, world, "bruno", proposal_id, "accept-agreement").status_code == 200
    assert state(world, proposal_id) == "agreement"

    tick(world, T0 + 7 * DAY - MINUTE)
    assert mails(world, "agreement-reminder") == []
    tick(world, T0 + 7 * DAY)  # 3 days before the shorter term, EPLN DAC's 10 days
    [reminder] = mails(world, "agreement-reminder")
    assert reminder.to_address == "alice@example.org"  # bruno has accepted
    assert "by 13 March 2025" in reminder.subject and "EPLN DAC" in reminder.body_text
    tick(world, T0 + 10 * DAY - MINUTE)
    assert mails(world, "agreement-overdue") == []
    tick(world, T0 + 10 * DAY)
    [escalated] = mails(world, "agreement-overdue")
    assert escalated.to_address == "olga@example.org" and "Alice" in escalated.body_text
    assert f"http://harmony.test/requests/{proposal_id}" in escalated.body_text
    tick(world, T0 + 11 * DAY)
    assert len(mails(world, "agreement-overdue")) == 1 and len(mails(world, "agreement-reminder")) == 1

    [late] = stats_at(client, world, T0 + 12 * DAY)["overdue"]
    assert (late["reason"], late["waiting_on"], late["days"]) == ("agreement", ["Alice"], 2.0)
    assert late["committee"] == "EPLN DAC, HOVON DAC"


def test_an_agreement_first_seen_after_its_due_date_is_only_escalated(client, world):
    with clock.frozen(T0):
        approve(client, world)  # HOVON DAC: 30 days to accept
    tick(world, T0 + 31 * DAY)
    assert mails(world, "agreement-reminder") == []
    assert to(mails(world, "agreement-overdue")) == ["olga"]


# --- the final report ---------------------------------------------------------------------------


def test_final_report_overdue_a_month_after_access_ended_unless_filed(client, world):
    expired = active_at_t0(client, world, pids=world.datasets[2:])
    filed = active_at_t0(client, world, pids=world.datasets[2:3])
    revoked = active_at_t0(client, world, pids=world.datasets[3:])
    with clock.frozen(T0 + 10 * DAY):
        assert act(client, world, "ivy", revoked, "revoke", comment="Shared outside the project.").status_code == 200
    end = add_months(T0, 12)
    grace = deadlines.REPORT_GRACE_DAYS * DAY

    tick(world, T0 + 10 * DAY + grace - MINUTE)
    assert mails(world, "report-overdue") == []
    tick(world, T0 + 10 * DAY + grace)
    [first] = mails(world, "report-overdue")
    assert first.to_address == "olga@example.org" and f"/requests/{revoked}" in first.body_text

    tick(world, end)
    assert state(world, expired) == "expired" and state(world, filed) == "expired"
    with clock.frozen(end + DAY):
        assert act(client, world, "alice", filed, "file-report", publications=["10.1000/xyz1"],
                   data_deleted=True).status_code == 200
    tick(world, end + grace - MINUTE)
    assert len(mails(world, "report-overdue")) == 1
    tick(world, end + grace)
    second = mails(world, "report-overdue")[1:]
    assert len(second) == 1 and f"/requests/{expired}" in second[0].body_text
    tick(world, end + grace + DAY)
    assert len(mails(world, "report-overdue")) == 2

    overdue = {item["proposal_id"]: item for item in stats_at(client, world, end + grace + DAY)["overdue"]}
    assert set(overdue) == {expired, revoked}
    assert overdue[expired]["reason"] == "final-report" and overdue[expired]["waiting_on"] == ["Alice"]
    assert overdue[expired]["days"] == 1.0


def test_a_submitted_renewal_continues_the_project_so_no_report_is_asked_of_the_original(client, world):
    original = active_at_t0(client, world, pids=world.datasets[2:])
    with clock.frozen(T0 + DAY):
        assert act(client, world, "alice", original, "renew").status_code == 200
    end = add_months(T0, 12)
    grace = deadlines.REPORT_GRACE_DAYS * DAY
    tick(world, end)
    tick(world, end + grace)  # a draft renewal does not count
    assert state(world, original) == "expired" and len(mails(world, "report-overdue")) == 1

    other = active_at_t0(client, world, pids=world.datasets[2:3])
    with clock.frozen(T0 + DAY):
        assert act(client, world, "alice", other, "renew").status_code == 200
        events = client.get(f"/api/v1/requests/{other}/events", headers=world.headers("alice")).get_json()
        assert act(client, world, "alice", events["items"][-1]["payload"]["linked"], "submit").status_code == 200
    tick(world, end + 2 * grace)
    assert state(world, other) == "expired" and len(mails(world, "report-overdue")) == 1  # the original's only


# --- exactly once, notices, the page, the committees' days ------------------------------------------


def test_each_reminder_is_a_notice_too_and_the_key_refuses_a_second_copy(client, world):
    proposal_id = active_at_t0(client, world, pids=world.datasets[2:])
    end = add_months(T0, 12)
    with world.app.app_context(), clock.frozen(end - 30 * DAY):
        mail, = deadlines.reminders(db.session(), end - 30 * DAY)
        assert deadlines.send_once(mail, end - 30 * DAY) is True
        assert deadlines.send_once(mail, end - 30 * DAY) is False  # the unique key: rolled back, nothing sent
    with world.app.app_context():
        notices = db.session().scalars(select(Notice).where(Notice.kind == "access-ending")).all()
    assert len(notices) == 1 and notices[0].link == f"/requests/{proposal_id}"
    assert len(mails(world, "access-ending")) == 1


def test_the_dashboard_page_lists_the_new_overdue_items(api, page_world, people):
    with clock.frozen(T0):
        waiting = approve(api, page_world)
        expired = approve(api, page_world, pids=page_world.datasets[2:], title="Expired without a report")
    tick(page_world, add_months(T0, 12) + 31 * DAY)
    at = add_months(T0, 12) + 32 * DAY
    stats = stats_at(api, page_world, at)
    assert {item["proposal_id"]: item["reason"] for item in stats["overdue"]} == {waiting: "agreement",
                                                                                 expired: "final-report"}
    assert stats["report_grace_days"] == deadlines.REPORT_GRACE_DAYS
    olga = people("olga")
    with clock.frozen(at):
        page = olga.get("/dashboard").get_data(as_text=True)
    for item in stats["overdue"]:
        row = page.split(f'data-proposal="{item["proposal_id"]}"', 1)[1].split("</tr>", 1)[0]
        assert f'href="/requests/{item["proposal_id"]}"' in row and "Alice" in row
        assert f'<td class="text-end days">{item["days"]}</td>' in row
    assert "Agreement not accepted in time" in page and "Final report overdue" in page


def test_committees_days_to_answer_and_to_accept_are_set_by_the_cli_and_the_api(client, world):
    runner = world.app.test_cli_runner()
    added = runner.invoke(args=["committees", "add", "ALLG DAC", "--answer-days", "7", "--agreement-days", "20"])
    assert added.exit_code == 0, added.output
    assert "7 to answer a question, 20 to accept the agreement" in added.output
    assert "7 to answer, 20 to accept the agreement" in runner.invoke(args=["committees", "list"]).output
    listed = client.get("/api/v1/committees", headers=world.headers("adam")).get_json()["items"]
    allg = next(c for c in listed if c["name"] == "ALLG DAC")
    assert (allg["voting_days"], allg["answer_days"], allg["agreement_days"]) == (14, 7, 20)
    again = set_days(client, world, allg["id"], answer_days=9)
    assert (again["answer_days"], again["agreement_days"]) == (9, 20)
    bad = client.put(f"/api/v1/committees/{allg['id']}", json={"name": "ALLG DAC", "agreement_days": 0},
                     headers=world.headers("adam"))
    assert bad.status_code == 422 and "agreement_days" in bad.get_json()["errors"]
    assert runner.invoke(args=["committees", "add", "X DAC", "--answer-days", "0"]).exit_code == 2


def test_tick_refuses_a_moved_clock_outside_debug_test_and_demo(world):
    runner = world.app.test_cli_runner()
    moved = runner.invoke(args=["requests", "tick", "--now", "2031-01-01T00:00:00Z"])
    assert moved.exit_code == 0, moved.output  # the test app is TESTING
    world.app.config["TESTING"] = False
    try:
        refused = runner.invoke(args=["requests", "tick", "--now", "2031-01-01T00:00:00Z"])
    finally:
        world.app.config["TESTING"] = True
    assert refused.exit_code == 2 and "only on debug, test and demo instances" in refused.output
    assert runner.invoke(args=["requests", "tick", "--now", "next week"]).exit_code == 2

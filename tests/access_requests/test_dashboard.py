"""The coordinators' dashboard and /api/v1/stats/requests: proposals per state, median and
90th-percentile time in state from the audit trail, overdue items with whom they wait on, and who may
see them. Proposals move through the API under a frozen clock, so every duration is known."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from harmony import clock
from harmony.access_requests import stats
from tests.access_requests.conftest import act, draft, review_act

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    return DAY0 + timedelta(days=days)



def move(api, world, subject: str, proposal_id: int, action: str, day: float, **body):
    with clock.frozen(at(day)):
        response = act(api, world, subject, proposal_id, action, **body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def timeline(api, world) -> dict:
    """Submitted at day 0, returned at day 2, resubmitted day 3, sent to both committees day 4."""
    with clock.frozen(at(-1)):
        proposal = draft(api, world)
    move(api, world, "alice", proposal["id"], "submit", 0)
    move(api, world, "olga", proposal["id"], "return", 2, comment="Name the trials.")
    move(api, world, "alice", proposal["id"], "resubmit", 3)
    sent = move(api, world, "olga", proposal["id"], "send-to-review", 4)
    return {"id": proposal["id"], **{r["committee"]: r["id"] for r in sent["reviews"]}}


def get_stats(api, world, subject: str = "olga", day: float = 5, **args):
    with clock.frozen(at(day)):
        return api.get("/api/v1/stats/requests", query_string=args, headers=world.headers(subject))


def time_of(body: dict, kind: str, state: str) -> dict:
    return next(t for t in body["time_in_state"] if t["kind"] == kind and t["state"] == state)


def count_of(body: dict, kind: str, state: str) -> int:
    return next(c["count"] for c in body["counts"] if c["kind"] == kind and c["state"] == state)


def test_counts_per_state(api, world):
    timeline(api, world)
    with clock.frozen(at(0)):
        second = draft(api, world, title="Second")["id"]
        act(api, world, "alice", second, "submit")
        draft(api, world, title="Still a draft")
    body = get_stats(api, world).get_json()
    assert count_of(body, "proposal", "under_review") == 1
    assert count_of(body, "proposal", "submitted") == 1
    assert count_of(body, "proposal", "draft") == 1
    assert count_of(body, "proposal", "returned") == 0
    assert count_of(body, "review", "voting") == 2


def test_median_and_p90_time_in_state_from_the_audit_trail(api, world):
    timeline(api, world)
    body = get_stats(api, world, day=5).get_json()
    submitted = time_of(body, "proposal", "submitted")
    assert submitted == {"kind": "proposal", "state": "submitted", "stays": 2,  # [2, 1] days
                         "median_days": 1.5, "p90_days": 1.9}
    assert time_of(body, "proposal", "returned")["median_days"] == 1.0
    # still under review and voting: counted to now (day 5)
    assert time_of(body, "proposal", "under_review")["median_days"] == 1.0
    assert time_of(body, "review", "voting") | {} == {"kind": "review", "state": "voting", "stays": 2,
                                                      "median_days": 1.0, "p90_days": 1.0}


def test_a_short_period_leaves_out_stays_that_ended_before_it(api, world):
    timeline(api, world)
    body = get_stats(api, world, day=5, period=2).get_json()  # from day 3: the first stay ended at day 2
    assert time_of(body, "proposal", "submitted")["stays"] == 1
    assert time_of(body, "proposal", "submitted")["median_days"] == 1.0


def test_question_time_and_overdue_question_wait_on_the_applicant(api, world):
    sent = timeline(api, world)
    with clock.frozen(at(5)):
        assert review_act(api, world, "dave", sent["HOVON DAC"], "ask-question",
                          comment="Which trials?").status_code == 200
    body = get_stats(api, world, day=6).get_json()
    [waiting] = [item for item in body["overdue"] if item["reason"] == "question"]
    assert waiting["review_id"] == sent["HOVON DAC"] and waiting["waiting_on"] == ["Alice"]
    move(api, world, "alice", sent["id"], "answer", 7, comment="HOVON 132 and 135.")
    body = get_stats(api, world, day=8).get_json()
    assert time_of(body, "review", "question")["median_days"] == 2.0
    assert not [item for item in body["overdue"] if item["reason"] == "question"]


def test_an_overdue_review_lists_who_it_waits_on(api, world):
    sent = timeline(api, world)  # HOVON DAC votes for 14 days: the deadline is day 18
    with clock.frozen(at(6)):
        assert review_act(api, world, "erin", sent["HOVON DAC"], "vote", vote="approve").status_code == 200
        assert review_act(api, world, "chris", sent["HOVON DAC"], "vote", vote="approve").status_code == 200
    before = get_stats(api, world, day=17).get_json()
    assert not [item for item in before["overdue"] if item["reason"] == "voting-deadline"]
    after = get_stats(api, world, day=19).get_json()
    [late] = [item for item in after["overdue"] if item["reason"] == "voting-deadline"]
    assert late["review_id"] == sent["HOVON DAC"] and late["committee"] == "HOVON DAC"
    assert sorted(late["waiting_on"]) == ["Chris", "Dave", "Fay"]  # erin voted; the chair voted, yet closes
    assert late["days"] == 1.0


def test_a_proposal_waiting_for_screening_is_overdue_after_the_configured_days(app, api, world):
    with clock.frozen(at(0)):
        waiting = draft(api, world, title="Waiting")["id"]
        act(api, world, "alice", waiting, "submit")

    def screening(day: float) -> list[dict]:
        return [item for item in get_stats(api, world, day=day).get_json()["overdue"] if item["reason"] == "screening"]

    assert screening(4.9) == []
    [late] = screening(5.1)
    assert late["proposal_id"] == waiting and late["waiting_on"] == ["the coordinators"]
    app.config["SCREENING_DAYS"] = 10
    assert screening(5.1) == []


@pytest.mark.parametrize("period", ["0", "3651", "soon", "-1"])
def test_a_bad_period_is_422(api, world, period):
    assert get_stats(api, world, period=period).status_code == 422


def test_a_researcher_gets_403_on_the_api_and_the_page(api, page_world, people):
    assert get_stats(api, page_world, subject="alice").status_code == 403
    assert people("alice").get("/dashboard").status_code == 403
    assert get_stats(api, page_world, subject="adam").status_code == 200
    assert people("olga").get("/dashboard").status_code == 200


def test_the_navigation_shows_the_dashboard_to_coordinators_and_admins(people, page_world):
    def has(subject: str) -> bool:
        return ">Dashboard</a>" in people(subject).get("/").get_data(as_text=True)

    assert has("olga") and has("adam") and not has("alice") and not has("dave")


def test_the_page_shows_what_the_api_returns(api, page_world, people):
    sent = timeline(api, page_world)
    olga = people("olga")  # signs in at the real time (the provider checks when its tokens were issued)
    with clock.frozen(at(20)):
        body = api.get("/api/v1/stats/requests?period=30", headers=page_world.headers("olga")).get_json()
        page = olga.get("/dashboard?period=30").get_data(as_text=True)
    assert body["period_days"] == 30 and 'value="30"' in page

    def row(table: str, state: str) -> str:
        section = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
        return re.search(rf'<tr data-state="{state}">(.*?)</tr>', section, re.S).group(1)

    def cell(html: str, name: str) -> str:
        return re.search(rf'class="text-end {name}">([^<]*)<', html).group(1)

    for item in body["counts"]:
        assert cell(row(f"table-counts-{item['kind']}", item["state"]), "count") == str(item["count"])
    for item in body["time_in_state"]:
        html = row(f"table-times-{item['kind']}", item["state"])
        assert cell(html, "stays") == str(item["stays"])
        for key, name in (("median_days", "median"), ("p90_days", "p90")):
            assert cell(html, name) == ("—" if item[key] is None else str(item[key]))
    assert body["overdue"], "the HOVON and EPLN reviews are past their deadlines at day 20"
    for item in body["overdue"]:
        html = page.split(f'data-proposal="{item["proposal_id"]}"', 1)[1].split("</tr>", 1)[0]
        assert item["title"] in page and cell(html, "days") == str(item["days"])
        assert all(name in html for name in item["waiting_on"])
    assert sent["id"] == body["overdue"][0]["proposal_id"]


def test_quantile_interpolates_between_ranks():
    assert stats.quantile([2, 1], 0.9) == pytest.approx(1.9)
    assert stats.quantile([5], 0.9) == 5
    assert stats.quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)

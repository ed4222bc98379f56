"""GET /api/v1/entitlements: who reads whose grants, the filters, paging, the CSV (and its formula
escaping), and the service tokens of data platforms (read-only; revoked ones refused)."""

from __future__ import annotations

import csv
import io

from harmony.access_requests import entitlements
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, TokenCreate
from harmony.platforms import tokens
from tests.access_requests.conftest import act, draft
from tests.factories import ISSUER
from tests.platforms.conftest import active_proposal, register

URL = "/api/v1/entitlements"


def get(client, world, subject=None, token=None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else world.headers(subject)
    return client.get(URL, query_string=params, headers=headers)


def items(response) -> list[dict]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def two_people_with_grants(client, world) -> dict[str, int]:
    """alice: the two EPLN datasets (active at once); bruno: the two HOVON datasets (after the agreement)."""
    return {"alice": active_proposal(client, world, "alice", world.datasets[2:]),
            "bruno": active_proposal(client, world, "bruno", world.datasets[:2])}


def test_an_item_names_the_person_dataset_proposal_and_period(client, world):
    proposal_id = active_proposal(client, world, "alice", world.datasets[2:3])
    [item] = items(get(client, world, "alice"))
    assert item["user"] == {"issuer": ISSUER, "subject": "alice", "email": "alice@example.org"}
    assert item["dataset"] == f"http://harmony.test/datasets/{world.datasets[2]}"  # the PID URL
    assert item["proposal"] == {"id": proposal_id, "url": f"http://harmony.test/api/v1/requests/{proposal_id}"}
    assert item["start"].endswith("Z") and item["end"].endswith("Z") and item["start"] < item["end"]
    assert (item["revoked_at"], item["ended_at"], item["end_reason"], item["active"]) == (None, None, None, True)


def test_a_person_reads_only_their_own(client, world):
    two_people_with_grants(client, world)
    own = items(get(client, world, "alice"))
    assert len(own) == 2 and {i["user"]["subject"] for i in own} == {"alice"}
    assert items(get(client, world, "alice", user="alice")) == own
    assert items(get(client, world, "alice", user="alice", iss=ISSUER)) == own
    for params in ({"user": "bruno"}, {"user": "nobody-at-all"}, {"user": "alice", "iss": "http://elsewhere.test"}):
        refused = get(client, world, "alice", **params)
        assert refused.status_code == 403, params
        assert refused.mimetype == "application/problem+json" and refused.get_json()["status"] == 403
    assert items(get(client, world, "olga")) == []  # a coordinator is no admin: her own, none
    assert get(client, world, "olga", user="alice").status_code == 403
    anonymous = client.get(URL)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")


def test_admins_and_service_tokens_read_everyones(app, client, world):
    two_people_with_grants(client, world)
    _platform, token = register(app, "Leiden SRE")
    for reader in ({"subject": "adam"}, {"token": token}):
        everyone = items(get(client, world, **reader))
        assert sorted(i["user"]["subject"] for i in everyone) == ["alice", "alice", "bruno", "bruno"], reader
        bruno = items(get(client, world, **reader, user="bruno"))
        assert len(bruno) == 2 and {i["user"]["subject"] for i in bruno} == {"bruno"}
        assert items(get(client, world, **reader, user="bruno", iss="http://elsewhere.test")) == []
        assert items(get(client, world, **reader, user="nobody-at-all")) == []


def test_filters_by_dataset_and_whether_active(client, world):
    ids = two_people_with_grants(client, world)
    pid = world.datasets[0]
    by_pid = items(get(client, world, "adam", dataset=pid))
    assert [i["dataset"] for i in by_pid] == [f"http://harmony.test/datasets/{pid}"]
    assert items(get(client, world, "adam", dataset=f"http://harmony.test/datasets/{pid}")) == by_pid
    assert items(get(client, world, "alice", dataset=pid)) == []  # bruno's dataset: none of alice's

    assert len(items(get(client, world, "adam", active="true"))) == 4
    assert items(get(client, world, "adam", active="false")) == []
    revoked = act(client, world, "chris", ids["bruno"], "revoke", comment="Shared outside the project.")
    assert revoked.status_code == 200, revoked.get_json()
    ended = items(get(client, world, "adam", active="false"))
    assert {i["user"]["subject"] for i in ended} == {"bruno"} and len(ended) == 2
    assert all(i["revoked_at"] and i["end_reason"] == "revoked" and not i["active"] for i in ended)
    still = items(get(client, world, "adam", active="true"))
    assert {i["user"]["subject"] for i in still} == {"alice"} and len(still) == 2
    assert items(get(client, world, "bruno", active="true")) == []

    for bad in ({"dataset": "HM-12"}, {"dataset": "http://harmony.test/datasets/nothing"}, {"active": "maybe"}):
        refused = get(client, world, "adam", **bad)
        assert refused.status_code == 422, bad
        assert set(refused.get_json()["errors"]) == set(bad), refused.get_json()


def test_pages_are_stable_and_complete(client, world):
    two_people_with_grants(client, world)
    seen = []
    for number in (1, 2, 3):
        page = get(client, world, "adam", page=number, per_page=2).get_json()
        assert (page["total"], page["page"], page["per_page"], page["pages"]) == (4, number, 2, 2)
        seen += page["items"]
    # pages 1 and 2 hold every grant once, oldest first; page 3 is past the end: empty, not an error
    assert len(seen) == 4 and [i["id"] for i in seen] == sorted({i["id"] for i in seen})
    for bad in ({"per_page": 101}, {"page": 0}, {"page": "two"}):
        assert get(client, world, "adam", **bad).status_code == 422, bad


def test_csv_has_every_row_with_a_header_and_iso_dates(client, world):
    two_people_with_grants(client, world)
    response = client.get(URL, query_string={"per_page": 1}, headers={**world.headers("adam"), "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4  # every matching row, not the page of one
    json_items = items(get(client, world, "adam"))
    assert [int(r["grant_id"]) for r in rows] == [i["id"] for i in json_items]
    first, item = rows[0], json_items[0]
    assert list(first) == list(entitlements.CSV_COLUMNS)
    assert (first["user_subject"], first["user_issuer"], first["dataset"], first["start"], first["end"],
            first["revoked_at"], first["active"]) == (item["user"]["subject"], ISSUER, item["dataset"], item["start"],
                                                     item["end"], "", "true")
    assert first["start"].endswith("Z") and "T" in first["start"]

    own = client.get(URL, headers={**world.headers("alice"), "Accept": "text/csv"})
    assert {r["user_subject"] for r in csv.DictReader(io.StringIO(own.get_data(as_text=True)))} == {"alice"}
    refused = client.get(URL, query_string={"user": "bruno"}, headers={**world.headers("alice"), "Accept": "text/csv"})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.get(URL, headers={**world.headers("adam"), "Accept": "*/*"}).mimetype == "application/json"


def test_the_csv_is_read_in_batches_without_repeats_or_gaps(app, client, world):
    two_people_with_grants(client, world)
    with app.app_context():
        query = entitlements.query_for(world.principal("adam"), entitlements.EntitlementQuery())
        whole = [item["id"] for item in entitlements.each(query)]
        assert len(whole) == 4
        for batch in (1, 3):
            assert [item["id"] for item in entitlements.each(query, batch=batch)] == whole, batch


def test_csv_cells_that_look_like_formulas_are_defused(app, client, world):
    with app.app_context():
        mallory = accounts.provision_user(ISSUER, "=HYPERLINK(\"http://evil.test\",\"x\")",
                                          {"name": "Mallory", "email": "@SUM(1+1)@example.org"})
        world.tokens["mallory"] = accounts.create_token(COMMAND_LINE, mallory.id, TokenCreate(name="t"))[1]
    proposal_id = draft(client, world, "mallory", world.datasets[2:3])["id"]
    assert act(client, world, "mallory", proposal_id, "submit").status_code == 200
    sent = act(client, world, "olga", proposal_id, "send-to-review").get_json()
    from tests.access_requests.conftest import review_act
    for member in ("gus", "hana"):
        review_act(client, world, member, sent["reviews"][0]["id"], "vote", vote="approve")
    assert review_act(client, world, "ivy", sent["reviews"][0]["id"], "decide").status_code == 200

    text = client.get(URL, headers={**world.headers("adam"), "Accept": "text/csv"}).get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["user_subject"] == "'=HYPERLINK(\"http://evil.test\",\"x\")"
    assert row["user_email"] == "'@SUM(1+1)@example.org"
    assert items(get(client, world, "adam"))[0]["user"]["subject"].startswith("=")  # the JSON is unchanged
    for cell in ("+1", "-1", "\t=1", "\r=1", "\uff1d1"):
        assert entitlements.csv_cell(cell) == "'" + cell
    assert entitlements.csv_cell("alice@example.org") == "alice@example.org"


def test_a_service_token_reads_but_never_writes_and_stops_when_revoked(app, client, world):
    active_proposal(client, world, "alice", world.datasets[2:])
    _platform, token = register(app, "Leiden SRE")
    assert token.startswith("hms_") and len(items(get(client, world, token=token))) == 2
    service = {"Authorization": f"Bearer {token}"}
    write = client.post("/api/v1/requests", json={"title": "A platform may not write"}, headers=service)
    assert write.status_code == 403 and write.mimetype == "application/problem+json"
    assert client.get("/api/v1/requests", headers=service).status_code == 403

    with app.app_context():
        tokens.revoke_platform(COMMAND_LINE, "Leiden SRE")
    refused = get(client, world, token=token)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert get(client, world, token="hms_not-a-token").status_code == 401

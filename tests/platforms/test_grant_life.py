"""One proposal's access from the start to the end, as the systems downstream see it at each step: the
entitlements API (JSON and CSV), the GA4GH passport (visas verified with the published keys) and the
signed webhooks — when the proposal becomes active, when a renewal replaces it, and when it is revoked."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import KeySet

from harmony import clock
from harmony.passports import keys
from tests.access_requests.conftest import act, approve, review_act


def _entitled(client, world) -> set[tuple[int, str]]:
    """(proposal, dataset PID) of alice's live grants, from the JSON and from the CSV (they must agree)."""
    items = client.get("/api/v1/entitlements", query_string={"active": "true"},
                       headers=world.headers("alice")).get_json()["items"]
    found = {(item["proposal"]["id"], item["dataset"].rsplit("/", 1)[-1]) for item in items}
    text = client.get("/api/v1/entitlements", query_string={"active": "true"},
                      headers={**world.headers("alice"), "Accept": "text/csv"}).get_data(as_text=True)
    assert {(int(row["proposal_id"]), row["dataset"].rsplit("/", 1)[-1]) for row in csv.DictReader(io.StringIO(text))} \
        == found
    return found


def _visas(client, world) -> set[tuple[str, int]]:
    """(dataset PID, asserted) of alice's visas, each verified against the JWKS."""
    key_set = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    found = set()
    for token in client.get("/api/v1/permissions/alice", headers=world.headers("alice")).get_json()["ga4gh_passport_v1"]:
        visa = jwt.decode(token, key_set).claims["ga4gh_visa_v1"]
        found.add((visa["value"].rsplit("/", 1)[-1], visa["asserted"]))
    return found


def _events(receiver, since: int) -> list[tuple[str, set[int]]]:
    assert all(r.signature_ok for r in receiver.received[since:])
    return [(r.json["event"], {g["proposal"]["id"] for g in r.json["grants"]}) for r in receiver.received[since:]]


def test_active_renewed_and_revoked_access_is_the_same_everywhere(app, client, world, platform, receiver, tmp_path):
    app.config["VISA_KEY_FILE"] = str(tmp_path / "visa-keys.json")
    with app.app_context():
        keys.rotate(clock.now())
    epln = set(world.datasets[2:])

    original = approve(client, world, pids=world.datasets[2:])  # EPLN DAC: no agreement, active at once
    assert _entitled(client, world) == {(original, pid) for pid in epln}
    assert {pid for pid, _asserted in _visas(client, world)} == epln
    assert _events(receiver, 0) == [("grant.started", {original})]

    assert act(client, world, "alice", original, "renew").status_code == 200
    renewal = client.get(f"/api/v1/requests/{original}", headers=world.headers("alice")).get_json()["linked"][0]["id"]
    later = clock.now() + timedelta(days=30)
    seen = len(receiver.received)
    with clock.frozen(later):
        assert act(client, world, "alice", renewal, "submit").status_code == 200
        review_id = act(client, world, "olga", renewal, "send-to-review").get_json()["reviews"][0]["id"]
        for member in ("gus", "hana"):
            review_act(client, world, member, review_id, "vote", vote="approve")
        assert review_act(client, world, "ivy", review_id, "decide").status_code == 200
        assert _entitled(client, world) == {(renewal, pid) for pid in epln}  # the original's grants ended
        assert _visas(client, world) == {(pid, int(later.timestamp())) for pid in epln}
        assert _events(receiver, seen) == [("grant.ended", {original}), ("grant.started", {renewal})]

        seen = len(receiver.received)
        revoked = act(client, world, "ivy", renewal, "revoke", comment="Data found on a shared drive.")
        assert revoked.get_json()["state"] == "revoked"
        assert _entitled(client, world) == set() and _visas(client, world) == set()
        assert _events(receiver, seen) == [("grant.revoked", {renewal})]

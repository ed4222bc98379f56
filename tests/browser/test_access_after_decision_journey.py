"""After the decision, in headless Chromium: Alice accepts the HOVON committee's agreement and sees her
grants with their end dates on the proposal and on "My access"; Chris, chair of the HOVON committee,
revokes access to his committee's dataset with a reason; it leaves Alice's GA4GH passport and her
entitlements CSV, while the other committee's dataset stays.

The proposal reaches its decision over the API (the first journey clicks that road); the steps here are
clicked, and the passport and CSV are read as a data platform would, over HTTP from the live server.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request

from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import expect

from harmony import clock
from harmony.passports import keys
from tests.access_requests.conftest import approve, build_world
from tests.browser.test_access_request_journey import done, menu, signed_in

REASON = "The data were copied outside the secure environment."


def _get(base: str, path: str, token: str, accept: str = "application/json") -> tuple[str, bytes]:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}", "Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (the live server on loopback)
        return response.headers.get_content_type(), response.read()


def _visa_datasets(base: str, token: str) -> set[str]:
    """The datasets Alice's passport grants, each visa verified with the published keys."""
    _type, body = _get(base, "/api/v1/permissions/alice", token)
    _type, keys = _get(base, "/.well-known/jwks.json", token)
    key_set = KeySet.import_key_set(json.loads(keys))
    values = set()
    for token_text in json.loads(body)["ga4gh_passport_v1"]:
        visa = jwt.decode(token_text, key_set)
        assert visa.claims["iss"] == base and visa.claims["sub"] == "alice"
        values.add(visa.claims["ga4gh_visa_v1"]["value"].rsplit("/", 1)[-1])
    return values


def _csv_datasets(base: str, token: str) -> set[str]:
    content_type, body = _get(base, "/api/v1/entitlements?active=true", token, "text/csv")
    assert content_type == "text/csv"
    return {row["dataset"].rsplit("/", 1)[-1] for row in csv.DictReader(io.StringIO(body.decode()))}


def test_alice_accepts_the_agreement_and_chris_revokes_one_dataset(browser, live_site, dev_provider, tmp_path):
    base, app = live_site
    app.config.update(BASE_URL=base, VISA_KEY_FILE=str(tmp_path / "visa-keys.json"))  # visas name this server
    with app.app_context():
        keys.rotate(clock.now())  # the first signing key, as `harmony keys rotate` makes it
    world = build_world(app, datasets_per_group=1, issuer=dev_provider.issuer)
    hovon_pid, epln_pid = world.datasets
    proposal_id = approve(app.test_client(), world)  # HOVON DAC (agreement v1) and EPLN DAC (none) approve
    path = f"/requests/{proposal_id}"
    alice = chris = None
    try:
        alice = signed_in(browser, base, "alice", path)
        agreement = alice.get_by_role("region", name="Data access agreement")
        expect(agreement.get_by_role("region", name="Agreement text of HOVON DAC, version 1")).to_contain_text(
            "HOVON data access agreement v1.")
        alice.get_by_role("button", name="Accept the agreement").click()
        expect(alice.get_by_text("I have read and accept")).to_be_visible()  # the box is not ticked: asked again
        alice.get_by_label("I have read and accept the data access agreement of HOVON DAC (version 1)").check()
        alice.get_by_role("button", name="Accept the agreement").click()
        done(alice, "You accepted the data access agreement. Access begins now")

        grants = alice.get_by_role("region", name="Access")
        for title in ("HOVON trial 1", "EPLN trial 1"):
            row = grants.get_by_role("row").filter(has_text=title)
            expect(row).to_contain_text("Live")
            expect(row.locator("td").nth(3)).to_have_text(re.compile(r"\d{2} \w+ \d{4}"))  # the end date
        assert _visa_datasets(base, world.tokens["alice"]) == {hovon_pid, epln_pid}
        assert _csv_datasets(base, world.tokens["alice"]) == {hovon_pid, epln_pid}

        chris = signed_in(browser, base, "chris", path)
        revoke = chris.get_by_role("form", name="Revoke access")
        revoke.get_by_label("Datasets").select_option(label=f"HOVON trial 1 ({hovon_pid})")
        revoke.get_by_role("button", name="Revoke access").click()  # no reason: asked for one, next to the field
        revoke = chris.get_by_role("form", name="Revoke access")
        expect(revoke.locator("#reason-error, .invalid-feedback").first).to_be_visible()
        revoke.get_by_label("Reason").fill(REASON)
        revoke.get_by_label("Datasets").select_option(label=f"HOVON trial 1 ({hovon_pid})")
        revoke.get_by_label("Yes, I am sure").check()
        revoke.get_by_role("button", name="Revoke access").click()
        done(chris, "Access is revoked")

        assert _visa_datasets(base, world.tokens["alice"]) == {epln_pid}
        assert _csv_datasets(base, world.tokens["alice"]) == {epln_pid}
        menu(alice, "My access")
        expect(alice.get_by_role("row").filter(has_text="HOVON trial 1")).to_contain_text("Revoked")
        expect(alice.get_by_role("row").filter(has_text="EPLN trial 1")).to_contain_text("Live")
    finally:
        for opened in (alice, chris):
            if opened is not None:
                opened.context.close()

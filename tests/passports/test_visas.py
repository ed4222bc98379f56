"""Visas as a data platform sees them: verified against the served JWKS with joserfc, claim names as the GA4GH
Passport v1 specification writes them ("Passport Visa Format", "Passport Visa Fields", ControlledAccessGrants),
capped at the grant's end, gone once the grant is revoked; tampered and expired visas fail."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from joserfc.errors import BadSignatureError, ExpiredTokenError
from sqlalchemy import select

from harmony import clock, db
from harmony.catalog.models import Dataset
from tests.passports.conftest import BASE_URL, JWKS_URL, act, active, grants, jwks, passport, verify, visas

HEADER = {"typ", "alg", "jku", "kid"}  # "Passport Visa Format"; the AAI Embedded Document Token needs jku
PAYLOAD = {"iss", "sub", "iat", "exp", "jti", "ga4gh_visa_v1"}  # no scope: optional, and never "openid" here
VISA_FIELDS = {"type", "asserted", "value", "source", "by"}  # no conditions: these grants have none
DAY = 86400


def _pid_url(pid: str) -> str:
    return f"{BASE_URL}/datasets/{pid}"


def test_a_visa_per_live_grant_verifies_with_the_served_keys_and_names_its_claims_as_the_spec_does(client, world):
    proposal_id = active(client, world)  # HOVON DAC (agreement accepted) and EPLN DAC: four datasets
    expected = set()
    with world.app.app_context():
        pid_of = {d.id: d.pid for d in db.session().scalars(select(Dataset))}
    for grant in grants(world.app, proposal_id):
        expected.add((_pid_url(pid_of[grant.dataset_id]), f"{BASE_URL}/committees/{grant.committee_id}",
                      int(grant.start.timestamp())))
    hovon, epln = (committee.id for committee in world.committees)
    assert {source for _value, source, _start in expected} == {f"{BASE_URL}/committees/{hovon}",
                                                                f"{BASE_URL}/committees/{epln}"}
    later = clock.now() + timedelta(minutes=5)  # minted a while after the grants started: iat != asserted
    with clock.frozen(later):
        response = passport(client, world)
        served = jwks(client)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    found = response.get_json()["ga4gh_passport_v1"]
    assert len(found) == len(expected) == 4
    seen, ids = set(), set()
    for token in found:
        decoded = verify(token, served, at=later)
        assert set(decoded.header) == HEADER
        assert decoded.header["typ"] == "JWT" and decoded.header["alg"] == "RS256"
        assert decoded.header["jku"] == JWKS_URL
        assert decoded.header["kid"] in {key["kid"] for key in served["keys"]}
        claims = decoded.claims
        assert set(claims) == PAYLOAD
        assert claims["iss"] == BASE_URL and claims["sub"] == "alice"
        assert claims["iat"] == int(later.timestamp())
        assert claims["exp"] == claims["iat"] + DAY  # the grant runs a year: the visa lifetime decides
        visa = claims["ga4gh_visa_v1"]
        assert set(visa) == VISA_FIELDS
        assert visa["type"] == "ControlledAccessGrants" and visa["by"] == "dac"
        assert all(isinstance(visa[name], str) for name in ("value", "source"))
        assert isinstance(visa["asserted"], int) and visa["asserted"] < claims["iat"]
        seen.add((visa["value"], visa["source"], visa["asserted"]))
        ids.add(claims["jti"])
    assert seen == expected
    assert {value for value, _source, _start in seen} == {_pid_url(pid) for pid in world.datasets}
    assert len(ids) == 4  # jti: one per token


def test_the_lifetime_setting_shortens_visas(client, world):
    active(client, world, pids=world.datasets[2:])
    world.app.config["VISA_LIFETIME_SECONDS"] = 3600
    claims = verify(visas(client, world)[0], jwks(client)).claims
    assert claims["exp"] - claims["iat"] == 3600


def test_exp_never_passes_the_grants_end_and_an_ended_grant_gives_no_visa(client, world):
    proposal_id = active(client, world, pids=world.datasets[2:3], duration_months=1)  # within the token's 90 days
    [grant] = grants(world.app, proposal_id)
    shortly_before = grant.end - timedelta(hours=1)
    with clock.frozen(shortly_before):
        [token] = visas(client, world)
        claims = verify(token, jwks(client), at=shortly_before).claims
        assert claims["exp"] == int(grant.end.timestamp())  # not iat + one day
        assert claims["exp"] - claims["iat"] == 3600
    with clock.frozen(grant.end + timedelta(seconds=1)):  # `requests tick` has not run yet: still no visa
        assert visas(client, world) == []


def test_a_tampered_visa_fails_verification(client, world):
    active(client, world, pids=world.datasets[2:3])
    token = visas(client, world)[0]
    served = jwks(client)
    verify(token, served)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "bruno"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        verify(f"{header}.{forged}.{signature}", served)
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    with pytest.raises(BadSignatureError):
        verify(f"{header}.{payload}.{flipped}", served)


def test_an_expired_visa_fails_verification(client, world):
    active(client, world, pids=world.datasets[2:3])
    issued = clock.now()
    with clock.frozen(issued):
        token = visas(client, world)[0]
    served = jwks(client)
    verify(token, served, at=issued + timedelta(seconds=DAY - 1))
    with pytest.raises(ExpiredTokenError):
        verify(token, served, at=issued + timedelta(seconds=DAY + 1))


def test_a_revoked_grant_leaves_the_passport_at_once(client, world):
    proposal_id = active(client, world)
    assert len(visas(client, world)) == 4
    revoked = act(client, world, "chris", proposal_id, "revoke", comment="The data were shared outside the project.")
    assert revoked.status_code == 200, revoked.get_json()
    left = [verify(token, jwks(client)).claims["ga4gh_visa_v1"]["value"] for token in visas(client, world)]
    assert sorted(left) == sorted(_pid_url(pid) for pid in world.datasets[2:])  # only EPLN DAC's datasets
    act(client, world, "adam", proposal_id, "revoke", comment="The project is stopped.")
    assert visas(client, world) == []


def test_no_visa_before_the_agreement_is_accepted(client, world):
    from tests.passports.conftest import approve

    approve(client, world)  # waits for alice to accept HOVON DAC's agreement
    assert visas(client, world) == []

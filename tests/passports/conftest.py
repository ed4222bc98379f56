"""The access-request consortium (tests/access_requests/conftest.py) with a visa key file, and helpers that
read passports and verify visas the way a data platform does: with joserfc, against the served JWKS."""

from __future__ import annotations

from datetime import datetime

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests.models import Grant
from harmony.passports import keys
from tests.access_requests.conftest import act, approve, build_world

__all__ = ["act", "approve"]

BASE_URL = "http://harmony.test"  # tests/conftest.py's make_app
JWKS_URL = BASE_URL + "/.well-known/jwks.json"


@pytest.fixture
def app(app, tmp_path):
    """The shared app (both databases) with a key file in the test's folder and a first key in it."""
    app.config["VISA_KEY_FILE"] = str(tmp_path / "visa-keys" / "keys.json")
    (tmp_path / "visa-keys").mkdir()
    with app.app_context():
        keys.rotate(clock.now())
    return app


@pytest.fixture
def world(app):
    """tests/access_requests/conftest.py's consortium, in this app."""
    return build_world(app)


def key_file(app):
    from pathlib import Path

    return Path(app.config["VISA_KEY_FILE"])


def passport(client, world, subject: str = "alice", reader: str | None = None, **query):
    """GET /api/v1/permissions/<subject> with `reader`'s token (default: the person themself)."""
    return client.get(f"/api/v1/permissions/{subject}", query_string=query,
                      headers=world.headers(reader or subject))


def visas(client, world, subject: str = "alice", reader: str | None = None) -> list[str]:
    response = passport(client, world, subject, reader)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["ga4gh_passport_v1"]


def jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def verify(token: str, key_set: dict, at: datetime | None = None):
    """What a data platform checks: the signature with the key the header's kid names, then iss, exp and
    the presence of every claim the specification requires. Raises joserfc's errors."""
    decoded = jwt.decode(token, KeySet.import_key_set(key_set), algorithms=["RS256"])
    moment = at or clock.now()
    JWTClaimsRegistry(now=int(moment.timestamp()), iss={"essential": True, "value": BASE_URL},
                      sub={"essential": True}, iat={"essential": True}, exp={"essential": True},
                      jti={"essential": True}, ga4gh_visa_v1={"essential": True}).validate(decoded.claims)
    return decoded


def active(client, world, subject: str = "alice", pids: list[str] | None = None, **fields) -> int:
    """A proposal approved by every committee asked and, where HOVON DAC's agreement applies, accepted over
    the API: its grants are live. Returns its id."""
    proposal_id = approve(client, world, subject, pids, **fields)
    accepted = act(client, world, subject, proposal_id, "accept-agreement")
    if accepted.status_code != 409:  # EPLN-only proposals are active at once: nothing to accept
        assert accepted.status_code == 200, accepted.get_json()
        assert accepted.get_json()["state"] == "active"
    return proposal_id


def grants(app, proposal_id: int) -> list[Grant]:
    with app.app_context():
        return list(db.session().scalars(select(Grant).where(Grant.proposal_id == proposal_id).order_by(Grant.id)))

"""A person's GA4GH passport: one signed ControlledAccessGrants visa per live grant.

Claim names follow the GA4GH Passport v1 specification ("Passport Visa Format", "Passport Visa Fields",
"ControlledAccessGrants") and the AAI profile's Embedded Document Token it points to:

    header  {"typ": "JWT", "alg": "RS256", "jku": <BASE_URL>/.well-known/jwks.json, "kid": <signing key>}
    payload {"iss": <BASE_URL>, "sub": <the person's OIDC subject>, "iat": now, "jti": <unique>,
             "exp": min(now + HARMONY_VISA_LIFETIME_SECONDS, the grant's end),
             "ga4gh_visa_v1": {"type": "ControlledAccessGrants", "asserted": <grant start>,
                               "value": <the dataset's PID URL>, "source": <BASE_URL>/committees/<id>,
                               "by": "dac"}}

No `scope` claim: a document token may leave it out, and must not say "openid" in it. `source` names the
committee that decided by its id, which never changes (its name may); the URL is an identifier a data
platform compares as a string (the specification forbids fetching it to decide).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import current_app
from joserfc import jwt
from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests.grants import live
from harmony.access_requests.models import Grant
from harmony.access_requests.permissions import can_read_grants_of
from harmony.accounts.models import Identity
from harmony.accounts.permissions import Principal
from harmony.catalog.exports.builder import landing_url
from harmony.catalog.models import Dataset
from harmony.errors import Conflict, NotFound
from harmony.passports import keys

VISA_TYPE = "ControlledAccessGrants"
JWKS_PATH = "/.well-known/jwks.json"


class AmbiguousSubject(Conflict):
    """Several people the reader may see have this subject, at different providers: `iss` must say which."""

    type_slug = "ambiguous-subject"

    def __init__(self, subject: str, issuers: list[str]):
        super().__init__(f"Subject {subject!r} is known at several identity providers; name one with the `iss` "
                         "query parameter.")
        self.issuers = issuers


def committee_url(base_url: str, committee_id: int) -> str:
    return f"{base_url}/committees/{committee_id}"


def holder(reader: Principal, subject: str, issuer: str | None = None) -> int:
    """The user whose passport `reader` asks for. Someone the reader may not read answers as an unknown subject
    does (404), so nobody learns who has an account here from this endpoint."""
    query = select(Identity).where(Identity.subject == subject)
    if issuer:
        query = query.where(Identity.issuer == issuer)
    readable = [identity for identity in db.session().scalars(query) if can_read_grants_of(reader, identity.user_id)]
    if not readable:
        raise NotFound("No passport for this subject here.")
    if len({identity.user_id for identity in readable}) > 1:
        raise AmbiguousSubject(subject, sorted({identity.issuer for identity in readable}))
    return readable[0].user_id


def claims(subject: str, grant: Grant, pid: str, now: datetime) -> dict:
    """The JWT payload of one visa (see the module's docstring)."""
    base_url = current_app.config["BASE_URL"]
    issued = int(now.timestamp())
    return {
        "iss": base_url,
        "sub": subject,
        "iat": issued,
        "exp": int(min(now + keys.lifetime(), grant.end).timestamp()),
        "jti": str(uuid.uuid4()),
        "ga4gh_visa_v1": {
            "type": VISA_TYPE,
            "asserted": int(grant.start.timestamp()),
            "value": landing_url(base_url, pid),
            "source": committee_url(base_url, grant.committee_id),
            "by": "dac",
        },
    }


def sign(payload: dict, key: keys.StoredKey) -> str:
    header = {"typ": "JWT", "alg": keys.ALGORITHM, "jku": current_app.config["BASE_URL"] + JWKS_PATH, "kid": key.kid}
    return jwt.encode(header, payload, key.signer, algorithms=[keys.ALGORITHM])


def passport(reader: Principal, subject: str, issuer: str | None = None) -> list[str]:
    """The `ga4gh_passport_v1` list: a visa per grant of the person that gives access now (revoked, ended and
    expired grants give none)."""
    user_id = holder(reader, subject, issuer)
    now = clock.now()
    key = keys.signing_key(now)
    rows = db.session().execute(
        select(Grant, Dataset.pid).join(Dataset, Dataset.id == Grant.dataset_id)
        .where(Grant.user_id == user_id, live(now)).order_by(Grant.start, Grant.id)).all()
    visas = []
    for grant, pid in rows:
        payload = claims(subject, grant, pid, now)
        if payload["exp"] > payload["iat"]:  # a grant ending within the second: nothing left to assert
            visas.append(sign(payload, key))
    return visas

"""GET /.well-known/jwks.json (the public keys that verify visas) and GET /api/v1/permissions/<subject>
(a GA4GH passport). Errors here are problem+json, the JWKS's too, although it is not under /api/."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from harmony import clock
from harmony.accounts.current import principal, reader_required
from harmony.error_pages import problem
from harmony.passports import keys, visas

passports_api = Blueprint("passports_api", __name__)

JWKS_MAX_AGE = 300  # seconds: a platform that meets an unknown kid after a rotation fetches the JWKS again


@passports_api.errorhandler(keys.KeysUnavailable)
def _keys_unavailable(error: keys.KeysUnavailable):
    return problem(error.status, error.title, error.detail, error.type_slug)


@passports_api.errorhandler(visas.AmbiguousSubject)
def _ambiguous(error: visas.AmbiguousSubject):
    return problem(error.status, error.title, error.detail, error.type_slug, issuers=error.issuers)


@passports_api.get(visas.JWKS_PATH)
def jwks():
    """Public members only; a retired key stays until the visas it signed have expired."""
    response = jsonify({"keys": [key.public() for key in keys.published(clock.now())]})
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE
    return response


@passports_api.get("/api/v1/permissions/<path:subject>")
@reader_required
def permissions(subject: str):
    """The person themself, admins and data platforms' service tokens; anyone else gets 404."""
    found = visas.passport(principal(), subject, request.args.get("iss") or None)
    response = jsonify({"ga4gh_passport_v1": found})
    response.cache_control.no_store = True
    return response

"""The OpenAPI description of the passport endpoints; harmony/api/openapi.py merges these paths in."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
PROBLEM = "application/problem+json"


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


UNAVAILABLE = _problem("Visas cannot be signed here: HARMONY_VISA_KEY_FILE is not set, or names no key file yet "
                       "(`harmony keys rotate` makes the first key).")

PUBLIC_JWK = {"type": "object", "required": ["kty", "kid", "n", "e"], "additionalProperties": False, "properties": {
    "kty": {"const": "RSA"}, "kid": {"type": "string", "description": "RFC 7638 thumbprint; a visa's header names it."},
    "alg": {"const": "RS256"}, "use": {"const": "sig"}, "n": {"type": "string"}, "e": {"type": "string"}}}


def paths() -> dict[str, Any]:
    return {
        "/.well-known/jwks.json": {"get": {
            "operationId": "getVisaKeys", "tags": ["passports"], "security": [{}],
            "summary": "The public keys that verify GA4GH visas (a JWK Set, as a visa's `jku` names it)",
            "description": "The key that signs now and every retired key some unexpired visa may still name; a "
                           "retired key leaves once the visas it signed have expired. Public members only. "
                           "Cache-Control: public, max-age=300; fetch again when a visa names an unknown kid.",
            "responses": {"200": {"description": "The JWK Set.", "content": {JSON: {"schema": {
                "type": "object", "required": ["keys"],
                "properties": {"keys": {"type": "array", "items": PUBLIC_JWK}}}}}},
                "503": UNAVAILABLE}}},
        "/api/v1/permissions/{subject}": {"get": {
            "operationId": "getPassport", "tags": ["passports"], "security": [{"bearer": []}],
            "summary": "A person's GA4GH passport: a signed ControlledAccessGrants visa per live grant",
            "description": "For the person themself, admins and data platforms' service tokens. Each visa is a JWT "
                           "(RS256; header typ, alg, jku, kid) with iss (this Harmony's base URL), sub, iat, exp "
                           "(at most HARMONY_VISA_LIFETIME_SECONDS ahead, never after the grant's end), jti and "
                           "ga4gh_visa_v1 {type: ControlledAccessGrants, value: the dataset's PID URL, source: "
                           "the deciding committee's URL, by: dac, asserted: the grant's start}. Revoked, ended and "
                           "expired grants give no visa. A subject nobody the token may read has answers 404, "
                           "another person's passport too.",
            "parameters": [
                {"name": "subject", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "The person's subject at their identity provider (OIDC `sub`)."},
                {"name": "iss", "in": "query", "schema": {"type": "string"},
                 "description": "The identity provider's issuer, needed when several providers know the subject."}],
            "responses": {
                "200": {"description": "The passport claim (an empty list: no live grants).", "content": {JSON: {
                    "schema": {"type": "object", "required": ["ga4gh_passport_v1"], "properties": {
                        "ga4gh_passport_v1": {"type": "array", "items": {
                            "type": "string", "description": "A visa: JWS compact serialization."}}}}}}},
                "401": {"$ref": "#/components/responses/E401"},
                "404": {"$ref": "#/components/responses/E404"},
                "409": _problem("Several identity providers know this subject: `issuers` lists them; send one as "
                                "`iss`."),
                "503": UNAVAILABLE}}},
    }

"""The OpenAPI description of GET /api/v1/entitlements; harmony/api/openapi.py merges these paths in.

Self-contained (it refers only to the shared components Problem and E4xx), so the shared document needs
no more than one import and one merge."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
_DATE_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}

ENTITLEMENT = {
    "type": "object",
    "required": ["id", "user", "dataset", "proposal", "start", "end", "ended_at", "end_reason", "revoked_at", "active"],
    "description": "One grant: a person's access to one dataset through one proposal. Webhook bodies carry the "
                   "same items.",
    "properties": {
        "id": {"type": "integer", "description": "The grant's id."},
        "user": {"type": "object", "required": ["issuer", "subject", "email"], "properties": {
            "issuer": {"type": ["string", "null"], "description": "The identity provider (OIDC `iss`)."},
            "subject": {"type": ["string", "null"], "description": "The person's `sub` there."},
            "email": {"type": ["string", "null"]}}},
        "dataset": {"type": "string", "format": "uri", "description": "The dataset's PID URL."},
        "proposal": {"type": "object", "required": ["id", "url"], "properties": {
            "id": {"type": "integer"}, "url": {"type": "string", "format": "uri",
                                               "description": "The proposal in this API."}}},
        "start": _DATE_TIME,
        "end": {**_DATE_TIME, "description": "When access ends unless it ends earlier."},
        "ended_at": {**_NULLABLE_DATE_TIME, "description": "When it ended (expired, closed, replaced by a renewal "
                                                           "or amendment, co-applicant removed, revoked)."},
        "end_reason": {"enum": ["expired", "closed", "replaced", "removed", "revoked", None]},
        "revoked_at": _NULLABLE_DATE_TIME,
        "active": {"type": "boolean", "description": "Gives access now: started, not ended, end ahead."},
    },
}


def paths() -> dict[str, Any]:
    from harmony.access_requests.entitlements import CSV_COLUMNS

    page = {"type": "integer", "minimum": 0}
    return {"/api/v1/entitlements": {"get": {
        "operationId": "listEntitlements", "tags": ["entitlements"], "security": [{"bearer": []}],
        "summary": "Grants: the token's user's own; everyone's for admins and data platforms' service tokens",
        "description": "A personal API token reads its user's grants only; naming another person in `user` is "
                       "refused with 403. An admin's token or a data platform's service token (`hms_…`, made by "
                       "an admin with `harmony platforms add` or on /admin/platforms; read-only) reads all. "
                       "Items come oldest grant first. With `Accept: text/csv` the answer is every matching "
                       "grant (page and per_page do not apply) as CSV with a header row: "
                       f"{', '.join(CSV_COLUMNS)}; times in ISO 8601 (UTC); a cell starting with = + - @ "
                       "is prefixed with ' so that spreadsheets do not run it.",
        "parameters": [
            {"name": "user", "in": "query", "schema": {"type": "string"},
             "description": "A person's subject at their identity provider (OIDC `sub`)."},
            {"name": "iss", "in": "query", "schema": {"type": "string"},
             "description": "The identity provider of `user`, when several know that subject."},
            {"name": "dataset", "in": "query", "schema": {"type": "string"},
             "description": "A dataset PID (HM-000001) or its PID URL."},
            {"name": "active", "in": "query", "schema": {"type": "boolean"},
             "description": "true: only grants that give access now; false: only the others."},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10**6,
                                                        "default": 1}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100,
                                                            "default": 25}}],
        "responses": {
            "200": {"description": "One page of entitlements, or all of them as CSV.", "content": {
                JSON: {"schema": {"type": "object", "required": ["total", "page", "per_page", "pages", "items"],
                                  "properties": {"total": page, "page": page, "per_page": page, "pages": page,
                                                 "items": {"type": "array", "items": ENTITLEMENT}}}},
                "text/csv": {"schema": {"type": "string"}}}},
            **{str(code): {"$ref": f"#/components/responses/E{code}"} for code in (401, 403, 422)}}}}}

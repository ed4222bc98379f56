"""Domain errors raised by services and mapped once to HTML pages and problem+json."""

from __future__ import annotations


class HarmonyError(Exception):
    """Base of the errors a service may raise; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class NotFound(HarmonyError):
    status, title, type_slug = 404, "Not found", "not-found"


class PermissionDenied(HarmonyError):
    status, title, type_slug = 403, "Not allowed", "forbidden"


class InvalidTransition(HarmonyError):
    status, title, type_slug = 409, "Not possible in the current state", "invalid-transition"


class Conflict(HarmonyError):
    status, title, type_slug = 409, "Conflict", "conflict"


class Gone(HarmonyError):
    status, title, type_slug = 410, "Gone", "gone"


class MalformedBody(HarmonyError):
    status, title, type_slug = 400, "Malformed request body", "malformed-body"


class PreconditionFailed(HarmonyError):
    status, title, type_slug = 412, "Precondition failed", "precondition-failed"


class UnsupportedMediaType(HarmonyError):
    status, title, type_slug = 415, "Unsupported media type", "unsupported-media-type"


class ValidationError(HarmonyError):
    """Input failed validation; `fields` maps each field name to its messages."""

    status, title, type_slug = 422, "Invalid input", "validation-error"

    def __init__(self, detail: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(detail or "Some fields need attention.")
        self.fields = fields or {}


class StateConflict(ValidationError):
    """Well-formed input that the current state of things refuses: a name or acronym taken already, a
    person invited already, a dataset not (or no longer) published, a proposal not complete enough to
    submit, a final report not filed yet. The same request could succeed in another state, so it answers
    409 (RFC 9110 §15.5.10: a conflict with the current state of the resource), not 422, which stays for
    input that is wrong in itself (Schemathesis' positive_data_acceptance check holds the API to this: a body
    valid per the OpenAPI description may be refused with 409, not with 422).

    A subclass of ValidationError on purpose: `fields` names the field each message belongs to, the
    problem+json body carries them as `errors`, and every page that catches ValidationError keeps showing
    the messages next to the fields (with the status 422 it chose for its form) without any change.
    """

    status, title, type_slug = 409, "Conflicts with the current state", "state-conflict"

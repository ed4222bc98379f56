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

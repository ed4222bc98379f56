"""Committee and coordinator pages: the review queue, a review, screening, and the admins' committees."""

from __future__ import annotations

from harmony.access_requests.views import access_requests  # noqa: F401

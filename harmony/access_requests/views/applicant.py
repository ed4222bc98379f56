"""Applicant pages: the basket, my proposals, the proposal form, a proposal and its decision letter."""

from __future__ import annotations

from harmony.access_requests.views import access_requests  # noqa: F401

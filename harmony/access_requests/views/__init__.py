"""The access-request pages: one blueprint, its routes kept by audience in the modules below.

`applicant`: the basket, my proposals, the proposal form, a proposal's page with its timeline and the
decision letter. `after_decision`: the agreement, grants, final report, renewals, amendments and
revocation on a proposal's page, and "My access". `committee`: the review queue and a review, the
coordinator's screening queue, and the admins' committee pages. Views parse input, call one service
and render.
"""

from __future__ import annotations

from flask import Blueprint

access_requests = Blueprint("access_requests", __name__)

from harmony.access_requests.views import (  # noqa: E402,F401  (routes register on import)
    after_decision,
    applicant,
    committee,
    dashboard,
    public_committee,
    register,
)

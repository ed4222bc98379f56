"""Who sees which notice: only the person it was written for (admins included)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from harmony.accounts.permissions import Principal
from harmony.notifications.models import Notice


def can_see(principal: Principal, notice: Notice) -> bool:
    return principal.is_authenticated and notice.user_id == principal.user_id


def visible_notices(principal: Principal) -> ColumnElement[bool]:
    """The query filter matching `can_see`."""
    if not principal.is_authenticated:
        return false()
    return Notice.user_id == principal.user_id

"""/notices: a person's notices, newest first, and the unread count every page's header shows."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from harmony.accounts.current import login_required, principal
from harmony.notifications import services

notifications = Blueprint("notifications", __name__)


@notifications.get("/notices")
@login_required
def notices():
    page = services.notices_for(principal(), request.args.get("page", 1, type=int))
    return render_template("notifications/notices.html", page=page)


@notifications.post("/notices/<int:notice_id>/read")
@login_required
def mark_read(notice_id: int):
    services.mark_read(principal(), notice_id)
    return redirect(url_for("notifications.notices", page=request.form.get("page", 1, type=int)))


@notifications.post("/notices/read")
@login_required
def mark_all_read():
    count = services.mark_all_read(principal())
    flash(f"{count} notice{'' if count == 1 else 's'} marked as read." if count else "You had no unread notices.",
          "success")
    return redirect(url_for("notifications.notices"))


@notifications.app_context_processor
def _unread_notices() -> dict:
    return {"unread_notices": services.unread_count(principal().user_id)}

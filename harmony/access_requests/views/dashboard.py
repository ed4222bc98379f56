"""The coordinators' dashboard: proposals per state, time in state over a period, and what is
overdue with whom it waits on (the numbers of `stats.request_stats`, as charts with tables)."""

from __future__ import annotations

from flask import render_template, request

from harmony.access_requests import stats
from harmony.access_requests.views import access_requests
from harmony.accounts.current import login_required, principal

KINDS = (("proposal", "Proposals"), ("review", "Committee reviews"))


@access_requests.get("/dashboard")
@login_required
def dashboard():
    found = stats.request_stats(principal(), stats.parse_period(request.args.get("period")))  # 403, 422
    counts = [(kind, f"{name} per state", [{"item": c, "bar": (c.label, c.count)}
                                           for c in found.counts if c.kind == kind]) for kind, name in KINDS]
    times = [(kind, f"{name}: days in each state", [
        {"item": t, "median": (t.label, t.median_days), "p90": (t.label, t.p90_days)}
        for t in found.times if t.kind == kind]) for kind, name in KINDS]
    return render_template("access_requests/dashboard.html", stats=found, counts=counts, times=times,
                           reasons=stats.REASONS, periods=(30, 90, 365))

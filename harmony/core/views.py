"""Home page, liveness, navigation."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from harmony.access_requests.permissions import can_manage_committees, can_screen, committees_of
from harmony.accounts.current import principal
from harmony.accounts.permissions import can_manage_roles
from harmony.catalog import page_cache
from harmony.catalog.permissions import can_curate_anything
from harmony.core import dates, health
from harmony.platforms.tokens import can_manage_platforms

core = Blueprint("core", __name__)
core.add_app_template_filter(dates.day, "day")  # one date format on every page
core.add_app_template_filter(dates.moment, "moment")

def _everyone(_principal) -> bool:
    return True


def _committee_member(principal) -> bool:
    return bool(committees_of(principal))


def _screener(principal) -> bool:
    return principal.is_coordinator or principal.is_admin


# Navigation entries appear once the page behind them exists, to those the page is for.
NAVIGATION = [
    ("Catalog", "search.search", _everyone),
    ("Requests", "access_requests.my_requests", _everyone),
    ("Reviews", "access_requests.reviews", _committee_member),
    ("Screening", "access_requests.screening", _screener),
    ("Dashboard", "access_requests.dashboard", can_screen),
    ("Register", "access_requests.register", _everyone),
    ("Curate", "catalog.curate", can_curate_anything),
    ("Committees", "access_requests.admin_committees", can_manage_committees),
    ("Platforms", "platforms.admin_platforms", can_manage_platforms),
    ("Roles", "accounts.admin_roles", can_manage_roles),
]


@core.app_context_processor
def navigation() -> dict:
    links = []
    viewer = principal()
    for label, endpoint, shown_to in NAVIGATION:
        if endpoint in current_app.view_functions and shown_to(viewer):
            links.append({"label": label, "href": url_for(endpoint), "active": request.endpoint == endpoint})
    return {"nav_links": links}


@core.get("/")
@page_cache.anonymous_pages()
def home():
    """What the catalog holds, counted from the published versions (catalog.stats), once per change;
    the whole page too, for anonymous visitors."""
    from harmony.catalog.stats import current_stats

    found = current_stats()
    stats = {"datasets": found.datasets, "groups": found.groups, "patients": found.patients}
    charts = [("disease", "By disease category", found.by_category),
              ("population", "By population", found.by_population),
              ("country", "By country", found.by_country)]
    return render_template("core/home.html", stats=stats, charts=charts,
                           curates=can_curate_anything(principal()))


@core.get("/healthz")
def healthz():
    report = health.check()
    return jsonify(report), (200 if report["status"] == "ok" else 503)


@core.get("/robots.txt")
def robots():
    base = current_app.config["BASE_URL"]
    body = f"User-agent: *\nDisallow: /api/\nDisallow: /auth/\nSitemap: {base}/sitemap.xml\n"
    return body, 200, {"Content-Type": "text/plain; charset=utf-8"}


@core.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon it links."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)

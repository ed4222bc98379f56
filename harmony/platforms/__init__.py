"""Data platforms: the systems that enforce access. They read grants with a service token and are told of
changes by signed webhooks.

`init_app` wires the package into an app: the grant listener that writes webhook deliveries, the
entitlements API (GET /api/v1/entitlements) and the admins' pages (/admin/platforms)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from harmony import security
    from harmony.platforms import webhooks
    from harmony.platforms.api import platforms_api
    from harmony.platforms.views import platforms

    webhooks.register()
    app.register_blueprint(platforms)
    app.register_blueprint(platforms_api)
    security.csrf.exempt(platforms_api)  # bearer tokens only, never the session cookie: no CSRF

"""The application factory: configuration, extensions, blueprints, error handlers, CLI groups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, abort
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from harmony import db, error_pages, security
from harmony.config import load_config
from harmony.db import ROW_ID_MAX
from harmony.logging_setup import configure_logging


class PidConverter(BaseConverter):
    """A dataset PID in a URL: HM- and six digits, so /datasets/HM-000001.ttl is not a PID."""

    regex = r"HM-[0-9]{6}"


def _ids_fit_the_database(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id in a path beyond what the database's integer columns hold is no such thing (404), not an
    overflow in the database (500). (A converter with a maximum would turn it into 405 for other methods.)"""
    if values and any(isinstance(value, int) and value > ROW_ID_MAX for value in values.values()):
        abort(404)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build a Harmony app: defaults, then HARMONY_* variables, then `overrides`.

    Raises `harmony.config.ConfigError` (one line naming the variable) for a bad setting.
    """
    app = Flask("harmony", instance_relative_config=True)
    app.config.update(load_config(app.instance_path, overrides))
    configure_logging(app.config["LOG_LEVEL"])

    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count)

    db.init_app(app)
    app.url_map.converters["pid"] = PidConverter
    app.url_value_preprocessor(_ids_fit_the_database)
    security.init_app(app)
    error_pages.init_app(app)
    _init_sign_in(app)
    _register_scopes()
    _init_search(app)
    _register_blueprints(app)
    _init_platforms(app)
    _register_cli(app)
    return app


def _init_sign_in(app: Flask) -> None:
    from harmony.accounts import current, oidc

    current.init_app(app)
    if app.config["OIDC_METADATA_URL"]:
        app.extensions["harmony.oidc"] = oidc.OidcClient(oidc.Settings(
            metadata_url=app.config["OIDC_METADATA_URL"],
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config["OIDC_CLIENT_SECRET"],
            redirect_uri=app.config["BASE_URL"] + "/auth/callback",
            token_auth_method=app.config["OIDC_TOKEN_AUTH_METHOD"],
        ))
    app.permanent_session_lifetime = timedelta(hours=12)


def _register_scopes() -> None:
    from harmony.access_requests.committees import register_committee_scope
    from harmony.catalog.services import register_group_scope

    register_group_scope()
    register_committee_scope()


def _init_search(app: Flask) -> None:
    from harmony.search import init_app as init_search

    init_search(app)


def _register_blueprints(app: Flask) -> None:
    from harmony.access_requests.api import requests_api
    from harmony.access_requests.views import access_requests
    from harmony.accounts.api import accounts_api
    from harmony.accounts.views import accounts
    from harmony.api import api
    from harmony.api.query_check import check_query_parameters
    from harmony.catalog.api import catalog_api
    from harmony.catalog.exports.views import exports
    from harmony.catalog.oai.views import oai
    from harmony.catalog.views import catalog
    from harmony.core.views import core
    from harmony.notifications.views import notifications
    from harmony.passports.api import passports_api
    from harmony.search.api import search_api
    from harmony.search.views import search

    for blueprint in (core, accounts, catalog, exports, oai, search, notifications, access_requests):
        app.register_blueprint(blueprint)
    # The API authenticates with bearer tokens only, never the session cookie: no CSRF there.
    for blueprint in (accounts_api, catalog_api, search_api, requests_api, passports_api, api):
        app.register_blueprint(blueprint)
        security.csrf.exempt(blueprint)
    app.before_request(check_query_parameters)  # every API query as its description says


def _init_platforms(app: Flask) -> None:
    from harmony.platforms import init_app as init_platforms

    init_platforms(app)  # the webhooks' grant listener, GET /api/v1/entitlements, /admin/platforms


def _register_cli(app: Flask) -> None:
    from harmony.cli import register_commands

    register_commands(app)

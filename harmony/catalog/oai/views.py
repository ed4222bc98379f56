"""The /oai endpoint: OAI-PMH 2.0 over GET (query string) and POST (form-encoded body)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from harmony.catalog.oai import provider
from harmony.security import csrf

oai = Blueprint("oai", __name__)


@oai.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    parameters = request.form if request.method == "POST" else request.args
    return Response(provider.respond(parameters), content_type="text/xml; charset=utf-8")


# Harvesters POST without a session or a form token; nothing here reads the session or writes.
csrf.exempt(endpoint)

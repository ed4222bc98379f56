"""The JSON API under /api/v1; every error is application/problem+json.

Besides the index and the OpenAPI document, this holds what every JSON
blueprint shares: reading a JSON body, and the problems only an API raises.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from harmony.accounts.current import token_required
from harmony.api.openapi import document
from harmony.errors import MalformedBody, UnsupportedMediaType

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _without_nul(value: Any) -> Any:
    """The value with NUL characters taken out of every text: they mean nothing in a description or a
    proposal, and PostgreSQL cannot store them in a text column."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or a 415/400 problem that says what to send instead.

    An empty body counts as {} where the body is `optional` (e.g. a POST action without options).
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise MalformedBody("Send a JSON object as the request body.")
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON, with 'Content-Type: application/json'.")
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except json.JSONDecodeError as error:
        raise MalformedBody(f"The body is not valid JSON: {error.msg} (line {error.lineno}, "
                            f"column {error.colno}).") from None
    except (ValueError, RecursionError) as error:
        raise MalformedBody(f"The body is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object, e.g. {\"content\": {...}}.")
    return _without_nul(data)


def unauthorised() -> Response:
    """The 401 problem `token_required` answers, for token checks made inside a view."""
    return token_required(lambda: None)()


@api.get("/")
def index():
    return jsonify({"name": "Harmony API", "version": "v1", "openapi": "/api/v1/openapi.json"})


@api.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description; it changes only with a release, so clients may cache it briefly."""
    response = jsonify(document(current_app.config["BASE_URL"]))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response

# No catch-all route under /api/v1: the router answers an unknown path 404 and a known path asked with a
# method it does not have 405 with its exact `Allow` (as OPTIONS does), both as problem+json
# (harmony/error_pages.py); a catch-all would add its own methods to every path's Allow and turn 405s into 404s.

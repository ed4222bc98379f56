"""The JSON API under /api/v1; every error is application/problem+json."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify

from harmony.api.openapi import document

api = Blueprint("api", __name__, url_prefix="/api/v1")


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


@api.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_unknown: str):
    abort(404)

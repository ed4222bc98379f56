"""The JSON API under /api/v1; every error is application/problem+json."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.get("/")
def index():
    return jsonify({"name": "Harmony API", "version": "v1", "openapi": "/api/v1/openapi.json"})


@api.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(_unknown: str):
    abort(404)

"""GET /api/v1/datasets: search through the API."""

from __future__ import annotations

from flask import Blueprint

search_api = Blueprint("search_api", __name__, url_prefix="/api/v1")

"""The catalog in the JSON API: datasets, study groups, vocabularies."""

from __future__ import annotations

from flask import Blueprint

catalog_api = Blueprint("catalog_api", __name__, url_prefix="/api/v1")

"""Catalog pages: landing pages, versions, study groups, curation."""

from __future__ import annotations

from flask import Blueprint

catalog = Blueprint("catalog", __name__)

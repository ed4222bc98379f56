"""The search page /datasets."""

from __future__ import annotations

from flask import Blueprint

search = Blueprint("search", __name__)

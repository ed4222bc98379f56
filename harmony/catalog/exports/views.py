"""Routes serving the machine-readable forms of the catalog."""

from __future__ import annotations

from flask import Blueprint

exports = Blueprint("exports", __name__)

"""The /oai endpoint."""

from __future__ import annotations

from flask import Blueprint

oai = Blueprint("oai", __name__)

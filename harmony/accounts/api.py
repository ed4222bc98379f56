"""Accounts in the JSON API: who am I."""

from __future__ import annotations

from flask import Blueprint, jsonify

from harmony.accounts import current, scopes, services
from harmony.accounts.current import token_required

accounts_api = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


@accounts_api.get("/me")
@token_required
def me():
    user = current.current_user()
    roles = [
        {"role": grant.role, "scope": grant.scope_kind, "scope_id": grant.scope_id or None,
         "scope_label": scopes.label_of(grant.scope_kind, grant.scope_id)}
        for grant in services.grants_of(user.id)
    ]
    return jsonify({"id": user.id, "display_name": user.display_name, "email": user.email,
                    "affiliation": user.affiliation, "orcid": user.orcid, "roles": roles})

"""The demo: what `harmony demo load` puts in an empty database (idempotent)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app

from harmony.accounts import services as accounts
from harmony.accounts.models import ROLE_SCOPES
from harmony.demo.personas import PERSONAS


def load_demo(limit: int | None = None) -> Iterator[str]:
    """Load each part of the demo in turn, reporting what was done. `limit` caps the number of
    demo datasets (default: the app's DEMO_RECORD_LIMIT, else all), for quick tests."""
    from harmony.demo.catalog import load_catalog
    from harmony.demo.requests import load_requests

    yield from load_personas()
    yield from load_catalog(limit)
    yield from load_requests()


def load_personas() -> Iterator[str]:
    issuer = current_app.config["DEV_IDP_URL"].rstrip("/")
    for persona in PERSONAS:
        user = accounts.provision_user(issuer, persona.subject,
                                       {"name": persona.name, "email": persona.email, "email_verified": True},
                                       affiliation=persona.affiliation)
        if persona.role and ROLE_SCOPES[persona.role] is None:
            accounts.grant_role(accounts.COMMAND_LINE,
                                accounts.RoleGrantInput(user_id=user.id, role=persona.role), source="demo")
    yield f"Demo personas: {len(PERSONAS)} users ({', '.join(p.subject for p in PERSONAS)})."

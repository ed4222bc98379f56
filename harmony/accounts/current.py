"""Who is asking: the signed-in user of this request, as a Principal, and the guards views use.

Pages read the session cookie (which holds only a session key); the API reads only
`Authorization: Bearer <token>`, never the cookie, which is why the API needs no CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, redirect, request, session, url_for

from harmony.accounts import services
from harmony.accounts.models import User
from harmony.accounts.permissions import ANONYMOUS, Principal
from harmony.platforms import tokens as platform_tokens

SESSION_KEY = "sid"


def init_app(app: Flask) -> None:
    app.before_request(_load_principal)


def _load_principal() -> None:
    g.principal = ANONYMOUS
    g.user = None
    g.auth_error = None
    if request.endpoint == "static":
        return
    if request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        if not header:
            return
        scheme, _, credential = header.partition(" ")
        credential = credential.strip() if scheme.lower() == "bearer" else ""
        if credential.startswith(platform_tokens.SERVICE_TOKEN_PREFIX):
            platform = platform_tokens.authenticate(credential)
            if platform is None:
                g.auth_error = "invalid_token"
            else:
                g.principal = Principal(platform_id=platform.id, display_name=f"{platform.name} (service token)")
            return
        user = services.authenticate_token(credential) if credential else None
        if user is None:
            g.auth_error = "invalid_token"
            return
    else:
        found = services.session_user(session.get(SESSION_KEY))
        if found is None:
            if SESSION_KEY in session:
                session.pop(SESSION_KEY)
            return
        user = found[0]
    g.user = user
    g.principal = services.principal_for(user)


def principal() -> Principal:
    return g.get("principal", ANONYMOUS)


def current_user() -> User | None:
    return g.get("user")


def safe_next(target: str | None) -> str:
    """A path on this site to return to after sign-in; anything else goes home."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 32 for char in target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor to sign in first, and back here afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not principal().is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """API endpoints: a problem+json 401 with WWW-Authenticate when no valid token was sent; a data
    platform's service token gets 403 here (it may only read grants: see `reader_required`)."""
    return _guard(view, services_allowed=False)


def reader_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """API endpoints that read grants (entitlements, passports): a user's token or a service token."""
    return _guard(view, services_allowed=True)


def _guard(view: Callable[..., Any], services_allowed: bool) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if principal().is_service and not services_allowed:
            from harmony.error_pages import problem

            return problem(403, "Service tokens are read-only", "A data platform's service token may only read "
                           "entitlements and passports.", "forbidden")
        if not principal().is_authenticated and not principal().is_service:
            from harmony.error_pages import problem

            error = g.get("auth_error")
            detail = ("The bearer token is unknown, expired or revoked." if error
                      else "Send a personal API token as 'Authorization: Bearer <token>'.")
            response = problem(401, "Authentication required", detail, "unauthorized")
            challenge = 'Bearer realm="harmony"' + (f', error="{error}"' if error else "")
            response.headers["WWW-Authenticate"] = challenge
            return response
        return view(*args, **kwargs)

    return wrapper

"""Whole HTML pages for anonymous visitors, kept per change-log position (`position_cache`).

A landing page or a search page seen by someone who is not signed in depends only on the catalog,
the address and the `Accept` header, so the rendered page is kept in the same per-process cache,
under the same byte budget (HARMONY_CATALOG_CACHE_BYTES, 0: off), as the home page's figures. A
catalog change moves the position and empties the cache, so a withdrawal answers 410 at once.
Pages that depend on more than the catalog (the search page: the index's state) add to the key.

What makes it safe:
- only GET/HEAD requests without `Authorization` whose session is empty or holds nothing but a
  CSRF token (what a visitor's cookie carries after a page with a form): no signed-in visitor, no
  flashes (they live in the session), and no signed-in page ever enters the cache;
- only addresses up to MAX_ADDRESS characters (an over-long query is refused before anything is read);
- only 200 `text/html` responses that set no cookie, left nothing in the session but a CSRF token
  and asked for no token: a page with a visitor's own token is never handed to another. The
  catalog's anonymous pages carry none (their "Request access" and "Add to basket" buttons lead
  to sign-in with a GET), so they set no cookie either;
- the security headers are added after the view on every response, cached or not (there is no
  per-request nonce in our Content-Security-Policy; one would have to be substituted like a token).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request, session

from harmony.catalog import position_cache

_NOT_KEPT = ("Set-Cookie", "Content-Length")
MAX_ADDRESS = 2048  # longer addresses are nobody's shared link: not kept, nor looked up (nor the index asked)


@dataclass(frozen=True)
class Page:
    body: bytes
    headers: tuple[tuple[str, str], ...]


def anonymous_pages(extra_key: Callable[[], Hashable] | None = None) -> Callable:
    """Serve the decorated view's HTML to anonymous visitors from the position cache.

    `extra_key()`: what else the page depends on besides the catalog and the request (read before
    the page is rendered, so what is kept under a key is never older than the key)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def cached_view(*args: Any, **kwargs: Any) -> Any:
            if not _anonymous_read():
                return view(*args, **kwargs)
            key = ("page", request.scheme, request.host, request.root_path, request.path, request.query_string,
                   request.headers.get("Accept", ""), extra_key() if extra_key else None)
            rendered: list[Response] = []

            def render() -> Page | None:
                response = current_app.make_response(view(*args, **kwargs))
                rendered.append(response)
                return _keepable(response)

            page = position_cache.at_position(key, render, _cost)
            if rendered:  # rendered for this visitor
                return rendered[0]
            return _serve(page)

        return cached_view

    return decorate


def _anonymous_read() -> bool:
    """Nobody signed in, nothing in the session but a CSRF token (so no flashes), no credentials."""
    return (current_app.config["CATALOG_CACHE_BYTES"] > 0 and request.method in ("GET", "HEAD")
            and len(request.path) + len(request.query_string) <= MAX_ADDRESS
            and "Authorization" not in request.headers and g.get("user") is None
            and set(session.keys()) <= {_csrf_field()})


def _csrf_field() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _keepable(response: Response) -> Page | None:
    if (response.status_code != 200 or response.mimetype != "text/html" or not response.is_sequence
            or "Set-Cookie" in response.headers or set(session.keys()) - {_csrf_field()}
            or g.get(_csrf_field()) or g.get("user") is not None):
        return None
    body = response.get_data()
    headers = tuple((name, value) for name, value in response.headers.items() if name not in _NOT_KEPT)
    return Page(body, headers)


def _cost(page: Page | None) -> int:
    return len(page.body) + 512 if page is not None else 1 << 62  # None: never kept


def _serve(page: Page) -> Response:
    return current_app.response_class(page.body, headers=list(page.headers))

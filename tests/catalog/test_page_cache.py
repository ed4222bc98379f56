"""Home, landing and search pages for anonymous visitors are kept per change-log position (catalog.page_cache):
the same page as an uncached one, without a cookie, never stale, never a signed-in page, never a visitor's token."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from itsdangerous import URLSafeTimedSerializer

from harmony.catalog import page_cache, position_cache
from harmony.catalog import services as catalog
from harmony.search.index import search_index
from tests import factories

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def counts(app) -> tuple[int, int]:
    with app.app_context():
        store = position_cache.cache()
        return store.hits, store.misses


def visit(app, path: str):
    """A first visit by a new anonymous visitor (no cookie)."""
    client = app.test_client()
    return client, client.get(path)


def headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in ("Set-Cookie",)}


def own_token(app, client, response) -> bool:
    """The page's token is signed from the raw token in this visitor's own session cookie."""
    tokens = set(TOKEN.findall(response.get_data(as_text=True)))
    with client.session_transaction() as session:
        raw = session.get("csrf_token")
    signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    return len(tokens) == 1 and raw is not None and signer.loads(tokens.pop()) == raw


@pytest.mark.parametrize("path", ["/", "/datasets/{pid}", "/datasets?q=lenalidomide&sort=newest"])
def test_a_cached_page_is_the_uncached_page_and_sets_no_cookie(app, one_published, path):
    path = path.format(pid=one_published["published"].pid)
    app.config["CATALOG_CACHE_BYTES"] = 0
    _, uncached = visit(app, path)
    app.config["CATALOG_CACHE_BYTES"] = 32 * 1024 * 1024
    _, first = visit(app, path)
    before = counts(app)
    _, second = visit(app, path)
    assert counts(app)[0] == before[0] + 1  # served from the cache
    assert uncached.status_code == first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data() == uncached.get_data()
    assert "lenalidomide" in second.get_data(as_text=True) or path == "/"
    assert headers(second) == headers(first) == headers(uncached)
    assert "Content-Security-Policy" in second.headers and "nosniff" in second.headers["X-Content-Type-Options"]
    # an anonymous reader gets no token and no cookie: their buttons lead to sign-in with a GET
    for response in (uncached, first, second):
        assert "Set-Cookie" not in response.headers and not TOKEN.search(response.get_data(as_text=True))
    head = app.test_client().head(path)
    assert head.status_code == 200 and head.data == b""


def test_a_page_that_asks_for_a_token_is_never_kept(app, one_published):
    """A visitor's own CSRF token must never reach another visitor."""

    @page_cache.anonymous_pages()
    def with_a_form():
        return render_template_string('<form method="post"><input name="csrf_token" value="{{ csrf_token() }}"></form>')

    app.add_url_rule("/_test/form", view_func=with_a_form)
    clients = [app.test_client() for _ in range(3)]
    pages = [client.get("/_test/form") for client in clients]
    assert all(page.status_code == 200 and "harmony_session=" in page.headers["Set-Cookie"] for page in pages)
    assert all(own_token(app, client, page) for client, page in zip(clients, pages, strict=True))
    assert len({TOKEN.search(page.get_data(as_text=True)).group(1) for page in pages}) == 3
    assert counts(app)[0] == 0


def test_a_withdrawal_answers_410_at_once_and_a_publish_shows(app, client, one_published):
    pid = one_published["published"].pid
    assert client.get(f"/datasets/{pid}").status_code == 200
    assert client.get(f"/datasets/{pid}").status_code == 200  # now cached
    assert "HOVON 132" in client.get("/datasets?q=hovon").get_data(as_text=True)
    assert "Second trial" not in client.get("/datasets?q=trial").get_data(as_text=True)
    with app.app_context():
        catalog.withdraw(one_published["cora"], one_published["published"].id, "Consent for data sharing was revoked.")
        factories.dataset(one_published["cora"], one_published["group"], title="Second trial of venetoclax")
    for _ in range(2):  # and it stays so: a 410 is not kept as a page
        assert client.get(f"/datasets/{pid}").status_code == 410
    assert "HOVON 132" not in client.get("/datasets?q=hovon").get_data(as_text=True)
    assert "Second trial of venetoclax" in client.get("/datasets?q=trial").get_data(as_text=True)


def test_each_address_is_a_page_of_its_own(app, client, one_published):
    for _ in range(2):
        assert "HOVON 132" in client.get("/datasets?q=hovon").get_data(as_text=True)
        assert "HOVON 132" not in client.get("/datasets?q=nothing+like+it").get_data(as_text=True)


def test_a_reindex_is_a_new_search_page(app, client, one_published):
    client.get("/datasets?q=hovon")
    hits, _ = counts(app)
    client.get("/datasets?q=hovon")
    assert counts(app)[0] == hits + 1
    with app.app_context():
        search_index().rebuild()
    client.get("/datasets?q=hovon")
    assert counts(app)[0] == hits + 1  # rendered afresh from the new index


def test_signed_in_and_anonymous_pages_never_mix(app, client, one_published):
    pid = one_published["published"].pid
    with app.app_context():
        catalog.update_dataset(one_published["cora"], one_published["published"].id,
                               factories.content(title="Renamed in the working copy"))
    for path in (f"/datasets/{pid}", "/datasets?q=hovon"):
        anonymous = app.test_client()
        anonymous.get(path)
        assert "Sign out" not in anonymous.get(path).get_data(as_text=True)  # cached now
        factories.signed_in(client, app, "cora", "curator", one_published["group"].id)
        hits = counts(app)[0]
        page = client.get(path).get_data(as_text=True)
        assert counts(app)[0] == hits and "Sign out" in page  # a signed-in visitor is never served the cache
        if path.startswith("/datasets/"):
            assert "The working copy has unpublished changes" in page
        page = app.test_client().get(path).get_data(as_text=True)
        assert "Sign out" not in page and "unpublished changes" not in page


def test_flashes_and_zero_bytes_turn_it_off(app, client, one_published):
    pid = one_published["published"].pid
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Kept for you only")]
    hits = counts(app)[0]
    assert "Kept for you only" in client.get(f"/datasets/{pid}").get_data(as_text=True)
    assert "Kept for you only" not in app.test_client().get(f"/datasets/{pid}").get_data(as_text=True)
    assert counts(app)[0] == hits
    app.config["CATALOG_CACHE_BYTES"] = 0
    for _ in range(2):
        assert app.test_client().get(f"/datasets/{pid}").status_code == 200
    assert counts(app)[0] == hits

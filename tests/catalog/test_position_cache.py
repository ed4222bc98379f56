"""The home page's figures and the paged catalog in RDF are kept per change-log position:
computed once while nothing changes, and never stale after a publish, a withdrawal or an import."""

from __future__ import annotations

import re

import pytest

from harmony import db
from harmony.catalog import services as catalog
from harmony.catalog import stats
from harmony.catalog.exports import rdf
from harmony.catalog.position_cache import PositionCache, read_position
from harmony.db import ChangeLog
from tests import factories


@pytest.fixture
def world(app):
    with app.app_context():
        hovon = factories.group("HOVON")
        maker = factories.curator("maker", hovon)
        first = factories.dataset(maker, hovon, title="HOVON trial 1", n_patients=100)
    return {"hovon": hovon, "maker": maker, "first": first}


@pytest.fixture
def calls(monkeypatch):
    """How often the home figures and a catalog graph are computed."""
    counted = {"stats": 0, "graph": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counted[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(stats, "catalog_stats", counting("stats", stats.catalog_stats))
    monkeypatch.setattr(rdf, "catalog_graph", counting("graph", rdf.catalog_graph))
    return counted


def home_figures(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'<span class="stat-value">([\d,]+)</span>', page)


def listed(client, ext: str = "ttl") -> str:
    response = client.get(f"/catalog.{ext}?page=1")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_unchanged_catalog_is_computed_once(client, world, calls):
    for _ in range(3):
        assert home_figures(client) == ["1", "1", "100"]
        assert world["first"].pid in listed(client)
    assert calls == {"stats": 1, "graph": 1}
    listed(client, "jsonld")  # another format is another page
    assert calls["graph"] == 2


def test_a_publish_shows_at_once(app, client, world, calls):
    assert home_figures(client) == ["1", "1", "100"]
    assert "HOVON trial 2" not in listed(client)
    with app.app_context():
        second = factories.dataset(world["maker"], world["hovon"], title="HOVON trial 2", n_patients=50)
    assert home_figures(client) == ["2", "1", "150"]
    assert second.pid in listed(client) and "HOVON trial 2" in listed(client, "rdf")
    assert calls["stats"] == 2


def test_no_stale_page_after_a_withdrawal(app, client, world):
    assert world["first"].pid in listed(client) and home_figures(client)[0] == "1"
    with app.app_context():
        catalog.withdraw(world["maker"], world["first"].id, "Consent for data sharing was revoked.")
    assert home_figures(client) == ["0", "0", "0"]
    assert "No datasets are published yet" in client.get("/").get_data(as_text=True)
    assert client.get("/catalog.ttl?page=2").status_code == 404
    assert world["first"].pid not in listed(client)


def test_an_import_shows_at_once(app, client, world):
    assert home_figures(client)[0] == "1"
    with app.app_context(), db.batch():  # as the importers write: one commit per record
        for n in range(3):
            factories.dataset(world["maker"], world["hovon"], title=f"Imported {n}")
    assert home_figures(client)[0] == "4"
    assert all(f"Imported {n}" in listed(client) for n in range(3))


def test_a_current_copy_gets_304_and_a_changed_one_does_not(app, client, world):
    first = client.get("/catalog.ttl?page=1")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get("/catalog.ttl?page=1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    with app.app_context():
        factories.dataset(world["maker"], world["hovon"], title="HOVON trial 2")
    changed = client.get("/catalog.ttl?page=1", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "HOVON trial 2" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_a_late_commit_below_the_newest_number_moves_the_position(app):
    """On PostgreSQL number 41 can become visible after 42: the position must see it arrive."""
    with app.app_context():
        with db.unit_of_work() as uow:
            uow.session.add(ChangeLog(seq=42, entity_kind="dataset", entity_id="1", action="published"))
        before = read_position()
        db.session().commit()
        with db.unit_of_work() as uow:
            uow.session.add(ChangeLog(seq=41, entity_kind="dataset", entity_id="2", action="published"))
        after = read_position()
    assert before.seq == after.seq == 42
    assert before.key != after.key


def test_the_cache_is_off_at_zero_bytes(app, client, world, calls):
    app.config["CATALOG_CACHE_BYTES"] = 0
    home_figures(client)
    home_figures(client)
    assert calls["stats"] == 2


def test_the_cache_keeps_one_position_and_a_bounded_size():
    cache = PositionCache(max_bytes=100)
    computed = []

    def value(name):
        def compute():
            computed.append(name)
            return name
        return compute

    def size(_value):
        return 40

    assert cache.get(1, "a", value("a"), size) == "a"
    cache.get(1, "b", value("b"), size)
    cache.get(1, "a", value("a"), size)  # a hit, and now the most recently used
    cache.get(1, "c", value("c"), size)  # 120 bytes: the least recently used (b) goes
    cache.get(1, "a", value("a"), size)
    cache.get(1, "b", value("b"), size)
    assert computed == ["a", "b", "c", "b"]
    cache.get(2, "a", value("a"), size)  # a new position: nothing kept from the old one
    assert computed[-1] == "a" and cache.get(2, "a", value("x"), size) == "a"
    assert cache.get(3, "big", value("big"), lambda _v: 500) == "big" and "big" not in cache._entries

"""The curation desk /curate: paged, sorted and filtered through its query string."""

from __future__ import annotations

import re

import pytest

from harmony.catalog import curation_desk
from tests import factories


@pytest.fixture
def desk(app, client, monkeypatch):
    monkeypatch.setattr(curation_desk, "PER_PAGE", 2)
    with app.app_context():
        hovon, gmall = factories.group("HOVON"), factories.group("GMALL", country="DE")
        office, gmall_office = factories.curator("hovon-office", hovon), factories.curator("gmall-office", gmall)
        factories.dataset(office, hovon, title="Beta trial in AML")
        factories.dataset(office, hovon, title="Alpha trial in CLL")
        factories.dataset(office, hovon, publish=False, title="Gamma draft in MDS", description=None, provenance=None)
        factories.dataset(gmall_office, gmall, title="Delta trial in ALL")
    factories.signed_in(client, app, "cora", "curator", hovon.id)  # cora curates HOVON only
    return client


def titles(client, **args) -> list[str]:
    response = client.get("/curate", query_string=args)
    assert response.status_code == 200
    return re.findall(r'<th scope="row">\s*<a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True))


def test_the_desk_pages_sorts_and_filters_a_curators_datasets(desk):
    assert titles(desk) == ["Gamma draft in MDS", "Alpha trial in CLL"]  # drafts first, then newest, 2 a page
    assert titles(desk, page=2) == ["Beta trial in AML"]  # never another group's datasets
    html = desk.get("/curate").get_data(as_text=True)
    assert "3 datasets, 1–2 shown." in html and 'aria-label="Pages of your datasets"' in html
    assert titles(desk, sort="title") == ["Alpha trial in CLL", "Beta trial in AML"]
    assert titles(desk, sort="completeness")[0] == "Gamma draft in MDS"  # the emptiest first
    assert titles(desk, state="draft") == ["Gamma draft in MDS"]
    assert titles(desk, state="published", sort="title") == ["Alpha trial in CLL", "Beta trial in AML"]
    assert titles(desk, q="cll") == ["Alpha trial in CLL"]
    one = desk.get("/curate", query_string={"q": "cll"}).get_data(as_text=True)
    assert "1 dataset matches." in one  # not "1 datasets"
    assert titles(desk, q="nothing like it") == [] and titles(desk, group="GMALL") == []
    # the pager keeps the filters and the sort order
    paged = desk.get("/curate", query_string={"sort": "title", "state": "published"}).get_data(as_text=True)
    assert "page=2" not in paged  # two published datasets fit one page
    sorted_pages = desk.get("/curate", query_string={"sort": "title"}).get_data(as_text=True)
    assert re.search(r'href="/curate\?sort=title&amp;page=2#desk-count"', sorted_pages)


def test_a_bad_desk_query_is_refused(desk):
    assert desk.get("/curate", query_string={"sort": "nonsense"}).status_code in (400, 422)

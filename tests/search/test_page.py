"""The search page /datasets: state in the query string, errors next to their fields, accessibility."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests import factories


@pytest.fixture
def listed(app):
    with app.app_context():
        group = factories.group("HOVON")
        curator = factories.curator("cora", group)
        aml = factories.dataset(curator, group)
        cll = factories.dataset(curator, group, title="Ibrutinib in CLL", acronym="IB-CLL", diseases=["DOID:1040"],
                                countries=["DE"], n_patients=210, data_use=["HMB"])
    return {"aml": aml, "cll": cll}


class Outline(HTMLParser):
    """Headings in order, labelled controls, and what the CSP forbids."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.ids: set[str] = set()
        self.labels: set[str] = set()
        self.controls: list[tuple[str, dict]] = []
        self.inline_script = self.inline_style = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if "style" in attributes:
            self.inline_style = True
        if tag == "style":
            self.inline_style = True
        if tag == "script":
            self._in_script = "src" not in attributes
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "label" and "for" in attributes:
            self.labels.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append((tag, attributes))

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_page_shows_results_facets_and_feasibility(app, client, listed):
    response = client.get("/datasets", query_string={"q": "leukaemia"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="search"' in html and 'id="results-heading"' in html
    assert f'href="/datasets/{listed["aml"].pid}"' in html and f'href="/datasets/{listed["cll"].pid}"' in html
    assert "<mark>leukaemia</mark>" in html or "<mark>leukemia</mark>" in html
    assert "1,010</strong> patients in" in html  # 800 + 210
    assert "<svg class=\"feasibility-chart\"" in html and "<caption>Patients by population</caption>" in html
    assert html.count('action="/basket/add"') == 2  # each result can go into the request basket


def test_page_is_accessible_and_keeps_to_the_csp(app, client, listed):
    html = client.get("/datasets", query_string={"q": "AML", "country": "NL", "patients_min": 10}).get_data(as_text=True)
    page = outline(html)
    assert page.headings[0] == 1
    assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False)), page.headings
    unlabelled = [attrs.get("id") for _tag, attrs in page.controls if attrs.get("id") not in page.labels]
    assert not unlabelled
    assert not page.inline_script and not page.inline_style
    assert 'aria-current="true"' in html  # the chosen country is marked for screen readers too
    assert "selected: remove this filter" in html


def test_the_query_string_carries_the_state(app, client, listed):
    html = client.get("/datasets", query_string={"q": "leukaemia", "sort": "patients"}).get_data(as_text=True)
    toggle = re.search(r'href="(/datasets\?[^"]*country=DE[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "q=leukaemia" in toggle and "sort=patients" in toggle
    chosen = client.get(toggle).get_data(as_text=True)
    assert re.search(r"\b1 dataset\s*</h2>", chosen)
    assert "Country: Germany" in chosen  # the chip that removes it
    remove = re.search(r'<a class="filter-chip" href="([^"]+)"', chosen).group(1).replace("&amp;", "&")
    assert "country" not in remove and "q=leukaemia" in remove
    assert "Clear all filters" in chosen


def test_bad_input_comes_back_with_a_message_next_to_the_field(app, client, listed):
    response = client.get("/datasets", query_string={"q": '"unclosed phrase', "patients_min": 5})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="q-error"' in html and "quotation mark is not closed" in html
    assert 'aria-invalid="true"' in html and 'value="&#34;unclosed phrase"' in html
    assert 'value="5"' in html  # the rest of the form keeps what was typed
    response = client.get("/datasets", query_string={"patients_min": 500, "patients_max": 10})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="patients_max-error"' in html and "ends before it starts" in html


def test_huge_queries_are_refused_quickly(app, client, listed):
    import time

    started = time.perf_counter()
    response = client.get("/datasets", query_string={"q": "leukaemia " * 2048})
    assert response.status_code == 422 and "too long" in response.get_data(as_text=True)
    api = client.get("/api/v1/datasets", query_string={"q": "x" * 20_000})
    assert api.status_code == 422 and api.mimetype == "application/problem+json"
    assert api.get_json()["errors"]["q"]
    assert time.perf_counter() - started < 1.0


def test_empty_state_offers_ways_out(app, client, listed):
    html = client.get("/datasets", query_string={"q": "nothingmatchesthis", "country": "DE"}).get_data(as_text=True)
    assert "No dataset matches" in html and "Search again without the filters" in html


def test_basket_button_when_requests_exist(app, client, listed):
    html = client.get("/datasets").get_data(as_text=True)
    assert html.count("Add to basket") == 2 and 'name="csrf_token"' in html


def test_api_shape_and_errors(app, client, listed):
    body = client.get("/api/v1/datasets", query_string={"q": "AML"}).get_json()
    assert set(body) >= {"total", "items", "facets", "feasibility", "page", "per_page", "understood"}
    item = body["items"][0]
    assert item["url"].endswith(f"/datasets/{item['pid']}") and item["group"] == "HOVON"
    unknown = client.get("/api/v1/datasets", query_string={"country": "Atlantis"})
    assert unknown.status_code == 422 and "country" in unknown.get_json()["errors"]
    refused = client.get("/api/v1/datasets", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers

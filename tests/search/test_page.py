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
    # every filter is a real control: the chosen country is a ticked checkbox, no link drawn as one
    assert re.search(r'<input class="form-check-input" type="checkbox" name="country" value="NL" id="[^"]+"\s*checked>', html)
    assert "facet-link" not in html
    # the results heading is a heading (no live region), and a skip link leads to it
    assert re.search(r'<h2 class="h4 mb-0" id="results-heading" tabindex="-1">', html)
    assert '<a class="skip-link" href="#results-heading">Skip to results</a>' in html


class FiltersForm(HTMLParser):
    """What the filters form sends: its action, hidden inputs and ticked checkboxes (as a browser without
    script would), and the checkboxes it offers."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.sent, self.boxes, self._inside = "", [], {}, False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and "filters-form" in attributes.get("class", ""):
            self._inside, self.action = True, attributes["action"]
        elif tag == "input" and self._inside and attributes.get("name"):
            pair = (attributes["name"], attributes.get("value", ""))
            if attributes.get("type") == "checkbox":
                self.boxes[pair] = "checked" in attributes
            elif attributes.get("type") == "hidden" or attributes.get("value"):
                self.sent.append(pair)

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False

    def submit(self, tick: tuple[str, str] | None = None, untick: tuple[str, str] | None = None) -> tuple[str, list]:
        boxes = {**self.boxes, **({tick: True} if tick else {}), **({untick: False} if untick else {})}
        return self.action.split("#")[0], self.sent + [pair for pair, on in boxes.items() if on]


def filters_form(html: str) -> FiltersForm:
    parser = FiltersForm()
    parser.feed(html)
    return parser


def test_the_query_string_carries_the_state(app, client, listed):
    html = client.get("/datasets", query_string={"q": "leukaemia", "sort": "patients"}).get_data(as_text=True)
    form = filters_form(html)
    assert form.action == "/datasets#results-heading"  # the results heading is where the reader goes next
    assert ("country", "DE") in form.boxes and ("disease", "DOID:1040") in form.boxes
    action, sent = form.submit(tick=("country", "DE"))
    assert ("q", "leukaemia") in sent and ("sort", "patients") in sent
    chosen = client.get(action, query_string=sent).get_data(as_text=True)
    assert re.search(r"\b1 dataset\s*</h2>", chosen)
    assert "Country: Germany" in chosen  # the chip that removes it
    remove = re.search(r'<a class="filter-chip" href="([^"]+)"', chosen).group(1).replace("&amp;", "&")
    assert "country" not in remove and "q=leukaemia" in remove and remove.endswith("#results-heading")
    assert "Clear all filters" in chosen
    # ticking a disease keeps the country; unticking the country keeps the disease
    action, sent = filters_form(chosen).submit(tick=("disease", "DOID:1040"))
    assert ("country", "DE") in sent and ("disease", "DOID:1040") in sent
    both = client.get(action, query_string=sent).get_data(as_text=True)
    action, sent = filters_form(both).submit(untick=("country", "DE"))
    assert ("country", "DE") not in sent and ("disease", "DOID:1040") in sent and ("q", "leukaemia") in sent


def test_each_chosen_value_is_sent_once(app, client, listed):
    # a disease and a group (typed in lower case) chosen in the query string are sent once, not twice
    html = client.get("/datasets", query_string={"q": "leukaemia", "disease": ["DOID:1040"], "group": "hovon"})
    sent = filters_form(html.get_data(as_text=True)).submit()[1]
    assert sent.count(("disease", "DOID:1040")) == 1
    assert [pair for pair in sent if pair[0] == "group"] in ([("group", "HOVON")], [("group", "hovon")])


def test_bad_input_comes_back_with_a_message_next_to_the_field(app, client, listed):
    response = client.get("/datasets", query_string={"q": '"unclosed phrase', "patients_min": 5})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="q-error"' in html and "quotation mark is not closed" in html
    assert 'aria-invalid="true"' in html and 'value="&#34;unclosed phrase"' in html
    assert 'value="5"' in html  # the rest of the form keeps what was typed


def test_a_range_given_end_first_is_searched_the_right_way_round_and_said_so(app, client, listed):
    response = client.get("/datasets", query_string={"patients_min": 500, "patients_max": 10})
    assert response.status_code == 200
    assert "range was given end first; searched from 10 to 500" in response.get_data(as_text=True)
    given = client.get("/api/v1/datasets", query_string={"patients_min": 500, "patients_max": 10}).get_json()
    meant = client.get("/api/v1/datasets", query_string={"patients_min": 10, "patients_max": 500}).get_json()
    assert given["total"] == meant["total"] > 0 and given["notes"] and not meant["notes"]


def test_huge_queries_are_refused_quickly(app, client, listed, monkeypatch):
    """Refused before the text is read or the index searched (how fast: benchmarks/query_refusal_bench.py)."""
    from harmony.search import query
    from harmony.search.index import SearchIndex

    def no_work(*_args):
        raise AssertionError("a query over the length limit was read or searched before being refused")

    monkeypatch.setattr(query, "_tokens", no_work)
    monkeypatch.setattr(SearchIndex, "view", no_work)
    response = client.get("/datasets", query_string={"q": "leukaemia " * 2048})
    assert response.status_code == 422 and "too long" in response.get_data(as_text=True)
    api = client.get("/api/v1/datasets", query_string={"q": "x" * 20_000})
    assert api.status_code == 422 and api.mimetype == "application/problem+json"
    assert api.get_json()["errors"]["q"]


def test_empty_state_offers_ways_out(app, client, listed):
    html = client.get("/datasets", query_string={"q": "nothingmatchesthis", "country": "DE"}).get_data(as_text=True)
    assert "No dataset matches" in html and "Search again without the filters" in html


def test_basket_button_when_requests_exist(app, client, listed):
    html = client.get("/datasets").get_data(as_text=True)
    # a visitor's button leads to sign-in with a GET: no token, so the page sets no cookie
    assert html.count("Add to basket") == 2 and html.count('<form method="get" action="/basket/add"') == 2
    assert 'name="csrf_token"' not in html


def test_api_shape_and_errors(app, client, listed):
    body = client.get("/api/v1/datasets", query_string={"q": "AML"}).get_json()
    assert set(body) >= {"total", "items", "facets", "feasibility", "page", "per_page", "understood"}
    item = body["items"][0]
    assert item["url"].endswith(f"/datasets/{item['pid']}") and item["group"] == "HOVON"
    unknown = client.get("/api/v1/datasets", query_string={"country": "Atlantis"})
    assert unknown.status_code == 422 and "country" in unknown.get_json()["errors"]
    refused = client.get("/api/v1/datasets", headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers

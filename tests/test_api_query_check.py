"""Inputs as /api/v1/openapi.json describes them (issue 10 section 6): query parameters are checked against
the description itself, ids beyond the database's integers are no such thing, text loses NUL characters,
and searches that can only have been meant one way are read that way and say so."""

from __future__ import annotations

import pytest

from tests.access_requests.conftest import build_world


@pytest.fixture
def world(app):
    return build_world(app)


def _problem(response, field: str) -> str:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return " ".join(response.get_json()["errors"][field])


@pytest.mark.parametrize(("url", "query", "field", "says"), [
    ("/api/v1/reviews", {"all": "AAA"}, "all", "is not of type 'boolean'"),
    ("/api/v1/reviews", {"all": "true", "page": "0"}, "page", "less than the minimum of 1"),
    ("/api/v1/reviews", {"per_page": "101"}, "per_page", "greater than the maximum of 100"),
    ("/api/v1/reviews", {"page": "0.5"}, "page", "is not of type 'integer'"),
    ("/api/v1/vocabularies/diseases", {"q": "aml", "limit": ["3", "4"]}, "limit", "give limit once"),
    ("/api/v1/datasets", {"methods": ["true", "true"]}, "methods", "give methods once"),
    ("/api/v1/datasets", {"phase": "phase-9"}, "phase", "is not one of"),
    ("/api/v1/datasets", {"disease": "DOID:0"}, "disease", "is not one of"),
])
def test_a_query_the_description_refuses_is_a_422_naming_the_parameter(client, world, url, query, field, says):
    response = client.get(url, query_string=query, headers=world.headers("dave"))
    assert says in _problem(response, field)


def test_a_query_the_description_allows_is_accepted(client, world):
    for url, query in (("/api/v1/reviews", {"all": "1", "page": "2", "per_page": "5"}),
                       ("/api/v1/datasets", {"phase": ["phase-2", "phase-3"], "methods": "false", "page": "3"}),
                       ("/api/v1/vocabularies/diseases", {"q": "aml", "limit": "3"})):
        response = client.get(url, query_string=query, headers=world.headers("dave"))
        assert response.status_code == 200, (url, response.get_data(as_text=True))


def test_every_operation_with_query_parameters_documents_the_422(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if method != "parameters" and any(
                    p.get("in") == "query" for p in [*item.get("parameters", []), *operation.get("parameters", [])]):
                assert "422" in operation["responses"], (method, path)


def test_an_id_beyond_the_databases_integers_is_no_such_thing(client, world):
    for method, url in (("get", "/api/v1/requests/2147483648"), ("patch", "/api/v1/requests/2147483648"),
                        ("get", "/api/v1/reviews/99999999999")):
        response = getattr(client, method)(url, json={} if method == "patch" else None, headers=world.headers("alice"))
        assert response.status_code == 404, (method, url, response.status_code)


def test_nul_characters_are_taken_out_of_the_text_sent(client, world):
    response = client.post("/api/v1/requests", json={"title": "Relapse\x00 after HSCT", "datasets": []},
                           headers=world.headers("alice"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["content"]["title"] == "Relapse after HSCT"


def test_a_proposals_datasets_are_pids(client, world):
    response = client.post("/api/v1/requests", json={"title": "T", "datasets": ["HM-00001x"]},
                           headers=world.headers("alice"))
    assert "not a dataset PID" in _problem(response, "datasets")


def test_an_unknown_group_or_a_disease_specific_purpose_without_its_disease_is_said_not_refused(client, world):
    body = client.get("/api/v1/datasets", query_string={"group": "NOPE"}).get_json()
    assert body["total"] == 0 and any("no study group NOPE" in note for note in body["notes"])
    body = client.get("/api/v1/datasets", query_string={"purpose": "DS"}).get_json()
    assert body["total"] > 0 and any("needs its disease" in note for note in body["notes"])


def test_a_page_beyond_the_results_is_empty_not_an_error(client, world):
    body = client.get("/api/v1/datasets", query_string={"page": 999999, "per_page": 100}).get_json()
    assert body["items"] == [] and body["total"] > 0

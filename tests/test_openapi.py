"""/api/v1/openapi.json: valid OpenAPI 3.1, describing every route under /api/v1 and what they answer."""

from __future__ import annotations

import re

import jsonschema
import openapi_spec_validator
import pytest
import referencing
import referencing.jsonschema

from harmony.accounts.services import COMMAND_LINE, TokenCreate, create_token
from harmony.app import create_app
from harmony.catalog.content import DatasetContent
from tests import factories

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
NOT_DESCRIBED: set[str] = set()


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    """An app that is never asked to touch its database: the document is static."""
    folder = tmp_path_factory.mktemp("openapi")
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production",
                       "DATABASE_URL": f"sqlite:///{folder / 'unused.db'}", "BASE_URL": "http://harmony.test",
                       "SEARCH_INDEX_DIR": str(folder / "index"), "LOG_LEVEL": "WARNING"})


@pytest.fixture(scope="module")
def document(bare_app):
    response = bare_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_the_document_is_valid_openapi_3_1(document):
    openapi_spec_validator.validate(document)


def test_the_document_hangs_together(document):
    """What the validator checks least: refs resolve, ids are unique, errors are problem+json."""
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": "http://harmony.test"}]
    assert document["components"]["securitySchemes"]["bearer"] == {**document["components"]["securitySchemes"]
                                                                   ["bearer"], "type": "http", "scheme": "bearer"}
    ids = [operation["operationId"] for _path, _method, operation in operations(document)]
    assert len(ids) == len(set(ids))
    text = str(document)
    for ref in set(re.findall(r"'\$ref': '#/components/(\w+)/(\w+)'", text)):
        assert ref[1] in document["components"][ref[0]], ref
    for _path, _method, operation in operations(document):
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                target = response.get("$ref", "").rsplit("/", 1)[-1]
                resolved = document["components"]["responses"].get(target, response)
                assert "application/problem+json" in resolved["content"], (operation["operationId"], code)


def test_every_api_route_is_described(bare_app, document):
    missing = []
    for rule in bare_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint in NOT_DESCRIBED:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        described = document["paths"].get(path, {})
        for method in sorted(rule.methods & {m.upper() for m in HTTP_METHODS}):
            if method.lower() not in described:
                missing.append(f"{method} {path}")
    assert not missing, f"describe these in harmony/api/openapi.py: {missing}"


def test_every_described_operation_exists_unless_described_ahead(bare_app, document):
    adapter = bare_app.url_map.bind("harmony.test")
    for path, method, operation in operations(document):
        if operation.get("x-described-ahead"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)  # "1" fits both <int:…> and string converters
        endpoint, _args = adapter.match(concrete, method=method.upper())
        assert endpoint not in NOT_DESCRIBED, f"{method.upper()} {path} is described but not served"


def test_search_is_described_from_its_parameters(app, document):
    from harmony.search.params import SearchParams

    search = document["paths"]["/api/v1/datasets"]["get"]
    assert {p["name"] for p in search["parameters"]} == set(SearchParams.model_fields)
    results = document["components"]["schemas"]["SearchResults"]
    assert {"total", "items", "facets", "feasibility"} <= set(results["required"])
    answer = app.test_client().get("/api/v1/datasets", query_string={"q": "AML"}).get_json()
    assert "type" not in answer, answer
    assert set(answer) <= set(results["properties"])


def test_dataset_content_schema_comes_from_the_model(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["DatasetContent"]["properties"]) == set(DatasetContent.model_fields)
    assert schemas["DatasetContent"]["additionalProperties"] is False
    assert {"Person", "ContactPoint", "GroupInput"} <= set(schemas)
    assert "$defs" not in str(document)


def test_answers_match_their_schemas(app, client):
    """Real answers of the API, checked against the document's own schemas."""
    document = client.get("/api/v1/openapi.json").get_json()
    registry = referencing.Registry().with_resource(
        "urn:harmony:openapi", referencing.Resource.from_contents(document, referencing.jsonschema.DRAFT202012))

    def check(instance, schema_name: str) -> None:
        schema = {"$ref": f"urn:harmony:openapi#/components/schemas/{schema_name}"}
        jsonschema.Draft202012Validator(schema, registry=registry).validate(instance)

    with app.app_context():
        group = factories.group("HOVON")
        cora = factories.curator("cora", group)
        published = factories.dataset(cora, group, publish=True)
        draft = factories.dataset(cora, group, publish=False)
        curator = {"Authorization": f"Bearer {create_token(COMMAND_LINE, cora.user_id, TokenCreate(name='t'))[1]}"}
    check(client.get(f"/api/v1/datasets/{published.pid}").get_json(), "Dataset")
    check(client.get(f"/api/v1/datasets/{draft.pid}", headers=curator).get_json(), "Dataset")
    invalid = client.put(f"/api/v1/datasets/{draft.pid}", json={"content": {"population": "x"}}, headers=curator)
    check(invalid.get_json(), "Problem")
    client.post(f"/api/v1/datasets/{published.pid}/withdraw", json={"reason": "Withdrawn by the sponsor."},
                headers=curator)
    check(client.get(f"/api/v1/datasets/{published.pid}").get_json(), "Tombstone")
    check(client.get("/api/v1/groups/HOVON").get_json(), "Group")
    for item in client.get("/api/v1/groups").get_json()["items"]:
        check(item, "Group")
    check(client.get("/api/v1/vocabularies/diseases").get_json(), "Vocabulary")
    check(client.get("/api/v1/vocabularies/duo").get_json(), "Vocabulary")
    check(client.get("/api/v1/vocabularies/diseases?q=cll").get_json(), "Vocabulary")
    check(client.get(f"/api/v1/datasets/{draft.pid}").get_json(), "Problem")
    check(client.post("/api/v1/groups", json={}).get_json(), "Problem")

"""Methods and inputs as /api/v1/openapi.json describes them (found by Schemathesis, issue 10 section 6):
a path asked with a method it lacks answers 405 with its exact Allow, OPTIONS advertises only its methods,
and a list field sent as another JSON type is a 422 problem, not a server error."""

from __future__ import annotations

from tests.access_requests.conftest import build_world


def _allow(response) -> set[str]:
    return {method.strip() for method in response.headers.get("Allow", "").split(",") if method.strip()}


def test_an_unsupported_method_is_405_with_the_paths_methods(client):
    response = client.patch("/api/v1/me")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert _allow(response) == {"GET", "HEAD", "OPTIONS"}


def test_options_advertises_only_the_methods_a_path_has(client):
    response = client.options("/api/v1/groups/HOVON")
    assert _allow(response) == {"GET", "HEAD", "OPTIONS", "PUT"}


def test_a_405_outside_the_api_names_the_allowed_methods_too(client):
    response = client.put("/.well-known/jwks.json")
    assert response.status_code == 405 and _allow(response) == {"GET", "HEAD", "OPTIONS"}


def test_a_list_field_of_another_type_is_a_422_problem(app, client):
    world = build_world(app, datasets_per_group=0)
    with app.app_context():
        from harmony.accounts import services as accounts
        from harmony.accounts.services import COMMAND_LINE, TokenCreate

        cora = accounts.find_user("cora", world.issuer)
        token = accounts.create_token(COMMAND_LINE, cora.id, TokenCreate(name="test"))[1]
    response = client.post("/api/v1/datasets", json={"group": "HOVON", "content": {"title": "T", "keywords": True}},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"

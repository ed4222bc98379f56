"""Who may read a passport: the person, admins and data platforms' service tokens; nobody else, and an
outsider learns nothing (404, as for a subject nobody has). Service tokens read but never write."""

from __future__ import annotations

from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE
from harmony.platforms.tokens import PlatformInput, register_platform
from tests.passports.conftest import active, jwks, passport, verify, visas

OTHER_ISSUER = "http://other-idp.test"


def _service_token(app) -> dict[str, str]:
    with app.app_context():
        _platform, token = register_platform(COMMAND_LINE, PlatformInput(name="Leiden trusted research environment"))
    return {"Authorization": f"Bearer {token}"}


def test_a_user_cannot_read_another_users_passport_and_learns_nothing(client, world):
    active(client, world, pids=world.datasets[2:])
    assert len(visas(client, world, "alice")) == 2
    theirs = passport(client, world, "alice", reader="bruno")
    nobody = passport(client, world, "nobody-has-this-subject", reader="bruno")
    assert theirs.status_code == nobody.status_code == 404
    assert theirs.mimetype == "application/problem+json"
    assert theirs.get_json() == nobody.get_json()  # the same answer: no account is revealed
    chair = passport(client, world, "alice", reader="ivy")  # chairing the deciding committee is not enough
    assert chair.status_code == 404
    assert visas(client, world, "bruno") == []  # their own passport, empty


def test_without_a_valid_token_the_answer_is_401(client, world):
    assert client.get("/api/v1/permissions/alice").status_code == 401
    wrong = client.get("/api/v1/permissions/alice", headers={"Authorization": "Bearer hms_not-a-token"})
    assert wrong.status_code == 401 and "WWW-Authenticate" in wrong.headers


def test_admins_and_service_tokens_read_any_passport(client, world):
    active(client, world, pids=world.datasets[2:])
    assert len(visas(client, world, "alice", reader="adam")) == 2
    service = _service_token(world.app)
    response = client.get("/api/v1/permissions/alice", headers=service)
    assert response.status_code == 200, response.get_json()
    for token in response.get_json()["ga4gh_passport_v1"]:
        assert verify(token, jwks(client)).claims["sub"] == "alice"
    assert client.get("/api/v1/permissions/nobody", headers=service).status_code == 404


def test_a_service_token_cannot_write(client, world):
    proposal_id = active(client, world, pids=world.datasets[2:])
    service = _service_token(world.app)
    created = client.post("/api/v1/requests", json={"title": "From a platform", "datasets": world.datasets},
                          headers=service)
    assert created.status_code == 403, created.get_json()
    assert created.mimetype == "application/problem+json"
    revoke = client.post(f"/api/v1/requests/{proposal_id}/actions/revoke", json={"comment": "Platforms may not."},
                         headers=service)
    assert revoke.status_code == 403
    assert len(visas(client, world, "alice")) == 2  # nothing changed


def test_a_subject_known_at_two_providers_needs_iss(client, world):
    active(client, world, pids=world.datasets[2:])
    with world.app.app_context():
        accounts.provision_user(OTHER_ISSUER, "alice", {"name": "Another Alice", "email": "alice@other.example"})
    ambiguous = passport(client, world, "alice", reader="adam")
    assert ambiguous.status_code == 409 and ambiguous.mimetype == "application/problem+json"
    assert ambiguous.get_json()["issuers"] == sorted([world.issuer, OTHER_ISSUER])
    assert len(passport(client, world, "alice", reader="adam", iss=world.issuer).get_json()["ga4gh_passport_v1"]) == 2
    assert passport(client, world, "alice", reader="adam", iss=OTHER_ISSUER).get_json() == {"ga4gh_passport_v1": []}
    assert passport(client, world, "alice", reader="adam", iss="http://unknown.test").status_code == 404
    # alice herself may read only her own: for her the subject is not ambiguous, and the other account stays hidden
    own = passport(client, world, "alice")
    assert own.status_code == 200 and len(own.get_json()["ga4gh_passport_v1"]) == 2
    assert passport(client, world, "alice", iss=OTHER_ISSUER).status_code == 404

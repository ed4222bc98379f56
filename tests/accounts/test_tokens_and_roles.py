"""API tokens, /api/v1/me, roles and the command line."""

from datetime import timedelta

import pytest

from harmony import clock
from harmony.accounts import services
from harmony.accounts.permissions import Principal
from harmony.accounts.services import COMMAND_LINE, ProfileUpdate, RoleGrantInput, TokenCreate
from harmony.errors import PermissionDenied, ValidationError
from harmony.validation import parse
from tests.identity import sign_in


def make_user(app, subject="alice", name="Alice Martin"):
    with app.app_context():
        return services.provision_user("http://idp.test", subject, {"name": name, "email": f"{subject}@x.org"})


def test_me_without_token_is_401_problem(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_with_a_valid_token(app, client):
    user = make_user(app)
    with app.app_context():
        _token, plain = services.create_token(COMMAND_LINE, user.id, TokenCreate(name="script"))
        services.grant_role(COMMAND_LINE, RoleGrantInput(user_id=user.id, role="coordinator"))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["display_name"] == "Alice Martin"
    assert [role["role"] for role in body["roles"]] == ["coordinator"]


def test_revoked_and_expired_tokens_are_401(app, client):
    user = make_user(app)
    with app.app_context():
        revoked, revoked_plain = services.create_token(COMMAND_LINE, user.id, TokenCreate(name="a"))
        services.revoke_token(Principal(user_id=user.id), revoked.id)
        _expiring, expiring_plain = services.create_token(COMMAND_LINE, user.id, TokenCreate(name="b", days=1))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {revoked_plain}"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {expiring_plain}"}).status_code == 200
    with clock.frozen(clock.now() + timedelta(days=2)):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {expiring_plain}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer hm_made-up"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic YWxpY2U6eA=="}).status_code == 401


def test_api_ignores_the_session_cookie(client):
    sign_in(client, "alice")
    assert client.get("/api/v1/me").status_code == 401


def test_token_records_last_use(app, client):
    user = make_user(app)
    with app.app_context():
        token, plain = services.create_token(COMMAND_LINE, user.id, TokenCreate(name="a"))
        assert token.last_used_at is None
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    with app.app_context():
        assert services.tokens_of(user.id)[0].last_used_at is not None
        assert services.tokens_of(user.id)[0].token_hash != plain  # only the hash is stored


def test_tokens_page_shows_a_new_token_once(client):
    sign_in(client, "alice")
    page = client.get("/account").get_data(as_text=True)
    csrf = page.split('id="token-csrf_token" name="token-csrf_token" type="hidden" value="')[1].split('"')[0]
    created = client.post("/account/tokens", data={"token-csrf_token": csrf, "token-name": "harvester", "token-days": "30"})
    assert created.status_code == 200
    text = created.get_data(as_text=True)
    plain = text.split('id="new-token">')[1].split("<")[0]
    assert plain.startswith("hm_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert plain not in client.get("/account").get_data(as_text=True)


def test_token_form_errors_keep_the_input(client):
    sign_in(client, "alice")
    page = client.get("/account").get_data(as_text=True)
    csrf = page.split('id="token-csrf_token" name="token-csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/account/tokens", data={"token-csrf_token": csrf, "token-name": "keep me", "token-days": "999"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'value="keep me"' in text and "is-invalid" in text


@pytest.mark.parametrize("orcid,ok", [
    ("0000-0002-1825-0097", True), ("https://orcid.org/0000-0001-5109-3700", True),
    ("0000-0002-1694-233X", True), ("0000-0002-1825-0098", False), ("1234", False),
])
def test_orcid_checksum(orcid, ok):
    if ok:
        assert parse(ProfileUpdate, {"orcid": orcid}).orcid.endswith(orcid[-4:])
    else:
        with pytest.raises(ValidationError) as error:
            parse(ProfileUpdate, {"orcid": orcid})
        assert "orcid" in error.value.fields


def test_profile_form_keeps_input_and_names_the_field(client):
    sign_in(client, "alice")
    page = client.get("/account").get_data(as_text=True)
    csrf = page.split('id="csrf_token" name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/account", data={"csrf_token": csrf, "affiliation": "Charité", "orcid": "0000-0002-1825-0098"})
    text = response.get_data(as_text=True)
    assert "Charité" in text and "0000-0002-1825-0098" in text and "ORCID" in text and "is-invalid" in text
    ok = client.post("/account", data={"csrf_token": csrf, "affiliation": "Charité", "orcid": "0000-0002-1825-0097"})
    assert ok.status_code == 302


def test_only_admins_grant_roles(app):
    user = make_user(app)
    with app.app_context():
        with pytest.raises(PermissionDenied):
            services.grant_role(Principal(user_id=user.id), RoleGrantInput(user_id=user.id, role="admin"))
        with pytest.raises(ValidationError):
            services.grant_role(COMMAND_LINE, RoleGrantInput(user_id=user.id, role="curator"))  # no group
        grant = services.grant_role(COMMAND_LINE, RoleGrantInput(user_id=user.id, role="admin"))
        again = services.grant_role(COMMAND_LINE, RoleGrantInput(user_id=user.id, role="admin"))
        assert grant.id == again.id
        principal = services.principal_for(user)
        assert principal.is_admin and principal.role_names() == ["admin"]


def test_admin_roles_page_is_for_admins_only(app, client):
    sign_in(client, "alice")
    assert client.get("/admin/roles").status_code == 403
    with app.app_context():
        user = services.find_user("alice")
        services.grant_role(COMMAND_LINE, RoleGrantInput(user_id=user.id, role="admin"))
    page = client.get("/admin/roles")
    assert page.status_code == 200 and b"Current grants" in page.data


def test_roles_from_a_token_claim(app):
    with app.app_context():
        services.sign_in("http://idp.test", "olga", {"name": "Olga"}, None, claim_roles={"coordinator"})
        user = services.find_user("olga")
        assert services.principal_for(user).is_coordinator
        services.sign_in("http://idp.test", "olga", {"name": "Olga"}, None, claim_roles=set())
        assert not services.principal_for(user).is_coordinator


def test_cli_grant_and_token(app):
    make_user(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "grant", "alice", "admin"])
    assert result.exit_code == 0, result.output
    assert "is now admin" in result.output
    result = runner.invoke(args=["users", "token", "alice", "--days", "7"])
    assert result.exit_code == 0, result.output
    plain = result.stdout.strip().splitlines()[-1]
    assert plain.startswith("hm_")
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.get_json()["roles"][0]["role"] == "admin"
    missing = runner.invoke(args=["users", "grant", "nobody", "admin"])
    assert missing.exit_code != 0 and "has signed in yet" in missing.output
    scoped = runner.invoke(args=["users", "grant", "alice", "curator"])
    assert scoped.exit_code != 0 and "--group" in scoped.output

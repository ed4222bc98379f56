"""Protocol tests against the certified Node `oidc-provider` (PKCE required), over HTTP.

The same app code signs in here as with the development provider: only HARMONY_OIDC_* differ.
"""

import os

import pytest
import requests
from sqlalchemy import update

from harmony import clock, db
from harmony.accounts.models import LoginState
from tests.conftest import empty_tables, make_app
from tests.identity import local_path, query_of
from tests.oidc_node_server import NodeOidcProvider, NodeOidcUnavailable, ensure_installed, login_with_requests

CLIENT_ID = "harmony-node-test"
CLIENT_SECRET = "node-test-secret-0123456789"
BASE_URL = "http://harmony.test"


@pytest.fixture(scope="session")
def node_provider():
    try:
        ensure_installed()
    except NodeOidcUnavailable as error:
        if os.environ.get("REQUIRE_NODE") == "1":
            pytest.fail(str(error), pytrace=False)
        pytest.skip(str(error))
    provider = NodeOidcProvider.start(CLIENT_ID, CLIENT_SECRET, [f"{BASE_URL}/auth/callback"], [f"{BASE_URL}/"])
    yield provider
    provider.stop()


@pytest.fixture
def node_app(database_url, node_provider):
    app = make_app(database_url, OIDC_METADATA_URL=node_provider.metadata_url, OIDC_CLIENT_ID=CLIENT_ID,
                   OIDC_CLIENT_SECRET=CLIENT_SECRET)
    with app.app_context():
        empty_tables()
    node_provider.set_mode("normal")
    yield app
    with app.app_context():
        db.engine().dispose()


def start(client, next_path="/"):
    response = client.get("/auth/login", query_string={"go": 1, "next": next_path})
    assert response.status_code == 302
    return response.headers["Location"]


def at_provider(authorize_url, subject="alice", consent=True):
    return login_with_requests(requests.Session(), authorize_url, subject, consent=consent)


def test_sign_in_and_return_to_the_page(node_app):
    client = node_app.test_client()
    back = at_provider(start(client, "/account"))
    response = client.get(local_path(back))
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert b"Alice Example" in client.get("/account").data


def test_pkce_is_sent_and_required(node_app, node_provider):
    client = node_app.test_client()
    authorize_url = start(client)
    assert query_of(authorize_url)["code_challenge_method"] == "S256"
    stripped = authorize_url.replace("code_challenge=", "x_code_challenge=")
    refused = at_provider(stripped)
    assert query_of(refused)["error"] == "invalid_request"


def test_tampered_state_is_refused(node_app):
    client = node_app.test_client()
    back = at_provider(start(client))
    response = client.get(local_path(back.replace("state=", "state=tampered")))
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_callback_without_a_started_sign_in_is_refused(node_app):
    attacker = node_app.test_client()
    back = at_provider(start(attacker), "mallory")
    victim = node_app.test_client()
    assert victim.get(local_path(back)).status_code == 400
    assert victim.get("/account").status_code == 302


def test_replayed_code_is_refused(node_app):
    client = node_app.test_client()
    first = at_provider(start(client))
    assert client.get(local_path(first)).status_code == 302
    # the same browser starts again, and an attacker feeds it the old code with the new state
    second = start(client)
    replay = f"{BASE_URL}/auth/callback?code={query_of(first)['code']}&state={query_of(second)['state']}"
    response = client.get(local_path(replay))
    assert response.status_code == 400
    assert b"did not confirm" in response.data


def test_wrong_pkce_verifier_is_refused(node_app):
    client = node_app.test_client()
    authorize_url = start(client)
    with node_app.app_context():  # an attacker who holds the code but not this browser's verifier
        with db.unit_of_work() as uow:
            uow.session.execute(update(LoginState).values(code_verifier="x" * 64))
    response = client.get(local_path(at_provider(authorize_url)))
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("mode", ["wrong-aud", "wrong-iss", "wrong-nonce", "expired"])
def test_id_token_with_a_wrong_claim_is_refused(node_app, node_provider, mode):
    client = node_app.test_client()
    authorize_url = start(client)
    node_provider.set_mode(mode)
    response = client.get(local_path(at_provider(authorize_url)))
    assert response.status_code == 400, mode
    assert b"could not be verified" in response.data
    assert client.get("/account").status_code == 302


def test_expired_by_our_clock_is_refused(node_app, refusals):
    """Our clock is three hours on, past the ID token's exp (the provider's tokens live an hour); the
    login state is made fresh by that clock, so only the token's expiry can refuse the sign-in."""
    from datetime import timedelta

    client = node_app.test_client()
    back = at_provider(start(client))
    later = clock.now() + timedelta(hours=3)
    with node_app.app_context():
        with db.unit_of_work() as uow:
            uow.session.execute(update(LoginState).values(created_at=later))
    with clock.frozen(later):
        response = client.get(local_path(back))
    assert response.status_code == 400
    assert refusals == ["claim-exp"]
    assert client.get("/account").status_code == 302


def test_denied_consent_shows_the_friendly_page(node_app):
    client = node_app.test_client()
    back = at_provider(start(client), consent=False)
    response = client.get(local_path(back))
    assert response.status_code == 403
    assert b"did not allow Harmony" in response.data


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example"])
def test_open_redirects_go_home(node_app, target):
    client = node_app.test_client()
    back = at_provider(start(client, target))
    assert client.get(local_path(back)).headers["Location"] == "/"


def test_session_cookie_is_renewed(node_app):
    client = node_app.test_client()
    authorize_url = start(client)
    before = client.get_cookie("harmony_session").value
    client.get(local_path(at_provider(authorize_url)))
    assert client.get_cookie("harmony_session").value != before


def test_sign_out_goes_to_the_providers_end_session(node_app, node_provider):
    client = node_app.test_client()
    client.get(local_path(at_provider(start(client))))
    page = client.get("/account").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/auth/logout", data={"csrf_token": csrf})
    location = response.headers["Location"]
    assert location.startswith(node_provider.metadata()["end_session_endpoint"])
    assert "id_token_hint=" in location and "post_logout_redirect_uri=" in location

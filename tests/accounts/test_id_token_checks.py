"""The ID token checks (signature, issuer, audience, expiry by our clock, nonce) and the single use of a
sign-in under way, against a provider in this process whose ID tokens carry the claims each test
chooses (tests/accounts/claims_provider.py). Pure Python: no machine passes without these checks.

Each refusal is asserted by the reason the app logs, so a test cannot pass because some other check
(an expired login state, a refused code) happened to refuse first.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from harmony import clock, db
from harmony.accounts import services
from harmony.accounts.models import LoginState
from tests.accounts.claims_provider import REMOVE, ClaimsProvider
from tests.conftest import empty_tables, make_app
from tests.identity import local_path

CLIENT_ID = "harmony-claims-test"
CLIENT_SECRET = "claims-test-secret-0123456789"


@pytest.fixture(scope="module")
def provider():
    running = ClaimsProvider(CLIENT_ID, CLIENT_SECRET).start()
    yield running
    running.stop()


@pytest.fixture
def claims_app(database_url, provider):
    app = make_app(database_url, OIDC_METADATA_URL=provider.metadata_url, OIDC_CLIENT_ID=CLIENT_ID,
                   OIDC_CLIENT_SECRET=CLIENT_SECRET)
    with app.app_context():
        empty_tables()
    provider.next_token()  # nothing left over from another test
    yield app
    with app.app_context():
        db.engine().dispose()


def start(client) -> str:
    response = client.get("/auth/login", query_string={"go": 1, "next": "/account"})
    assert response.status_code == 302
    return response.headers["Location"]


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_a_good_id_token_signs_in(claims_app, provider, refusals):
    client = claims_app.test_client()
    response = client.get(local_path(provider.authorize(start(client))))
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert signed_in(client) and refusals == []


@pytest.mark.parametrize(("claims", "reason"), [
    ({"nonce": "not-the-nonce-we-sent"}, "claim-nonce"),
    ({"nonce": REMOVE}, "claim-nonce"),
    ({"aud": "another-client"}, "claim-aud"),
    ({"aud": ["another-client"]}, "claim-aud"),
    ({"aud": [CLIENT_ID, "another-client"]}, "claim-azp"),  # several audiences need azp = us
    ({"iss": "https://elsewhere.example"}, "claim-iss"),
    ({"iss": REMOVE}, "claim-iss"),
    ({"sub": REMOVE}, "claim-sub"),
    ({"exp": REMOVE}, "claim-exp"),
    ({"iat": REMOVE}, "claim-iat"),
], ids=["wrong-nonce", "no-nonce", "wrong-aud", "wrong-aud-list", "aud-list-without-azp", "wrong-iss", "no-iss",
        "no-sub", "no-exp", "no-iat"])
def test_id_token_with_a_wrong_claim_is_refused(claims_app, provider, refusals, claims, reason):
    client = claims_app.test_client()
    back = provider.authorize(start(client))
    provider.next_token(**claims)
    response = client.get(local_path(back))
    assert response.status_code == 400
    assert b"could not be verified" in response.data
    assert refusals == [reason]
    assert not signed_in(client)


def test_id_token_expired_by_the_providers_clock_is_refused(claims_app, provider, refusals):
    client = claims_app.test_client()
    back = provider.authorize(start(client))
    provider.next_token(exp=int(clock.now().timestamp()) - 3600, iat=int(clock.now().timestamp()) - 7200)
    assert client.get(local_path(back)).status_code == 400
    assert refusals == ["claim-exp"]
    assert not signed_in(client)


def test_id_token_expired_by_our_clock_is_refused(claims_app, provider, refusals):
    """The token is valid by the real clock (exp in five minutes); our clock is ten minutes on, which is
    past exp and its 60 s leeway but within the login state's 15-minute lifetime: only the token's
    expiry, read against our clock, can refuse it."""
    client = claims_app.test_client()
    back = provider.authorize(start(client))
    assert provider.token_lifetime == 300 and services.LOGIN_STATE_LIFETIME > timedelta(minutes=10)
    with clock.frozen(clock.now() + timedelta(minutes=10)):
        response = client.get(local_path(back))
    assert response.status_code == 400
    assert refusals == ["claim-exp"]
    assert not signed_in(client)


@pytest.mark.parametrize("kid", ["test-key-1", "another-key"])
def test_id_token_signed_by_another_key_is_refused(claims_app, provider, refusals, kid):
    client = claims_app.test_client()
    back = provider.authorize(start(client))
    provider.next_token(signed_with=RSAKey.generate_key(2048, parameters={"kid": kid}))
    assert client.get(local_path(back)).status_code == 400
    assert refusals == ["bad-signature"]
    assert not signed_in(client)


def test_a_login_state_is_used_once(claims_app, provider, refusals):
    """Someone who copied the browser's cookie before the callback replays it: the state was consumed."""
    client = claims_app.test_client()
    back = provider.authorize(start(client))
    cookie_before_callback = client.get_cookie("harmony_session").value
    assert client.get(local_path(back)).status_code == 302 and signed_in(client)
    replayer = claims_app.test_client()
    replayer.set_cookie("harmony_session", cookie_before_callback, domain="localhost")
    response = replayer.get(local_path(back))
    assert response.status_code == 400
    assert refusals == ["state-expired"]  # refused by our stored state, before the provider is asked
    assert not signed_in(replayer)


def test_take_login_consumes_the_stored_state(claims_app):
    with claims_app.app_context():
        services.remember_login("s" * 43, "n" * 43, "v" * 64, "/account")
        first = services.take_login("s" * 43)
        assert first is not None and first.nonce == "n" * 43 and first.next_path == "/account"
        assert services.take_login("s" * 43) is None
        assert db.session().scalar(select(func.count()).select_from(LoginState)) == 0

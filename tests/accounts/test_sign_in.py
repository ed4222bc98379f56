"""Sign-in through a real OpenID provider over HTTP (the development provider, in a thread)."""

from sqlalchemy import func, select

from harmony import db
from harmony.accounts.models import Identity, LoginState, User, UserSession
from tests.factories import csrf_token
from tests.identity import authorize_at_provider, local_path, query_of, sign_in


def test_sign_in_creates_the_user_and_returns_to_the_page(client, app):
    response = sign_in(client, "alice", next_path="/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200
    assert b"Alice Martin" in page.data  # the header and the profile show the provider's name claim
    with app.app_context():
        identity = db.session().scalar(select(Identity))
        assert identity.subject == "alice"
        assert identity.issuer.startswith("http://127.0.0.1:")


def test_second_sign_in_refreshes_name_and_email(client, app, dev_provider):
    dev_provider.set_claims("zoe", {"name": "Zoe Old", "email": "zoe@old.example"})
    sign_in(client, "zoe")
    client.post("/auth/logout", data={"csrf_token": _csrf(client)})
    dev_provider.set_claims("zoe", {"name": "Zoe New", "email": "zoe@new.example"})
    sign_in(client, "zoe")
    with app.app_context():
        users = db.session().scalars(select(User)).all()
        assert [(u.display_name, u.email) for u in users] == [("Zoe New", "zoe@new.example")]


def _csrf(client) -> str:
    return csrf_token(client)


def test_sign_out_revokes_the_session(client, app):
    sign_in(client, "alice")
    assert client.get("/account").status_code == 200
    response = client.post("/auth/logout", data={"csrf_token": _csrf(client)})
    assert response.status_code == 302
    # the provider has an end-session endpoint, so sign-out continues there
    assert "/oauth2/end_session" in response.headers["Location"]
    assert "id_token_hint=" in response.headers["Location"]
    assert client.get("/account").status_code == 302  # back to sign-in
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))) == 0


def test_sign_out_needs_csrf(client):
    sign_in(client, "alice")
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_session_cookie_is_renewed_at_sign_in(client, app):
    client.get("/auth/login", query_string={"go": 1})
    before = client.get_cookie("harmony_session").value
    sign_in(client, "alice")
    after = client.get_cookie("harmony_session").value
    assert before != after
    cookie = client.get_cookie("harmony_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_stolen_cookie_is_useless_after_sign_out(client, app):
    sign_in(client, "alice")
    stolen = client.get_cookie("harmony_session").value
    client.post("/auth/logout", data={"csrf_token": _csrf(client)})
    thief = app.test_client()
    thief.set_cookie("harmony_session", stolen, domain="localhost")
    assert thief.get("/account").status_code == 302


def test_login_state_is_server_side_and_the_cookie_does_not_grow(client, app):
    sizes = []
    for _ in range(5):
        client.get("/auth/login", query_string={"go": 1})
        sizes.append(len(client.get_cookie("harmony_session").value))
    assert max(sizes) - min(sizes) <= 4  # one state value, replaced each time
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(LoginState)) == 5


def test_tampered_state_is_refused(client):
    start = client.get("/auth/login", query_string={"go": 1})
    back = authorize_at_provider(start.headers["Location"], "alice")
    tampered = back.replace("state=", "state=x")
    response = client.get(local_path(tampered))
    assert response.status_code == 400
    assert b"Try signing in again" in response.data
    assert client.get("/account").status_code == 302


def test_callback_in_a_browser_that_never_started_sign_in_is_refused(client, app):
    start = client.get("/auth/login", query_string={"go": 1})
    back = authorize_at_provider(start.headers["Location"], "mallory")
    victim = app.test_client()  # login CSRF: the attacker's callback URL opened in another browser
    response = victim.get(local_path(back))
    assert response.status_code == 400
    assert victim.get("/account").status_code == 302


def test_replayed_callback_is_refused(client):
    start = client.get("/auth/login", query_string={"go": 1})
    back = authorize_at_provider(start.headers["Location"], "alice")
    assert client.get(local_path(back)).status_code == 302
    client.post("/auth/logout", data={"csrf_token": _csrf(client)})
    assert client.get(local_path(back)).status_code == 400


def test_denied_consent_shows_a_friendly_page(client):
    start = client.get("/auth/login", query_string={"go": 1})
    back = authorize_at_provider(start.headers["Location"], "alice", deny=True)
    assert query_of(back)["error"] == "access_denied"
    response = client.get(local_path(back))
    assert response.status_code == 403
    assert b"did not allow Harmony" in response.data


def test_authorization_request_uses_pkce_state_and_nonce(client):
    start = client.get("/auth/login", query_string={"go": 1})
    params = query_of(start.headers["Location"])
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) >= 43
    assert params["state"] and params["nonce"] and params["response_type"] == "code"
    assert "openid" in params["scope"].split()


def test_open_redirects_are_ignored(client):
    for target in ("//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"):
        client.get("/auth/login", query_string={"go": 1, "next": target})
        response = sign_in(client, "alice", next_path=target)
        assert response.headers["Location"] == "/", target


def test_provider_down_gives_a_friendly_page(database_url, dev_provider):
    from tests.conftest import make_app

    app = make_app(database_url, OIDC_METADATA_URL="http://127.0.0.1:9/.well-known/openid-configuration")
    response = app.test_client().get("/auth/login", query_string={"go": 1})
    assert response.status_code == 502
    assert b"could not be reached" in response.data


def test_without_a_provider_sign_in_says_so(database_url):
    from tests.conftest import make_app

    app = make_app(database_url, OIDC_METADATA_URL=None)
    assert app.test_client().get("/auth/login").status_code == 503


def test_header_shows_sign_in_then_the_name(client):
    assert b"Sign in" in client.get("/").data
    sign_in(client, "alice")
    home = client.get("/").data
    assert b"Alice Martin" in home and b"Sign out" in home

"""The app shell as a visitor and an API client meet it: pages, headers, errors, CSRF."""

import re

from flask import Blueprint, request
from flask_wtf.csrf import generate_csrf

from tests.conftest import make_app


def test_home_page_renders_with_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Harmony" in response.data
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_only_over_https(client):
    response = client.get("/", base_url="https://harmony.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unknown_page_gives_html_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"<main" in response.data and b"Not Found" in response.data


def test_unknown_api_path_gives_problem_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["title"] and body["detail"]
    assert body["type"].endswith("/problems/not-found")


def _app_with_test_routes(database_url, **overrides):
    app = make_app(database_url, **overrides)
    probe = Blueprint("probe", __name__)

    @probe.route("/probe/form", methods=["GET", "POST"])
    def form():
        if request.method == "POST":
            return f"accepted {len(request.form)} fields"
        return generate_csrf()

    @probe.get("/probe/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    @probe.get("/api/v1/probe/boom")
    def api_boom():
        raise RuntimeError("secret internals")

    app.register_blueprint(probe)
    return app


def test_post_without_csrf_token_is_refused(database_url):
    app = _app_with_test_routes(database_url)
    client = app.test_client()
    response = client.post("/probe/form", data={"name": "x"})
    assert response.status_code == 400
    assert b"form could not be accepted" in response.data


def test_post_with_csrf_token_is_accepted(database_url):
    app = _app_with_test_routes(database_url)
    client = app.test_client()
    token = client.get("/probe/form").get_data(as_text=True)
    response = client.post("/probe/form", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.data == b"accepted 1 fields"


def test_errors_never_show_a_stack_trace(database_url):
    app = _app_with_test_routes(database_url)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    response = client.get("/probe/boom")
    assert response.status_code == 500
    assert b"Traceback" not in response.data and b"secret internals" not in response.data
    api = client.get("/api/v1/probe/boom")
    assert api.status_code == 500 and api.mimetype == "application/problem+json"
    assert "secret internals" not in api.get_data(as_text=True)


def test_request_size_is_limited(database_url):
    app = _app_with_test_routes(database_url, MAX_CONTENT_LENGTH=1000)
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/probe/form", data={"blob": "x" * 5000})
    assert response.status_code == 413


def test_session_cookie_is_httponly_and_lax(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_healthz_reports_database_and_schema(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["schema"]["at_head"] is True


def test_healthz_reads_the_migration_scripts_once_per_process(client, monkeypatch):
    """Finding the code's newest migration compiles every migration script (about 10 ms): a
    monitor polling /healthz must not pay that on every request."""
    from harmony import migrate

    reads = []
    scripts = migrate.ScriptDirectory

    class CountingScripts:
        @staticmethod
        def from_config(config):
            reads.append(config)
            return scripts.from_config(config)

    monkeypatch.setattr(migrate, "ScriptDirectory", CountingScripts)
    for _ in range(3):
        assert client.get("/healthz").get_json()["schema"]["at_head"] is True
    assert len(reads) <= 1


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert b"Sitemap: http://harmony.test/sitemap.xml" in response.data


def test_pages_link_the_icon_and_favicon_ico_answers(client):
    icons = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', client.get("/").get_data(as_text=True))
    assert len(icons) == 1, "the page links no icon (or several)"
    icon = client.get(icons[0])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data
    legacy = client.get("/favicon.ico")  # what browsers ask for whatever the page links
    assert legacy.status_code in (301, 302, 307, 308) and legacy.headers["Location"] == icons[0]

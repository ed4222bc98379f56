"""Signing in during tests, through a real OpenID provider over HTTP."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
import werkzeug.serving

from harmony.accounts.devidp import provider_app

CLIENT_ID = "harmony-test"
CLIENT_SECRET = "harmony-test-secret"


@dataclass
class RunningProvider:
    server: werkzeug.serving.BaseWSGIServer
    thread: threading.Thread

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def set_claims(self, subject: str, claims: dict) -> None:
        requests.put(f"{self.issuer}/users/{subject}", json=claims, timeout=5).raise_for_status()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def start_dev_provider() -> RunningProvider:
    """The development provider (oidc-provider-mock) on a free loopback port, in a thread."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return RunningProvider(server, thread)


def authorize_at_provider(authorize_url: str, subject: str, deny: bool = False) -> str:
    """Play the person at the provider's page: pick `subject` (or deny). Returns the redirect back."""
    data = {"action": "deny"} if deny else {"sub": subject}
    response = requests.post(authorize_url, data=data, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text[:500]
    return response.headers["Location"]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def sign_in(client, subject: str, next_path: str = "/"):
    """Sign in through the app's /auth/login and the provider; returns the final response."""
    start = client.get("/auth/login", query_string={"go": 1, "next": next_path})
    assert start.status_code == 302, start.data[:500]
    back = authorize_at_provider(start.headers["Location"], subject)
    return client.get(local_path(back))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}

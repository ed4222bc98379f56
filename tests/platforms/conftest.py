"""Data platforms under test: the access-request consortium (`world`, `page_world`, `people`, `api` from
tests/access_requests/conftest.py), a webhook receiver on 127.0.0.1 that checks each signature itself,
and helpers that take a proposal to active grants over the API."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harmony.accounts.services import COMMAND_LINE
from harmony.platforms import tokens
from tests.access_requests.conftest import act, api, approve, page_world, people, world  # noqa: F401  (fixtures)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    signature_ok: bool

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A platform's webhook endpoint: answers the statuses in `script` in turn (then 200) and records every
    request with whether its X-Harmony-Signature is the HMAC-SHA256 of "<timestamp>.<body>" under `secret`."""

    url: str
    secret: str | None = None
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        timestamp = headers.get("X-Harmony-Timestamp", "")
        expected = "sha256=" + hmac.new((self.secret or "").encode(), f"{timestamp}.".encode() + body,
                                        hashlib.sha256).hexdigest()
        with self.lock:
            status = self.script.pop(0) if self.script else 200
            self.received.append(Received(headers, body, status,
                                          hmac.compare_digest(expected, headers.get("X-Harmony-Signature", ""))))
        return status

    def accepted(self) -> list[Received]:
        return [r for r in self.received if 200 <= r.status < 300]


@pytest.fixture
def receiver():
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = holder["receiver"].handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/harmony")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield holder["receiver"]
    server.shutdown()
    server.server_close()
    thread.join(5)


def register(app, name: str, webhook_url: str | None = None):
    """A data platform made as an admin would; returns (platform, plain service token)."""
    with app.app_context():
        return tokens.register_platform(COMMAND_LINE, tokens.PlatformInput(name=name, webhook_url=webhook_url))


@pytest.fixture
def platform(app, receiver):
    """A live platform whose webhook is `receiver`; the receiver knows the secret."""
    made, token = register(app, "Leiden SRE", receiver.url)
    receiver.secret = made.webhook_secret
    return made, token


def active_proposal(client, consortium, subject: str = "alice", pids: list[str] | None = None) -> int:
    """Approved, agreements accepted by `subject` where due: the proposal's grants are live."""
    proposal_id = approve(client, consortium, subject, pids)
    state = client.get(f"/api/v1/requests/{proposal_id}", headers=consortium.headers(subject)).get_json()["state"]
    if state == "agreement":
        accepted = act(client, consortium, subject, proposal_id, "accept-agreement")
        assert accepted.status_code == 200, accepted.get_json()
        state = accepted.get_json()["state"]
    assert state == "active"
    return proposal_id

"""The test OpenID Connect provider: Node's certified `oidc-provider`, run from tests/oidc_node/.

Use from pytest fixtures:

    ensure_installed()                      # npm ci in tests/oidc_node when needed
    op = NodeOidcProvider.start("harmony", "secret", ["http://127.0.0.1:5000/auth/callback"],
                                ["http://127.0.0.1:5000/"])
    op.issuer, op.metadata_url              # http://127.0.0.1:<port>, .../.well-known/openid-configuration
    op.set_mode("wrong-nonce")              # the NEXT ID token from the token endpoint has a wrong nonce
    callback_url = login_with_requests(requests.Session(), authorize_url, "alice")
    op.stop()

The provider accepts any login name as the subject (sub), with name "<Name> Example" and email
"<sub>@example.org" (email_verified true). PKCE with S256 is required on every authorization request.
See tests/oidc_node/server.mjs for the pages, their form fields and the /__test/ hooks.

Only `requests` and the standard library are used.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

NODE_DIR = Path(__file__).resolve().parent / "oidc_node"
SERVER_SCRIPT = NODE_DIR / "server.mjs"
MIN_NODE = (20, 18)
MODES = ("normal", "wrong-aud", "wrong-iss", "wrong-nonce", "expired")
_INSTALL_STAMP = ".harmony-npm-ci.stamp"
# Admin calls to the loopback provider must never go through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NodeOidcUnavailable(RuntimeError):
    """Node.js or npm is missing or too old: the caller may skip rather than fail."""


class NodeOidcError(RuntimeError):
    """The provider could not be installed or started, or a flow through it went wrong."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NodeOidcUnavailable(
            f"`{name}` not found on PATH: the OIDC protocol tests need Node.js {MIN_NODE[0]}.{MIN_NODE[1]}+ "
            "and npm (Debian packages nodejs and npm, or the NodeSource build)"
        )
    return path


def node_executable() -> str:
    """The `node` program, checked to be new enough for oidc-provider."""
    node = _tool("node")
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise NodeOidcUnavailable(f"`{node} --version` failed: {exc}") from exc
    match = re.match(r"v(\d+)\.(\d+)", version.strip())
    if not match or (int(match[1]), int(match[2])) < MIN_NODE:
        raise NodeOidcUnavailable(
            f"Node.js {version.strip() or '?'} at {node} is too old: need {MIN_NODE[0]}.{MIN_NODE[1]} or newer"
        )
    return node


def _installed() -> bool:
    stamp = NODE_DIR / "node_modules" / _INSTALL_STAMP
    if not stamp.exists() or not (NODE_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return False
    newest_input = max((NODE_DIR / name).stat().st_mtime for name in ("package.json", "package-lock.json"))
    return stamp.stat().st_mtime >= newest_input


def ensure_installed(timeout: float = 600) -> None:
    """Run `npm ci` in tests/oidc_node when node_modules is missing or older than the lock file.

    Raises NodeOidcUnavailable when node or npm is missing, NodeOidcError when npm ci fails.
    Safe to call from several processes at once (a lock file in the temp folder serialises them).
    """
    node_executable()
    if _installed():
        return
    npm = _tool("npm")
    lock_name = "harmony-oidc-node-" + hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16] + ".lock"
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():
            return
        command = [npm, "ci", "--no-audit", "--no-fund"]
        try:
            result = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise NodeOidcError(f"`{' '.join(command)}` in {NODE_DIR} took longer than {timeout:.0f}s") from exc
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()[-4000:]
            raise NodeOidcError(f"`{' '.join(command)}` in {NODE_DIR} failed ({result.returncode}):\n{output}")
        (NODE_DIR / "node_modules" / _INSTALL_STAMP).touch()


def _http_json(method: str, url: str, body: dict | None = None, timeout: float = 5) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with _DIRECT.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload)
        except ValueError:
            return exc.code, payload.decode(errors="replace")


@dataclass
class NodeOidcProvider:
    """A running test provider. Make one with NodeOidcProvider.start(...); stop it with .stop()."""

    issuer: str
    port: int
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    process: subprocess.Popen = field(repr=False)
    log_path: Path = field(repr=False)
    startup_seconds: float = 0.0

    @classmethod
    def start(
        cls,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | tuple[str, ...],
        post_logout_redirect_uris: list[str] | tuple[str, ...] = (),
        *,
        token_endpoint_auth_method: str = "client_secret_basic",
        accounts: dict[str, dict[str, Any]] | None = None,
        conform_id_token_claims: bool = False,
        port: int = 0,
        timeout: float = 30,
    ) -> NodeOidcProvider:
        """Start `node server.mjs` on 127.0.0.1 (a free port unless `port` is given) and wait until ready.

        `accounts` optionally overrides claims per subject, e.g. {"bob": {"email": "bob@nhs.test"}}.
        With conform_id_token_claims=False (the default) name/email are in the ID token as well as
        at the userinfo endpoint.
        """
        ensure_installed()
        node = node_executable()
        config = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
            "token_endpoint_auth_method": token_endpoint_auth_method,
            "conform_id_token_claims": conform_id_token_claims,
            "accounts": accounts or {},
        }
        fd, log_name = tempfile.mkstemp(prefix="harmony-oidc-node-", suffix=".log")
        log_path = Path(log_name)
        began = time.monotonic()
        with os.fdopen(fd, "wb") as log:
            process = subprocess.Popen(
                [node, str(SERVER_SCRIPT), str(port)],
                cwd=NODE_DIR,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    "OIDC_CONFIG": json.dumps(config),
                    "OIDC_PARENT_PID": str(os.getpid()),
                    "NODE_ENV": "test",
                },
            )
        provider = None
        try:
            ready = cls._wait_ready(process, log_path, began + timeout)
            provider = cls(
                issuer=ready["issuer"],
                port=ready["port"],
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=list(redirect_uris),
                post_logout_redirect_uris=list(post_logout_redirect_uris),
                process=process,
                log_path=log_path,
            )
            while True:
                try:
                    status, body = _http_json("GET", provider.url("/__test/health"), timeout=2)
                    if status == 200 and body.get("issuer") == provider.issuer:
                        break
                except OSError:
                    pass
                if time.monotonic() > began + timeout or process.poll() is not None:
                    raise NodeOidcError(f"test OIDC provider never answered /__test/health\n{_tail(log_path)}")
                time.sleep(0.05)
            provider.startup_seconds = time.monotonic() - began
        except BaseException:
            _terminate(process)
            log_path.unlink(missing_ok=True)
            raise
        atexit.register(provider.stop)
        return provider

    @staticmethod
    def _wait_ready(process: subprocess.Popen, log_path: Path, deadline: float) -> dict[str, Any]:
        while True:
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith('{"event":"ready"'):
                    return json.loads(line)
            if process.poll() is not None:
                raise NodeOidcError(
                    f"test OIDC provider exited with {process.returncode} before it was ready:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise NodeOidcError(f"test OIDC provider not ready in time:\n{_tail(log_path)}")
            time.sleep(0.05)

    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        """The discovery document."""
        status, body = _http_json("GET", self.metadata_url)
        if status != 200:
            raise NodeOidcError(f"discovery answered {status}: {body}")
        return body

    def set_mode(self, mode: str, value: str | None = None) -> None:
        """Corrupt the NEXT ID token issued at the token endpoint (then back to "normal").

        "wrong-aud": aud is another client ("some-other-client"); "wrong-iss": iss is another URL
        ("http://127.0.0.1:1/wrong-issuer"); "wrong-nonce": a different nonce; "expired": iat two
        hours and exp one hour in the past. `value` replaces the default aud/iss/nonce. The token
        is re-signed with the provider's own key, so its signature stays valid.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        body: dict[str, Any] = {"mode": mode}
        if value is not None:
            body["value"] = value
        status, answer = _http_json("POST", self.url("/__test/mode"), body)
        if status != 200:
            raise NodeOidcError(f"setting mode {mode} failed ({status}): {answer}")

    def mode(self) -> str:
        """The mode still waiting for a token response ("normal" once one has been used)."""
        return _http_json("GET", self.url("/__test/mode"))[1]["mode"]

    def log_text(self) -> str:
        """What the server printed so far (warnings, server errors)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        _terminate(self.process)
        self.log_path.unlink(missing_ok=True)
        atexit.unregister(self.stop)

    def __enter__(self) -> NodeOidcProvider:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except FileNotFoundError:
        return ""


# --- driving the provider's pages with requests -------------------------------------------


@dataclass
class _Form:
    id: str | None
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of named submit buttons


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.text: list[str] = []
        self._form: _Form | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = _Form(a.get("id"), a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and a.get("name"):
            if a.get("type", "text").lower() in ("submit", "button", "image"):
                self._form.buttons.append((a["name"], a.get("value", "")))
            else:
                self._form.fields.append((a["name"], a.get("value", "")))
        elif self._form is not None and tag == "button" and a.get("name"):
            self._form.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def _parse(html: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser


def _page_error(response) -> str:
    parser = _parse(response.text)
    return f"{response.status_code} at {response.url}: {' '.join(parser.text)[:1000]}"


def _base(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path


def _drive(session, url: str, stop, choose_form, max_steps: int, timeout: float) -> tuple[str, Any]:
    """Follow redirects and submit forms at the provider until `stop(location)` says a redirect
    leaves it; returns ("left", location) or ("page", response) when a page has no form to submit."""
    method, data = "GET", None
    for _ in range(max_steps):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=timeout)
        if response.status_code in (301, 302, 303, 307, 308):
            location = urljoin(response.url, response.headers["Location"])
            if stop(location):
                return "left", location
            if response.status_code in (301, 302, 303):
                method, data = "GET", None
            url = location
            continue
        if response.status_code != 200:
            raise NodeOidcError(f"OIDC provider page failed: {_page_error(response)}")
        form = choose_form(_parse(response.text), response)
        if form is None:
            return "page", response
        url = urljoin(response.url, form[0])
        method, data = "POST", form[1]
    raise NodeOidcError(f"no way out of the OIDC provider after {max_steps} steps (last URL {url})")


def login_with_requests(
    session,
    authorize_url: str,
    subject: str,
    consent: bool = True,
    *,
    password: str = "",
    redirect_uri: str | None = None,
    max_steps: int = 20,
    timeout: float = 10,
) -> str:
    """Sign in at the test provider with a requests.Session and return the URL it sends the browser
    back to (the client's redirect URI with code/state, or error=access_denied when consent=False).
    That URL is NOT requested. The session keeps the provider's cookies: a second sign-in with the
    same session skips the login and consent pages (use a new session, or prompt=login).

    The redirect URI is the authorize URL's redirect_uri parameter unless given; any redirect away
    from the provider's origin also ends the walk. Errors the provider shows as a page (an unknown
    client or redirect_uri, say) raise NodeOidcError with the page text.
    """
    if redirect_uri is None:
        redirect_uri = (parse_qs(urlsplit(authorize_url).query).get("redirect_uri") or [None])[0]
    provider_origin = urlsplit(authorize_url)[:2]

    def stop(location: str) -> bool:
        if redirect_uri and _base(location) == _base(redirect_uri):
            return True
        return urlsplit(location)[:2] != provider_origin

    def choose(parser: _FormParser, response):
        forms = {form.id: form for form in parser.forms}
        if "login-form" in forms:
            return forms["login-form"].action, {"login": subject, "password": password}
        if "consent-form" in forms:
            return forms["consent-form"].action, {"decision": "allow" if consent else "deny"}
        if len(parser.forms) == 1 and parser.forms[0].method == "post":  # an auto-submitting form_post page
            return parser.forms[0].action, dict(parser.forms[0].fields)
        raise NodeOidcError(f"unexpected page at the OIDC provider: {_page_error(response)}")

    outcome, result = _drive(session, authorize_url, stop, choose, max_steps, timeout)
    if outcome != "left":
        raise NodeOidcError(f"sign-in ended on a page at the provider: {_page_error(result)}")
    return result


def logout_with_requests(
    session,
    end_session_url: str,
    confirm: bool = True,
    *,
    max_steps: int = 10,
    timeout: float = 10,
) -> str:
    """Complete RP-initiated logout at the provider: request `end_session_url` (the provider's
    end_session_endpoint with id_token_hint / client_id, post_logout_redirect_uri, state), post the
    confirmation form (logout=yes when `confirm`), and return where the provider sends the browser:
    the post_logout_redirect_uri (with state; not requested), or the provider's own "signed out"
    page URL when there is none."""
    provider_origin = urlsplit(end_session_url)[:2]

    def stop(location: str) -> bool:
        return urlsplit(location)[:2] != provider_origin

    def choose(parser: _FormParser, response):
        for form in parser.forms:
            if form.method == "post" and "xsrf" in dict(form.fields):
                data = dict(form.fields)
                if confirm:
                    data["logout"] = "yes"
                else:
                    data.pop("logout", None)
                return form.action, data
        return None

    outcome, result = _drive(session, end_session_url, stop, choose, max_steps, timeout)
    return result if outcome == "left" else result.url

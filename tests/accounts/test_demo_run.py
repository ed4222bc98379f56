"""`harmony demo run`: the app it serves is built for its own address, and the development provider it
starts as a child stops with it, however it stops. The process tests run the real command on free
loopback ports with a migrated SQLite database of their own (no `make`, no demo data)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from harmony import migrate
from harmony.accounts.devidp import PARENT_GONE
from harmony.demo.run import demo_app, demo_overrides
from tests.conftest import TEST_SECRET_KEY

WAIT_SECONDS = 60


def wait_until(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS,
               explain: Callable[[], str] = lambda: "") -> None:
    """Poll `condition` until it holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not so after {seconds} s. {explain()}", pytrace=False)
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on the port, as the next `make demo` would (address reuse on,
    so connections closing down do not count, only a listener does)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def scratch_environment(tmp_path: Path, database_url: str, idp_port: int) -> dict[str, str]:
    """The caller's environment without any HARMONY_* setting (no base URL, no demo flag), plus a scratch
    database, folders and provider port."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HARMONY_")}
    env.update(HARMONY_DATABASE_URL=database_url, HARMONY_SECRET_KEY=TEST_SECRET_KEY, HARMONY_LOG_LEVEL="WARNING",
               HARMONY_SEARCH_INDEX_DIR=str(tmp_path / "index"), HARMONY_ATTACHMENT_DIR=str(tmp_path / "files"),
               HARMONY_VISA_KEY_FILE=str(tmp_path / "visa-keys.json"),
               HARMONY_DEV_IDP_URL=f"http://127.0.0.1:{idp_port}")
    return env


# --- the settings, in this process -----------------------------------------------------------------


def test_the_demo_base_url_follows_host_and_port(monkeypatch, tmp_path):
    for key in [k for k in os.environ if k.startswith("HARMONY_")]:
        monkeypatch.delenv(key)
    for key, value in scratch_environment(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", 9400).items():
        monkeypatch.setenv(key, value)
    app = demo_app("127.0.0.1", 8080)
    assert app.config["DEMO"] is True
    assert app.config["BASE_URL"] == "http://127.0.0.1:8080"
    assert app.extensions["harmony.oidc"].settings.redirect_uri == "http://127.0.0.1:8080/auth/callback"
    assert demo_overrides("0.0.0.0", 8081, {})["BASE_URL"] == "http://127.0.0.1:8081"  # a wildcard: this machine


def test_a_set_base_url_wins(monkeypatch, tmp_path):
    for key, value in scratch_environment(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", 9400).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HARMONY_BASE_URL", "https://demo.example.org")
    app = demo_app("127.0.0.1", 8080)
    assert app.config["BASE_URL"] == "https://demo.example.org"
    assert app.extensions["harmony.oidc"].settings.redirect_uri == "https://demo.example.org/auth/callback"


# --- the real command ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch_database(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo-run') / 'harmony.db'}"
    migrate.upgrade(url)
    return url


@dataclass
class Demo:
    process: subprocess.Popen
    app_port: int
    idp_port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def output(self) -> str:
        return "Its output:\n" + self.log.read_text(errors="replace")[-4000:]

    def answers(self) -> bool:
        assert self.process.poll() is None, f"`harmony demo run` stopped early. {self.output()}"
        try:
            return requests.get(self.base + "/healthz", timeout=2).ok
        except requests.RequestException:
            return False

    def stopped(self, timeout: float = WAIT_SECONDS) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`harmony demo run` did not stop within {timeout} s. {self.output()}", pytrace=False)


@contextmanager
def signals_as_a_terminal_sends_them() -> Iterator[None]:
    """Children inherit ignored signals: under a shell's background job (`pytest &`: SIGINT) or nohup
    (SIGHUP) the command would rightly ignore them, and the tests below would fail for that. A handler
    of ours is no handler in an exec'd child, so the command starts with the defaults meanwhile."""
    previous = {number: signal.signal(number, lambda *_: None) for number in (signal.SIGINT, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def start_demo(tmp_path: Path, database_url: str, app_port: int | None = None) -> Demo:
    app_port, idp_port = app_port or free_port(), free_port()
    log = tmp_path / "demo-run.log"
    with log.open("wb") as out, signals_as_a_terminal_sends_them():
        # a session of its own: the signals below reach the command alone, as make's do, not its child
        process = subprocess.Popen([sys.executable, "-m", "harmony", "demo", "run", "--port", str(app_port)],
                                   env=scratch_environment(tmp_path, database_url, idp_port), cwd=tmp_path,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Demo(process, app_port, idp_port, log)


@pytest.fixture
def demo(tmp_path, scratch_database) -> Iterator[Demo]:
    running = start_demo(tmp_path, scratch_database)
    try:
        wait_until(running.answers, "the demo answers", explain=running.output)
        yield running
    finally:
        _kill_leftovers(running.process)


def _kill_leftovers(process: subprocess.Popen) -> None:
    """Whatever a failed test left of the command and its child (their own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def assert_both_ports_free(demo: Demo) -> None:
    """Right when the command has exited: it stops and waits for its child, so the next `make demo` can start
    at once. The child's own stop when the command has gone (its standard input closing) must not be what
    freed the port: it says so in the log before its port closes."""
    for name, port in (("the app", demo.app_port), ("the development provider", demo.idp_port)):
        assert port_is_free(port), f"{name}'s port {port} is still in use. {demo.output()}"
    assert PARENT_GONE not in demo.log.read_text(), f"the command left its child running. {demo.output()}"


def test_signing_in_comes_back_to_the_demo_port_and_sigterm_stops_both_servers(demo):
    browser = requests.Session()
    start = browser.get(demo.base + "/auth/login", params={"go": 1}, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text[:500]
    authorize = start.headers["Location"]
    assert authorize.startswith(f"http://127.0.0.1:{demo.idp_port}/")
    assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [demo.base + "/auth/callback"]
    chosen = requests.post(authorize, data={"sub": "alice"}, allow_redirects=False, timeout=10)
    back = chosen.headers["Location"]
    assert back.startswith(demo.base + "/auth/callback?")
    home = browser.get(back, timeout=10)
    assert home.url == demo.base + "/" and "Alice Martin" in home.text

    demo.process.send_signal(signal.SIGTERM)
    assert demo.stopped() == 128 + signal.SIGTERM
    assert_both_ports_free(demo)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGHUP], ids=["ctrl-c", "hang-up"])
def test_ctrl_c_and_hang_up_stop_the_provider_too(demo, stop):
    demo.process.send_signal(stop)
    demo.stopped()
    assert_both_ports_free(demo)


def test_when_the_command_is_killed_the_provider_stops_by_itself(demo):
    """SIGKILL leaves the command no cleanup: the child sees its standard input close, and stops."""
    demo.process.send_signal(signal.SIGKILL)
    demo.stopped()
    wait_until(lambda: port_is_free(demo.idp_port), "the development provider's port is free", explain=demo.output)
    assert PARENT_GONE in demo.log.read_text()


def test_an_app_port_in_use_stops_the_provider_too(tmp_path, scratch_database):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        running = start_demo(tmp_path, scratch_database, app_port=taken.getsockname()[1])
        try:
            assert running.stopped() != 0
            assert "Development OpenID provider at" in running.log.read_text()  # it had started
            assert port_is_free(running.idp_port), running.output()
            assert PARENT_GONE not in running.log.read_text(), running.output()
        finally:
            _kill_leftovers(running.process)

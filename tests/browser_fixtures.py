"""Headless Chromium (Debian's system browser) driven by Playwright, against a live Harmony.

Loaded once as a plugin by tests/conftest.py, so that every test folder shares one browser.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest
import werkzeug.serving

from harmony import db
from tests.conftest import empty_tables, make_app

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def _chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    executable = _chromium_path()
    if executable is None:
        message = "Chromium not found; install Debian's chromium package"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def live_site(database_url, dev_provider, tmp_path):
    """Harmony served over HTTP on a free loopback port, in a thread of this process, and the app behind it:
    `(base_url, app)`, to arrange data and check results through its services. Ours, not pytest-flask's
    `live_server`: tests/conftest.py says why."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    app = make_app(database_url, BASE_URL=base_url, SEARCH_INDEX_DIR=str(tmp_path / "index"),
                   ATTACHMENT_DIR=str(tmp_path / "attachments"))
    with app.app_context():
        empty_tables()
    server = werkzeug.serving.make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield base_url, app
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine().dispose()


@pytest.fixture
def live_server(live_site) -> str:
    """`live_site`'s base URL, for tests that need no more (the same server when a test asks for both)."""
    return live_site[0]

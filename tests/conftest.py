"""Real services for the tests: SQLite and a throwaway PostgreSQL, each migrated once per session.

Every test that takes `app` runs once per database. Tests commit for real; the tables are
emptied before each test. pytest-flask builds on the `app` fixture: its `client` is the app's test
client, and it keeps a request context pushed around each test that takes `app`, so `url_for` works
in tests (harmony.db gives each request and command its own session all the same).

pytest-flask's fixtures serve where they fit: `client` and `config` are its own, and `app` is ours as it
expects. Ours that remain, and what they do that pytest-flask's cannot:
- `live_server` and `live_site` (tests/browser_fixtures.py), instead of its `live_server`: the app's
  BASE_URL, and with it the sign-in redirect URI the provider sends the browser back to, must name the
  server's port when the app is built, while pytest-flask's picks its port after `app` exists and only
  rewrites SERVER_NAME. Ours serves from a thread of the test process, where pytest-flask's forks a
  process that already runs threads (Playwright, the development provider; and a closure cannot start
  under Python 3.14's default start method on Linux), so `live_site` can hand the test the very app it
  serves, to arrange data and check results through its services. Like `app`, it runs per database.
- `api` (tests/access_requests/conftest.py): a second test client that never holds a session nor keeps
  a request context, beside `client` and the people's own clients (pytest-flask has one per test).

Set TEST_DATABASE_URL to use an existing PostgreSQL database instead of starting a server, and
REQUIRE_POSTGRES=1 to fail (not skip) when none can be had.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from harmony import db, migrate
from harmony.app import create_app
from harmony.models import metadata
from tests.identity import CLIENT_ID, CLIENT_SECRET, RunningProvider, start_dev_provider
from tests.postgres import PostgresServer, find_bindir

pytest_plugins = ["tests.browser_fixtures"]

TEST_SECRET_KEY = "test-secret-key-not-for-production"
BACKENDS = ("sqlite", "postgresql")
_backend_counts: Counter[str] = Counter()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL server programs (initdb, pg_ctl) not found; install Debian's postgresql package"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = PostgresServer.start(bindir)
    yield server
    server.stop()


def fresh_database_url(backend: str, tmp_path_factory: pytest.TempPathFactory, name: str, request) -> str:
    """An empty database of the given backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(name) / 'harmony.db'}"
    if os.environ.get("TEST_DATABASE_URL"):
        if name != "main":
            pytest.skip("a second database cannot be created under TEST_DATABASE_URL")
        return os.environ["TEST_DATABASE_URL"]
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"harmony_{name}")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    """A database migrated to the newest schema, shared by the session's tests of that backend."""
    url = fresh_database_url(request.param, tmp_path_factory, "main", request)
    from harmony.config import normalise_database_url

    url = normalise_database_url(url)
    migrate.upgrade(url)
    return url


_provider: RunningProvider | None = None


@pytest.fixture(scope="session")
def dev_provider() -> Iterator[RunningProvider]:
    """The development OpenID provider, over HTTP on loopback, for the whole session."""
    global _provider
    _provider = start_dev_provider()
    yield _provider
    _provider.stop()
    _provider = None


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "BASE_URL": "http://harmony.test",
        "LOG_LEVEL": "WARNING",
    }
    if _provider is not None:
        config.update(OIDC_METADATA_URL=_provider.metadata_url, OIDC_CLIENT_ID=CLIENT_ID,
                      OIDC_CLIENT_SECRET=CLIENT_SECRET)
    config.update(overrides)
    return create_app(config)


def empty_tables() -> None:
    engine = db.engine()
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app(database_url, dev_provider, tmp_path):
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    _backend_counts[backend] += 1
    application = make_app(database_url, SEARCH_INDEX_DIR=str(tmp_path / "index"),
                           ATTACHMENT_DIR=str(tmp_path / "attachments"))
    with application.app_context():
        empty_tables()
    yield application
    with application.app_context():
        db.engine().dispose()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _backend_counts:
        parts = ", ".join(f"{name}: {count}" for name, count in sorted(_backend_counts.items()))
        terminalreporter.write_line(f"database tests run per backend: {parts}")


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_only run on PostgreSQL alone: their SQLite copies are deselected, not skipped."""
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        (deselected if on_sqlite and item.get_closest_marker("postgres_only") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected

"""Configuration: defaults, then HARMONY_* environment variables, then explicit overrides.

Validation happens once at start-up so that a bad setting stops the process with one line
that names the variable, instead of surfacing later as a confusing error.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "TESTING": False,
    "DEMO": False,
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # default: SQLite file under the instance folder
    "SEARCH_INDEX_DIR": None,  # default: instance/search-index
    "SEARCH_INDEX_PROCS": 1,  # processes `harmony search reindex` uses
    "SEARCH_GAP_TIMEOUT": 600,  # seconds the index waits for a change-log number still being committed
    "BASE_URL": "http://127.0.0.1:5000",
    "OIDC_METADATA_URL": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_TOKEN_AUTH_METHOD": "client_secret_basic",
    "OIDC_ROLE_CLAIM": None,  # e.g. "harmony_roles": platform roles taken from this ID token claim
    "OIDC_ROLE_MAP": None,  # JSON: claim value -> role, e.g. {"harmony-admins": "admin"}
    "DEV_IDP_URL": "http://127.0.0.1:9400",  # the development provider `harmony dev-idp` serves
    "SMTP_URL": None,
    "MAIL_FROM": "harmony@localhost",
    "VISA_KEY_FILE": None,  # JSON file of the visa signing keys; debug/demo: instance/visa_keys.json
    "VISA_LIFETIME_SECONDS": 86400,  # a GA4GH visa expires this long after it is issued, or at its grant's end
    "ATTACHMENT_DIR": None,  # default: instance/attachments (outside the web root)
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "SCREENING_DAYS": 5,  # a submitted proposal waiting longer for screening is overdue (/dashboard)
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "PROXY_COUNT": 0,  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    "LOG_LEVEL": "INFO",
    "SQLITE_BUSY_TIMEOUT_MS": 15000,
    "OAI_PAGE_SIZE": 100,
    "CATALOG_CACHE_BYTES": 32 * 1024 * 1024,  # per process: home figures, RDF pages, anonymous landing/search HTML (0: off)
    "OAI_TOKEN_LIFETIME_SECONDS": 86400,
    "OAI_REPOSITORY_NAME": "Harmony catalog of haematology trial datasets",
    "OAI_ADMIN_EMAIL": None,  # default: HARMONY_MAIL_FROM when it is a full address
}

SUPPORTED_DATABASES = ("sqlite", "postgresql")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the environment and overrides, then validate and derive settings."""
    config: dict[str, Any] = dict(DEFAULTS)
    config.update(_from_environment())
    if overrides:
        config.update(overrides)
    return _validate(config, instance_path)


def _from_environment() -> dict[str, Any]:
    """Read HARMONY_* variables as strings (no JSON guessing: a secret of digits stays a string)."""
    found = {}
    for name, value in os.environ.items():
        if name.startswith("HARMONY_"):
            found[name.removeprefix("HARMONY_")] = value
    return found


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"HARMONY_{key} must be true or false, not {value!r}")


def _as_int(key: str, value: Any, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"HARMONY_{key} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"HARMONY_{key} must be at least {minimum}, not {number}")
    return number


def normalise_database_url(url: str) -> str:
    """Check a database URL and pin the PostgreSQL driver to psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            "HARMONY_DATABASE_URL is malformed: expected e.g. sqlite:///path/harmony.db "
            "or postgresql://user:password@host/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        raise ConfigError(
            f"HARMONY_DATABASE_URL uses {backend!r}; Harmony supports sqlite and postgresql"
        )
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", "psycopg2") or "+" not in parsed.drivername:
            parsed = parsed.set(drivername="postgresql+psycopg")
        if not parsed.database:
            raise ConfigError("HARMONY_DATABASE_URL names no database (…/dbname at the end)")
    elif parsed.database in (None, ""):
        raise ConfigError("HARMONY_DATABASE_URL for SQLite needs a file path (in-memory is not supported)")
    return parsed.render_as_string(hide_password=False)


def _validate(config: dict[str, Any], instance_path: str) -> dict[str, Any]:
    for key in ("DEBUG", "TESTING", "DEMO"):
        config[key] = _as_bool(key, config[key])
    for key in ("MAX_CONTENT_LENGTH", "PROXY_COUNT", "SQLITE_BUSY_TIMEOUT_MS", "OAI_TOKEN_LIFETIME_SECONDS",
                "ATTACHMENT_MAX_BYTES", "CATALOG_CACHE_BYTES"):
        config[key] = _as_int(key, config[key])
    config["OAI_PAGE_SIZE"] = _as_int("OAI_PAGE_SIZE", config["OAI_PAGE_SIZE"], minimum=1)
    config["SEARCH_INDEX_PROCS"] = _as_int("SEARCH_INDEX_PROCS", config["SEARCH_INDEX_PROCS"], minimum=1)
    config["SEARCH_GAP_TIMEOUT"] = _as_int("SEARCH_GAP_TIMEOUT", config["SEARCH_GAP_TIMEOUT"], minimum=1)
    config["SCREENING_DAYS"] = _as_int("SCREENING_DAYS", config["SCREENING_DAYS"], minimum=1)
    config["VISA_LIFETIME_SECONDS"] = _as_int("VISA_LIFETIME_SECONDS", config["VISA_LIFETIME_SECONDS"], minimum=1)

    instance = Path(instance_path)
    if not config["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{instance / 'harmony.db'}"
    config["DATABASE_URL"] = normalise_database_url(str(config["DATABASE_URL"]))
    if not config["SEARCH_INDEX_DIR"]:
        config["SEARCH_INDEX_DIR"] = str(instance / "search-index")
    if not config["ATTACHMENT_DIR"]:
        config["ATTACHMENT_DIR"] = str(instance / "attachments")

    base_url = str(config["BASE_URL"]).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("HARMONY_BASE_URL must start with http:// or https://")
    config["BASE_URL"] = base_url

    if not config["SECRET_KEY"]:
        if config["DEBUG"] or config["DEMO"] or config["TESTING"]:
            config["SECRET_KEY"] = _local_secret_key(instance)
        else:
            raise ConfigError(
                "HARMONY_SECRET_KEY is required outside debug and demo mode "
                "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
    elif len(str(config["SECRET_KEY"])) < 16 and not config["TESTING"]:
        raise ConfigError("HARMONY_SECRET_KEY is too short: use at least 16 random characters")

    _validate_oidc(config)
    _validate_oai(config)
    _validate_smtp(config)

    level = str(config["LOG_LEVEL"]).upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"HARMONY_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    config["LOG_LEVEL"] = level

    secure = base_url.startswith("https://")
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="harmony_session",
        PREFERRED_URL_SCHEME="https" if secure else "http",
        WTF_CSRF_TIME_LIMIT=None,  # tokens live as long as the session
    )
    return config


DEMO_CLIENT_ID = "harmony-demo"
DEMO_CLIENT_SECRET = "harmony-demo-secret"


def _validate_oidc(config: dict[str, Any]) -> None:
    if config["DEMO"] and not config["OIDC_METADATA_URL"]:
        # the demo signs in at the development provider that `make demo` starts
        config["OIDC_METADATA_URL"] = config["DEV_IDP_URL"].rstrip("/") + "/.well-known/openid-configuration"
        config["OIDC_CLIENT_ID"] = config["OIDC_CLIENT_ID"] or DEMO_CLIENT_ID
        config["OIDC_CLIENT_SECRET"] = config["OIDC_CLIENT_SECRET"] or DEMO_CLIENT_SECRET
    if config["OIDC_METADATA_URL"]:
        if not str(config["OIDC_METADATA_URL"]).startswith(("http://", "https://")):
            raise ConfigError("HARMONY_OIDC_METADATA_URL must be an http(s) URL of the provider's discovery document")
        for key in ("OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
            if not config[key]:
                raise ConfigError(f"HARMONY_{key} is required when HARMONY_OIDC_METADATA_URL is set")
    if config["OIDC_TOKEN_AUTH_METHOD"] not in ("client_secret_basic", "client_secret_post"):
        raise ConfigError("HARMONY_OIDC_TOKEN_AUTH_METHOD must be client_secret_basic or client_secret_post")
    role_map = config["OIDC_ROLE_MAP"]
    if isinstance(role_map, str):
        try:
            role_map = json.loads(role_map)
        except ValueError:
            raise ConfigError("HARMONY_OIDC_ROLE_MAP must be a JSON object, e.g. {\"harmony-admins\": \"admin\"}") from None
    if role_map is not None:
        if not isinstance(role_map, dict) or not all(v in ("admin", "coordinator") for v in role_map.values()):
            raise ConfigError("HARMONY_OIDC_ROLE_MAP must map claim values to admin or coordinator")
    config["OIDC_ROLE_MAP"] = role_map or {}


ADDRESS = re.compile(r"^\S+@(\S+\.)+\S+$")  # what OAI-PMH's schema accepts as adminEmail


def _validate_oai(config: dict[str, Any]) -> None:
    email = config["OAI_ADMIN_EMAIL"]
    if email and not ADDRESS.match(str(email)):
        raise ConfigError("HARMONY_OAI_ADMIN_EMAIL must be a full e-mail address such as data-office@example.org")
    if not email:
        host = urlsplit(config["BASE_URL"]).hostname or "localhost"
        mail_from = str(config["MAIL_FROM"])
        email = mail_from if ADDRESS.match(mail_from) else f"harmony@{host if '.' in host else host + '.invalid'}"
    config["OAI_ADMIN_EMAIL"] = email


def _validate_smtp(config: dict[str, Any]) -> None:
    from harmony.notifications.mailer import parse_smtp_url  # stdlib only: no import cycle

    if config["SMTP_URL"]:
        try:
            parse_smtp_url(str(config["SMTP_URL"]))
        except ValueError as error:
            raise ConfigError(f"HARMONY_SMTP_URL is malformed: {error}") from None
    else:
        config["SMTP_URL"] = None  # an empty variable means: no SMTP, mails go to the log


def _local_secret_key(instance: Path) -> str:
    """A key kept in the instance folder, for debug and demo runs only, so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key

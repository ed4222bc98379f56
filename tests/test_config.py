import os
import subprocess
import sys

import pytest

from harmony.app import create_app
from harmony.config import ConfigError, load_config


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARMONY_")}
    env.update(extra)
    return env


def test_secret_key_required_outside_debug_and_demo(tmp_path, monkeypatch):
    monkeypatch.delenv("HARMONY_SECRET_KEY", raising=False)
    monkeypatch.delenv("HARMONY_DEMO", raising=False)
    with pytest.raises(ConfigError, match="HARMONY_SECRET_KEY"):
        load_config(str(tmp_path), {"DATABASE_URL": f"sqlite:///{tmp_path}/h.db"})


def test_demo_mode_keeps_a_local_secret_key(tmp_path):
    first = load_config(str(tmp_path), {"DEMO": True})
    second = load_config(str(tmp_path), {"DEMO": True})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("url", ["not a url", "mysql://u@h/db", "sqlite://", "postgresql://host"])
def test_malformed_database_url_names_the_variable(tmp_path, url):
    with pytest.raises(ConfigError, match="HARMONY_DATABASE_URL"):
        load_config(str(tmp_path), {"SECRET_KEY": "x" * 32, "DATABASE_URL": url})


def test_environment_is_read_and_overrides_win(tmp_path, monkeypatch):
    monkeypatch.setenv("HARMONY_SECRET_KEY", "1234567890123456789")
    monkeypatch.setenv("HARMONY_BASE_URL", "https://data.example.org/")
    monkeypatch.setenv("HARMONY_DATABASE_URL", "postgresql://u:p@db.example.org/harmony")
    config = load_config(str(tmp_path), {"MAX_CONTENT_LENGTH": "1000"})
    assert config["SECRET_KEY"] == "1234567890123456789"  # digits stay a string
    assert config["BASE_URL"] == "https://data.example.org"
    assert config["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["MAX_CONTENT_LENGTH"] == 1000


def test_default_database_is_sqlite_under_instance(tmp_path):
    config = load_config(str(tmp_path), {"SECRET_KEY": "x" * 32})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/harmony.db"


def test_bad_number_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="HARMONY_MAX_CONTENT_LENGTH"):
        load_config(str(tmp_path), {"SECRET_KEY": "x" * 32, "MAX_CONTENT_LENGTH": "lots"})


@pytest.mark.parametrize(("key", "value"), [("SCREENING_DAYS", "0"), ("SCREENING_DAYS", "a week"),
                                            ("ATTACHMENT_MAX_BYTES", "-1")])
def test_access_request_numbers_are_checked(tmp_path, key, value):
    with pytest.raises(ConfigError, match=f"HARMONY_{key}"):
        load_config(str(tmp_path), {"SECRET_KEY": "x" * 32, key: value})


def test_command_line_stops_with_one_clear_line(tmp_path):
    env = clean_env(HARMONY_DATABASE_URL=f"sqlite:///{tmp_path}/h.db")
    result = subprocess.run(
        [sys.executable, "-m", "harmony", "db", "current"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "HARMONY_SECRET_KEY" in lines[0]


def test_create_app_refuses_bad_config(tmp_path):
    with pytest.raises(ConfigError, match="HARMONY_DATABASE_URL"):
        create_app({"SECRET_KEY": "x" * 32, "DATABASE_URL": "oracle://x/y"})


@pytest.mark.parametrize("url", ["http://mail.example.org", "smtp://mail.example.org:99999", "smtp://user@host",
                                 "smtps://u:hunter2@host?starttls=1"])
def test_malformed_smtp_url_names_the_variable(tmp_path, url):
    with pytest.raises(ConfigError, match="HARMONY_SMTP_URL") as caught:
        load_config(str(tmp_path), {"SECRET_KEY": "x" * 32, "SMTP_URL": url})
    assert "hunter2" not in str(caught.value)  # the password never ends up in a log line


def test_smtp_url_is_optional_and_checked(tmp_path):
    assert load_config(str(tmp_path), {"SECRET_KEY": "x" * 32, "SMTP_URL": ""})["SMTP_URL"] is None
    url = "smtps://harmony:secret@mail.example.org:465"
    assert load_config(str(tmp_path), {"SECRET_KEY": "x" * 32, "SMTP_URL": url})["SMTP_URL"] == url

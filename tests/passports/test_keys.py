"""The signing keys: the JWKS shows public members only; `harmony keys rotate` adds a key that signs from then
on while the old one stays published until its visas have expired; the key file is private and written whole;
no setting outside debug and demo answers 503, debug and demo make a key on first use."""

from __future__ import annotations

import json
import re
import stat
import threading
from datetime import timedelta

import pytest
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError

from harmony import clock
from harmony.config import ConfigError, load_config
from harmony.passports import keys
from tests.conftest import make_app
from tests.passports.conftest import active, jwks, key_file, passport, verify, visas

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
DAY = timedelta(days=1)


def _kids(client) -> list[str]:
    return [key["kid"] for key in jwks(client)["keys"]]


def test_the_jwks_holds_public_members_only_and_the_key_file_is_private(client, app):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    served = response.get_json()
    assert len(served["keys"]) == 1
    for key in served["keys"]:
        assert not PRIVATE_MEMBERS & set(key), key
        assert set(key) <= {"kty", "kid", "alg", "use", "n", "e"} and key["kty"] == "RSA" and key["alg"] == "RS256"
    assert not re.search(r'"(d|p|q|dp|dq|qi)"\s*:', response.get_data(as_text=True))
    path = key_file(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())["keys"]
    assert {"d", "p", "q", "kid", "created_at"} <= set(stored[0]) and "retired_at" not in stored[0]
    assert [entry["kid"] for entry in stored] == [key["kid"] for key in served["keys"]]


def test_after_rotation_both_keys_verify_until_the_old_visas_expire_then_the_old_key_is_gone(client, world):
    active(client, world, pids=world.datasets[2:3])
    start = (clock.now() + timedelta(seconds=1)).replace(microsecond=0)  # after the grant's start
    runner = world.app.test_cli_runner()
    with clock.frozen(start):
        [old] = visas(client, world)
        [old_kid] = _kids(client)
        rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = re.search(r"New signing key (\S+) in ", rotated.output).group(1)
    assert new_kid != old_kid
    assert f"Retired {old_kid}: published until" in rotated.output
    assert re.search(rf"^  {re.escape(old_kid)}  retired .*, published until ", rotated.output, re.M)
    assert re.search(rf"^  {re.escape(new_kid)}  signing", rotated.output, re.M)

    with clock.frozen(start + timedelta(hours=1)):
        [new] = visas(client, world)
        served = jwks(client)
        assert {key["kid"] for key in served["keys"]} == {old_kid, new_kid}
        assert verify(old, served).header["kid"] == old_kid
        assert verify(new, served).header["kid"] == new_kid

    just_before = start + DAY - timedelta(minutes=1)
    with clock.frozen(just_before):
        served = jwks(client)
        verify(old, served, at=just_before)
        verify(new, served, at=just_before)

    after = start + DAY + timedelta(minutes=1)
    with pytest.raises(ExpiredTokenError):  # the old visa is past its exp now, whatever the keys
        verify(old, served, at=after)
    with clock.frozen(after):
        served = jwks(client)
        assert _kids(client) == [new_kid]
        verify(new, served, at=after)
        with pytest.raises(InvalidKeyIdError):
            verify(old, served, at=after)
        listed = runner.invoke(args=["keys", "list"])
    assert old_kid not in key_file(world.app).read_text()  # dropped from the file when the JWKS was served
    assert old_kid not in listed.output and new_kid in listed.output


def test_a_rotation_drops_retired_keys_whose_visas_have_expired(app):
    runner = app.test_cli_runner()
    start = clock.now().replace(microsecond=0)
    with clock.frozen(start):
        first = runner.invoke(args=["keys", "rotate"])
    with clock.frozen(start + DAY + timedelta(seconds=1)):
        second = runner.invoke(args=["keys", "rotate"])
    original = re.search(r"Retired (\S+):", first.output).group(1)
    middle = re.search(r"New signing key (\S+) ", first.output).group(1)
    assert f"Dropped {original}: every visa it signed has expired." in second.output
    assert f"Retired {middle}: published until" in second.output
    with app.app_context():
        _path, listed = keys.listing()
    assert [key.kid for key in listed][1:] == [middle] and len(listed) == 2


def test_rotations_at_once_lose_no_key(app):
    with app.app_context():
        before = len(keys.listing()[1])

    def rotate():
        with app.app_context():
            keys.rotate(clock.now())

    threads = [threading.Thread(target=rotate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        listed = keys.listing()[1]
    assert len(listed) == before + 4
    assert sum(key.retired_at is None for key in listed) == 1


def test_keys_list_says_what_each_key_does(app):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["keys", "list"])
    assert listed.exit_code == 0 and "1 key, visas live 24 h" in listed.output and "signing, made" in listed.output
    app.config["VISA_KEY_FILE"] = str(key_file(app).with_name("none-yet.json"))
    assert "No key file at" in runner.invoke(args=["keys", "list"]).output


def test_outside_debug_and_demo_no_setting_answers_503_and_rotate_makes_the_first_key(client, world, tmp_path):
    world.app.config["VISA_KEY_FILE"] = None
    for path, headers in (("/.well-known/jwks.json", {}), ("/api/v1/permissions/alice", world.headers("alice"))):
        response = client.get(path, headers=headers)
        assert response.status_code == 503 and response.mimetype == "application/problem+json", path
        assert "HARMONY_VISA_KEY_FILE is not set" in response.get_json()["detail"]
    refused = world.app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert refused.exit_code == 1 and "HARMONY_VISA_KEY_FILE is not set" in refused.output

    world.app.config["VISA_KEY_FILE"] = str(tmp_path / "production-keys.json")
    missing = client.get("/.well-known/jwks.json")
    assert missing.status_code == 503 and "harmony keys rotate" in missing.get_json()["detail"]
    assert str(tmp_path) not in missing.get_data(as_text=True)  # the server's paths stay private
    assert not (tmp_path / "production-keys.json").exists()  # never made behind the operator's back
    made = world.app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert made.exit_code == 0 and "New signing key" in made.output
    assert stat.S_IMODE((tmp_path / "production-keys.json").stat().st_mode) == 0o600
    assert len(jwks(client)["keys"]) == 1 and passport(client, world).status_code == 200


def test_a_broken_key_file_answers_503_and_the_command_says_why(client, app):
    key_file(app).write_text('{"keys": [{"kid": "x"}]}')
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 503 and "not name a readable visa key file" in response.get_json()["detail"]
    listed = app.test_cli_runner().invoke(args=["keys", "list"])
    assert listed.exit_code == 1 and "created_at" in listed.output


def test_debug_mode_makes_a_key_on_first_use_in_the_instance_folder(database_url, tmp_path):
    debug_app = make_app(database_url, DEBUG=True, SEARCH_INDEX_DIR=str(tmp_path / "index"))
    debug_app.instance_path = str(tmp_path / "instance")  # not the checkout's instance folder
    client = debug_app.test_client()
    first = client.get("/.well-known/jwks.json")
    assert first.status_code == 200 and len(first.get_json()["keys"]) == 1
    made = tmp_path / "instance" / keys.DEMO_FILE_NAME
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert client.get("/.well-known/jwks.json").get_json() == first.get_json()  # made once, then kept


def test_the_lifetime_setting_is_a_positive_whole_number(tmp_path):
    base = {"TESTING": True, "SECRET_KEY": "x" * 20, "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"}
    assert load_config(str(tmp_path), base)["VISA_LIFETIME_SECONDS"] == 86400
    assert load_config(str(tmp_path), {**base, "VISA_LIFETIME_SECONDS": "3600"})["VISA_LIFETIME_SECONDS"] == 3600
    for wrong in ("0", "-5", "a day"):
        with pytest.raises(ConfigError, match="HARMONY_VISA_LIFETIME_SECONDS"):
            load_config(str(tmp_path), {**base, "VISA_LIFETIME_SECONDS": wrong})


def test_the_openapi_document_describes_both_paths(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"/.well-known/jwks.json", "/api/v1/permissions/{subject}"} <= set(document["paths"])
    passport_op = document["paths"]["/api/v1/permissions/{subject}"]["get"]
    assert {"200", "401", "404", "409", "503"} <= set(passport_op["responses"])
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)

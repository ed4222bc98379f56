"""Registering and revoking data platforms: `harmony platforms …` and the admins' page /admin/platforms
(errors next to the fields, the token shown once, a confirmation before revoking, admins only)."""

from __future__ import annotations

import re
from datetime import timedelta

from harmony import clock
from harmony.accounts.services import COMMAND_LINE
from harmony.platforms import tokens
from tests.factories import csrf_token
from tests.platforms.conftest import active_proposal


def text_of(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data})


def entitlements_with(client, token: str):
    return client.get("/api/v1/entitlements", headers={"Authorization": f"Bearer {token}"})


# --- the command line -------------------------------------------------------------------------


def test_add_list_revoke_and_deliver_on_the_command_line(app, client, receiver):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["platforms", "add", "Leiden SRE", "--webhook", receiver.url])
    assert added.exit_code == 0, added.output
    lines = added.output.strip().splitlines()
    token = lines[-1]
    assert token.startswith("hms_") and " " not in token  # alone on the last line
    secret = re.search(r"Webhook secret[^:]*: ([0-9a-f]{64})$", added.output, re.M).group(1)
    with app.app_context():
        [platform] = tokens.platforms()
        assert platform.webhook_secret == secret and platform.token_hash != token and token not in str(vars(platform))
    assert entitlements_with(client, token).status_code == 200

    plain = runner.invoke(args=["platforms", "add", "Reads only"])
    assert plain.exit_code == 0 and "Webhook secret" not in plain.output  # no webhook, no secret
    assert runner.invoke(args=["platforms", "add", "Leiden SRE"]).exit_code != 0  # the name is taken
    bad = runner.invoke(args=["platforms", "add", "Elsewhere", "--webhook", "not a url"])
    assert bad.exit_code != 0 and "webhook_url" in bad.output

    listed = runner.invoke(args=["platforms", "list"]).output
    assert f"Leiden SRE: token {token[:10]}…, webhook {receiver.url}" in listed and "active" in listed
    assert "Reads only: token" in listed and "webhook none" in listed and token not in listed

    assert runner.invoke(args=["platforms", "deliver"]).output.strip() == "sent 0, retrying 0, failed 0"
    revoked = runner.invoke(args=["platforms", "revoke", "Leiden SRE"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert entitlements_with(client, token).status_code == 401
    assert "revoked" in runner.invoke(args=["platforms", "list"]).output
    assert runner.invoke(args=["platforms", "revoke", "Nobody"]).exit_code != 0


def test_the_deliver_command_sends_what_is_due(app, client, world, platform, receiver):
    receiver.script = [500]
    start = clock.now()
    with clock.frozen(start):
        active_proposal(client, world, "alice", world.datasets[2:])
    assert len(receiver.received) == 1
    with clock.frozen(start + timedelta(minutes=5)):
        output = app.test_cli_runner().invoke(args=["platforms", "deliver"]).output
    assert output.strip() == "sent 1, retrying 0, failed 0"
    assert len(receiver.accepted()) == 1 and receiver.received[-1].signature_ok


# --- the admins' page -------------------------------------------------------------------------


def test_register_a_platform_with_errors_kept_then_see_its_token_once(app, people, page_world):
    adam = people("adam")
    page = text_of(adam.get("/admin/platforms"))
    assert 'href="/admin/platforms"' in page  # in the navigation
    assert "No data platform is registered yet" in page

    refused = post(adam, "/admin/platforms", name="X", webhook_url="not a url")
    assert refused.status_code == 422
    page = text_of(refused)
    assert 'id="platform-name-error"' in page and 'id="webhook_url-error"' in page
    assert 'value="X"' in page and 'value="not a url"' in page
    assert "error-summary" in page

    created = post(adam, "/admin/platforms", name="Leiden SRE", webhook_url="https://sre.example.org/hooks")
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    page = text_of(created)
    token = re.search(r'id="service-token" readonly value="(hms_[^"]+)"', page).group(1)
    with app.app_context():
        [platform] = tokens.platforms()
    assert f'value="{platform.webhook_secret}"' in page
    assert entitlements_with(app.test_client(), token).status_code == 200

    again = text_of(adam.get("/admin/platforms"))
    assert "Leiden SRE" in again and token[:10] in again and token not in again  # shown once: only the prefix
    assert platform.webhook_secret not in again
    clash = post(adam, "/admin/platforms", name="Leiden SRE")
    assert clash.status_code == 409 and 'id="platform-name-error"' in text_of(clash)
    assert "exists already" in text_of(clash)


def test_revoking_asks_for_confirmation_first(app, people, page_world):
    adam = people("adam")
    created = text_of(post(adam, "/admin/platforms", name="Leiden SRE"))
    token = re.search(r'id="service-token" readonly value="(hms_[^"]+)"', created).group(1)
    with app.app_context():
        [platform] = tokens.platforms()
    path = f"/admin/platforms/{platform.id}/revoke"
    assert f'href="{path}"' in text_of(adam.get("/admin/platforms"))
    confirm = adam.get(path)
    assert confirm.status_code == 200 and "stops working at once" in text_of(confirm)
    assert entitlements_with(app.test_client(), token).status_code == 200  # looking revokes nothing

    assert adam.post(path, data={}).status_code == 400  # no CSRF token
    done = post(adam, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/platforms")
    assert "is revoked" in text_of(adam.get("/admin/platforms"))
    assert entitlements_with(app.test_client(), token).status_code == 401
    assert adam.get("/admin/platforms/9999/revoke").status_code == 404


def test_the_platform_pages_are_for_admins(app, people, page_world):
    with app.app_context():
        platform, token = tokens.register_platform(COMMAND_LINE, tokens.PlatformInput(name="Leiden SRE"))
    for subject in ("olga", "chris", "alice"):
        client = people(subject)
        assert client.get("/admin/platforms").status_code == 403, subject
        assert 'href="/admin/platforms"' not in text_of(client.get("/"))
        assert post(client, "/admin/platforms", name="Sneaky").status_code == 403, subject
        assert post(client, f"/admin/platforms/{platform.id}/revoke").status_code == 403, subject
    anonymous = app.test_client().get("/admin/platforms")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    with app.app_context():
        assert [(p.name, p.revoked_at) for p in tokens.platforms()] == [("Leiden SRE", None)]
    assert entitlements_with(app.test_client(), token).status_code == 200

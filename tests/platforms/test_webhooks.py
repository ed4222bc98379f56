"""Signed webhooks to a real HTTP receiver on 127.0.0.1: the events of a grant's life, the signature, a
retry after the backoff that arrives once, the claim that keeps two senders from posting one delivery,
network errors, giving up, and platforms that are revoked or have no webhook."""

from __future__ import annotations

import hmac
import socket
from datetime import datetime, timedelta

from sqlalchemy import select

from harmony import clock, db
from harmony.access_requests import actions
from harmony.access_requests.actions import SYSTEM, ActionInput
from harmony.access_requests.models import Grant
from harmony.accounts.services import COMMAND_LINE
from harmony.notifications.outbox import GIVE_UP_AFTER
from harmony.platforms import tokens, webhooks
from harmony.platforms.models import WebhookDelivery
from tests.access_requests.conftest import act, approve
from tests.platforms.conftest import active_proposal, register


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        return list(db.session().scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def entitlement(client, world, grant_id: int) -> dict:
    found = client.get("/api/v1/entitlements", query_string={"per_page": 100}, headers=world.headers("adam"))
    return next(item for item in found.get_json()["items"] if item["id"] == grant_id)


def test_started_revoked_and_ended_follow_a_grants_life(app, client, world, platform, receiver):
    proposal_id = approve(client, world)  # both committees; HOVON DAC has an agreement to accept
    assert receiver.received == []  # a decision alone starts no grant
    assert act(client, world, "alice", proposal_id, "accept-agreement").get_json()["state"] == "active"
    [started] = receiver.received
    assert started.signature_ok and started.status == 200
    body = started.json
    assert started.headers["X-Harmony-Event"] == body["event"] == "grant.started"
    assert started.headers["Content-Type"] == "application/json"
    assert set(body) == {"id", "event", "occurred_at", "grants"}
    assert len(body["grants"]) == 4 and all(g["active"] and g["revoked_at"] is None for g in body["grants"])
    for item in body["grants"]:  # the entitlements API's items, as they were then
        assert item == entitlement(client, world, item["id"])

    revoked = act(client, world, "chris", proposal_id, "revoke", comment="The data were shared outside the project.")
    assert revoked.status_code == 200, revoked.get_json()
    event = receiver.received[-1].json
    assert event["event"] == "grant.revoked" and receiver.received[-1].signature_ok
    hovon = {f"http://harmony.test/datasets/{pid}" for pid in world.datasets[:2]}
    assert {g["dataset"] for g in event["grants"]} == hovon
    assert all(g["revoked_at"] and g["end_reason"] == "revoked" and not g["active"] for g in event["grants"])
    assert event["grants"] == [entitlement(client, world, g["id"]) for g in event["grants"]]

    end = max(datetime.fromisoformat(item["end"]) for item in body["grants"])
    with clock.frozen(end + timedelta(days=1)):
        with app.app_context():
            actions.act_on_proposal(SYSTEM, proposal_id, "expire", ActionInput())
    event = receiver.received[-1].json
    assert event["event"] == "grant.ended" and receiver.received[-1].signature_ok
    assert {g["dataset"] for g in event["grants"]} == {f"http://harmony.test/datasets/{p}" for p in world.datasets[2:]}
    assert all(g["end_reason"] == "expired" and g["ended_at"] == g["end"] for g in event["grants"])

    assert [r.json["event"] for r in receiver.received] == ["grant.started", "grant.revoked", "grant.ended"]
    assert len({r.json["id"] for r in receiver.received}) == 3
    assert [r.headers["X-Harmony-Delivery"] for r in receiver.received] == [str(d.id) for d in deliveries(app)]
    assert all(d.sent_at is not None and d.attempts == 1 and d.last_status == 200 for d in deliveries(app))


def test_a_failed_delivery_is_retried_after_the_backoff_and_arrives_once(app, client, world, platform, receiver):
    receiver.script = [500]
    start = clock.now()
    with clock.frozen(start):
        active_proposal(client, world, "alice", world.datasets[2:])  # EPLN only: active at once
    [first] = receiver.received
    assert first.status == 500 and first.signature_ok
    [row] = deliveries(app)
    assert (row.attempts, row.sent_at, row.failed_at, row.last_status, row.claimed_until) == (1, None, None, 500, None)
    assert row.next_attempt_at == start + timedelta(minutes=1)  # the outbox's backoff after one failure

    with app.app_context():
        with clock.frozen(start + timedelta(seconds=59)):
            assert str(webhooks.deliver_due()) == "sent 0, retrying 0, failed 0"  # not yet due
        assert len(receiver.received) == 1
        with clock.frozen(start + timedelta(seconds=61)):
            assert str(webhooks.deliver_due()) == "sent 1, retrying 0, failed 0"
        with clock.frozen(start + timedelta(hours=2)):
            assert str(webhooks.deliver_due()) == "sent 0, retrying 0, failed 0"  # sent: never again
    assert len(receiver.received) == 2 and len(receiver.accepted()) == 1
    second = receiver.received[1]
    assert second.signature_ok and second.body == first.body  # the same bytes, signed anew
    assert second.headers["X-Harmony-Delivery"] == first.headers["X-Harmony-Delivery"] == str(row.id)
    assert int(second.headers["X-Harmony-Timestamp"]) == int((start + timedelta(seconds=61)).timestamp())
    [row] = deliveries(app)
    assert row.sent_at == start + timedelta(seconds=61) and row.attempts == 2 and row.last_status == 200


def test_a_claimed_delivery_is_not_posted_by_another_sender(app, client, world, platform, receiver):
    receiver.script = [503]
    start = clock.now()
    with clock.frozen(start):
        active_proposal(client, world, "alice", world.datasets[2:])
    [row] = deliveries(app)
    due = start + timedelta(minutes=2)
    with app.app_context():
        with clock.frozen(due):
            assert webhooks.claim(row.id) is not None  # another sender holds it (and may be posting it now)
            assert webhooks.claim(row.id) is None
            assert str(webhooks.deliver_due()) == "sent 0, retrying 0, failed 0"
            assert str(webhooks.deliver_pending([row.id])) == "sent 0, retrying 0, failed 0"
        assert len(receiver.received) == 1
        with clock.frozen(due + timedelta(minutes=6)):  # that sender died: its lease ran out
            assert str(webhooks.deliver_due()) == "sent 1, retrying 0, failed 0"
    assert len(receiver.accepted()) == 1


def test_network_errors_are_retried_until_given_up(app, client, world):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(app, "Offline platform", f"http://127.0.0.1:{port}/hook")
    start = clock.now()
    with clock.frozen(start):
        active_proposal(client, world, "alice", world.datasets[2:])
    [row] = deliveries(app)
    assert row.attempts == 1 and row.sent_at is None and row.failed_at is None and row.last_status is None
    assert "ConnectionError" in row.last_error
    with app.app_context():
        with clock.frozen(start + timedelta(minutes=1)):
            assert str(webhooks.deliver_due()) == "sent 0, retrying 1, failed 0"
        [row] = deliveries(app)
        assert row.attempts == 2 and row.next_attempt_at == start + timedelta(minutes=1) + timedelta(minutes=2)
        with clock.frozen(start + GIVE_UP_AFTER + timedelta(minutes=1)):
            assert str(webhooks.deliver_due()) == "sent 0, retrying 0, failed 1"
            assert str(webhooks.deliver_due()) == "sent 0, retrying 0, failed 0"
    [row] = deliveries(app)
    assert row.failed_at is not None and row.attempts == 3


def test_only_live_platforms_with_a_webhook_are_told(app, client, world, platform, receiver):
    register(app, "Reads only")  # no webhook: reads the API
    gone, _token = register(app, "Gone", receiver.url)
    with app.app_context():
        tokens.revoke_platform(COMMAND_LINE, "Gone")
    receiver.script = [500]
    active_proposal(client, world, "alice", world.datasets[2:])
    assert [d.platform_id for d in deliveries(app)] == [platform[0].id]
    assert len(receiver.received) == 1

    with app.app_context():  # revoked while a retry waits: the retry is dropped, not posted
        tokens.revoke_platform(COMMAND_LINE, "Leiden SRE")
        with clock.frozen(clock.now() + timedelta(hours=1)):
            assert str(webhooks.deliver_due()) == "sent 0, retrying 0, failed 1"
    assert len(receiver.received) == 1 and deliveries(app)[0].failed_at is not None
    assert gone.id not in {d.platform_id for d in deliveries(app)}


def test_a_rolled_back_action_tells_nobody(app, client, world, platform, receiver):
    active_proposal(client, world, "alice", world.datasets[2:])
    assert len(receiver.received) == 1
    with app.app_context():
        try:
            with db.unit_of_work() as uow:  # as an action that ends a grant and then fails
                grant = uow.session.scalars(select(Grant).limit(1)).one()
                webhooks.on_grant_change(uow.session, "ended", [grant])
                assert len(uow.session.scalars(select(WebhookDelivery)).all()) == 2
                raise RuntimeError("the action failed after its listeners ran")
        except RuntimeError:
            pass
    assert len(deliveries(app)) == 1 and len(receiver.received) == 1


def test_the_signature_covers_the_timestamp_and_the_body():
    payload = webhooks.encode({"event": "grant.started", "grants": [], "id": "x"})
    header = webhooks.signature("s3cret", "1700000000", payload)
    assert header == "sha256=" + hmac.new(b"s3cret", b"1700000000." + payload, "sha256").hexdigest()
    assert webhooks.verify("s3cret", "1700000000", payload, header, now=1700000100)
    assert not webhooks.verify("s3cret", "1700000000", payload + b" ", header, now=1700000100)  # tampered body
    assert not webhooks.verify("s3cret", "1700000001", payload, header, now=1700000100)  # another timestamp
    assert not webhooks.verify("other", "1700000000", payload, header, now=1700000100)  # another secret
    assert not webhooks.verify("s3cret", "1700000000", payload, header, now=1700000000 + 301)  # a replay, too late
    assert not webhooks.verify("s3cret", "soon", payload, header)

"""notify() writes notices and mails in the caller's transaction; the outbox delivers each mail once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from harmony import clock, db
from harmony.accounts import services as accounts
from harmony.notifications import outbox
from harmony.notifications.models import Notice, OutboxMail
from harmony.notifications.services import mail_address, notify
from tests import factories

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def send_notice(users, summary="Your request HR-12 was approved.", subject="Request approved", **kwargs):
    with db.unit_of_work() as uow:
        notify(uow, users, "request-approved", subject=subject, summary=summary, link="/requests/12", **kwargs)


def mails():
    return list(db.session().scalars(select(OutboxMail).order_by(OutboxMail.id).execution_options(populate_existing=True)))


def test_mails_arrive_with_recipient_subject_both_parts_and_the_absolute_link(mail_app, smtp):
    with mail_app.app_context():
        alice, bob = factories.user("alice", "Alice Martin"), factories.user("bob", "Bob Jansen")
        send_notice([alice, bob, alice], summary="Your request <HR-12> & its datasets were approved.")
    received = smtp.wait_for(2)
    assert len(received) == 2  # alice listed twice, mailed once
    by_recipient = {message["To"]: message for message in received}
    assert set(by_recipient) == {"alice@example.org", "bob@example.org"}
    assert sorted(rcpts for _from, rcpts in smtp.handler.envelopes) == [["alice@example.org"], ["bob@example.org"]]
    message = by_recipient["alice@example.org"]
    assert message["Subject"] == "Request approved"
    assert message["From"] == "harmony@localhost"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Alice Martin" in text and "http://harmony.test/requests/12" in text
    assert "Your request <HR-12> & its datasets were approved." in text  # plain text is not escaped
    assert 'href="http://harmony.test/requests/12"' in html
    assert "Your request &lt;HR-12&gt; &amp; its datasets were approved." in html and "<HR-12>" not in html
    with mail_app.app_context():
        assert all(mail.sent_at is not None and mail.attempts == 0 for mail in mails())
        assert db.session().scalar(select(Notice.text).where(Notice.user_id == alice.id)) == \
            "Your request <HR-12> & its datasets were approved."


def test_html_mail_escapes_the_name_and_context(mail_app, smtp):
    with mail_app.app_context():
        mallory = accounts.provision_user(factories.ISSUER, "mallory",
                                          {"name": "<img src=x onerror=alert(1)>", "email": "m@example.org"})
        send_notice([mallory])
    [message] = smtp.wait_for(1)
    html = message.get_body(("html",)).get_content()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_user_without_an_email_gets_only_the_notice(mail_app, smtp):
    with mail_app.app_context():
        nomail = accounts.provision_user(factories.ISSUER, "nomail", {"name": "No Mail"})
        send_notice([nomail])
        assert mails() == []
        assert [notice.link for notice in db.session().scalars(select(Notice))] == ["/requests/12"]
    assert smtp.messages == []


def test_an_address_without_an_account_gets_a_mail_and_no_notice(mail_app, smtp):
    with mail_app.app_context():
        with db.unit_of_work() as uow:
            mail_address(uow, "guest@example.org", "co-applicant-invited", subject="Join a proposal",
                         summary="Alice invites you.", link="/requests/invitations/abc")
        assert list(db.session().scalars(select(Notice))) == []
    [message] = smtp.wait_for(1)
    assert message["To"] == "guest@example.org"
    text = message.get_body(("plain",)).get_content()
    assert text.splitlines()[0] == "Hello," and "http://harmony.test/requests/invitations/abc" in text


def test_nothing_is_written_or_sent_when_the_transaction_rolls_back(mail_app, smtp):
    with mail_app.app_context():
        alice = factories.user("alice")
        with pytest.raises(RuntimeError, match="decision failed"):
            with db.unit_of_work() as uow:
                notify(uow, [alice], "request-approved", subject="Approved", summary="Approved.", link="/requests/1")
                raise RuntimeError("decision failed")
        assert mails() == []
        assert list(db.session().scalars(select(Notice))) == []
    assert smtp.wait_for(1, timeout=0.3) == []


def test_mail_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once_later(mail_app, smtp):
    with mail_app.app_context():
        alice = factories.user("alice")
        smtp.stop()
        with clock.frozen(T0):
            send_notice([alice])  # the after-commit delivery fails
        [mail] = mails()
        assert (mail.sent_at, mail.failed_at, mail.attempts) == (None, None, 1)
        assert mail.next_attempt_at == T0 + timedelta(minutes=1)
        assert "cannot connect" in mail.last_error
        smtp.start()
        with clock.frozen(T0 + timedelta(seconds=30)):
            assert str(outbox.deliver_due()) == "sent 0, retrying 0, failed 0"  # not due yet
        assert smtp.messages == []
        with clock.frozen(T0 + timedelta(minutes=1, seconds=1)):
            assert str(outbox.deliver_due()) == "sent 1, retrying 0, failed 0"
            assert str(outbox.deliver_due()) == "sent 0, retrying 0, failed 0"
        [mail] = mails()
        assert mail.sent_at == T0 + timedelta(minutes=1, seconds=1) and mail.claimed_until is None
    assert [message["To"] for message in smtp.wait_for(1)] == ["alice@example.org"]


def test_retries_back_off_and_give_up_only_after_three_days(mail_app, smtp):
    with mail_app.app_context():
        alice = factories.user("alice")
        smtp.stop()
        with clock.frozen(T0):
            send_notice([alice])
        gaps, attempted_at = [], T0
        while True:
            [mail] = mails()
            if mail.failed_at is not None:
                break
            gaps.append(mail.next_attempt_at - attempted_at)
            attempted_at = mail.next_attempt_at
            with clock.frozen(attempted_at):
                report = outbox.deliver_due()
            assert report.sent == 0 and report.retrying + report.failed == 1
        assert [gap.total_seconds() / 60 for gap in gaps[:8]] == [1, 2, 4, 8, 16, 32, 60, 60]
        assert report.failed == 1 and mail.failed_at - T0 > timedelta(days=3)
        assert mail.failed_at - T0 <= timedelta(days=3, hours=1)  # not before three days, and not much later
        with clock.frozen(mail.failed_at + timedelta(days=1)):
            assert str(outbox.deliver_due()) == "sent 0, retrying 0, failed 0"  # given up is final


def test_two_senders_never_send_one_mail_twice(mail_app, smtp):
    with mail_app.app_context():
        alice, bob = factories.user("alice"), factories.user("bob")
        smtp.stop()
        with clock.frozen(T0):
            send_notice([alice], subject="first")
            send_notice([bob], subject="second")
        smtp.start()
    smtp.handler.hold_subject = "first"  # the first sender stalls inside the SMTP transaction of "first"
    reports = {}

    def first_sender():
        with mail_app.app_context():
            reports["first"] = outbox.deliver_due()

    with clock.frozen(T0 + timedelta(minutes=2)):  # one clock for both threads
        thread = threading.Thread(target=first_sender)
        thread.start()
        try:
            assert smtp.handler.holding.wait(5)
            with mail_app.app_context():
                reports["second"] = outbox.deliver_due()  # meanwhile a second worker looks at the outbox
        finally:
            smtp.handler.release.set()
            thread.join(10)
    smtp.wait_for(3, timeout=0.3)
    assert sorted(message["Subject"] for message in smtp.messages) == ["first", "second"]
    assert (reports["first"].sent, reports["second"].sent) == (1, 1)

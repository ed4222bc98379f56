"""`harmony mail send`: one run, and the --follow worker that a signal ends cleanly."""

import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from harmony import clock, db
from harmony.notifications.models import OutboxMail
from tests import factories
from tests.conftest import TEST_SECRET_KEY
from tests.notifications.conftest import Records
from tests.notifications.test_outbox import T0, send_notice


def waiting_mails(app, smtp, *subjects, at=T0):
    """Mails left in the outbox because this process could not reach an SMTP server when it wrote them."""
    with socket.socket() as unreachable:  # bound but not listening: connections are refused
        unreachable.bind(("127.0.0.1", 0))
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{unreachable.getsockname()[1]}"
        try:
            with app.app_context(), clock.frozen(at):
                for subject in subjects:
                    send_notice([factories.user(f"person-{subject}")], subject=subject)
        finally:
            app.config["SMTP_URL"] = smtp.url


def test_mail_send_delivers_what_is_due(mail_app, smtp):
    waiting_mails(mail_app, smtp, "one", "two")
    runner = mail_app.test_cli_runner()
    with clock.frozen(T0 + timedelta(minutes=2)):
        result = runner.invoke(args=["mail", "send"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "sent 2, retrying 0, failed 0"
        assert runner.invoke(args=["mail", "send"]).output.strip() == "sent 0, retrying 0, failed 0"
    assert sorted(message["Subject"] for message in smtp.messages) == ["one", "two"]


def test_mail_send_reports_retries_while_smtp_is_down(mail_app, smtp):
    waiting_mails(mail_app, smtp, "one")
    smtp.stop()
    with clock.frozen(T0 + timedelta(minutes=2)):
        result = mail_app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0 and result.output.strip() == "sent 0, retrying 1, failed 0"
    with mail_app.app_context():
        assert db.session().scalar(select(OutboxMail.attempts)) == 2


def test_without_an_smtp_url_mails_are_logged_and_count_as_sent(app):
    assert app.config["SMTP_URL"] is None
    with app.app_context(), Records("harmony.mail") as log:
        send_notice([factories.user("alice")], summary="Please review HR-12.")
        assert db.session().scalar(select(OutboxMail.sent_at)) is not None
    [record] = [r for r in log.records if r.levelname == "INFO"]
    assert "alice@example.org" in record.getMessage() and "Please review HR-12." in record.getMessage()


def test_follow_keeps_delivering_until_sigterm(mail_app, smtp, tmp_path):
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)  # the subprocess runs on the real clock
    waiting_mails(mail_app, smtp, "one", at=ten_minutes_ago)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HARMONY_")}
    env.update(HARMONY_DATABASE_URL=mail_app.config["DATABASE_URL"], HARMONY_SECRET_KEY=TEST_SECRET_KEY,
               HARMONY_SMTP_URL=smtp.url, HARMONY_BASE_URL="http://harmony.test", HARMONY_LOG_LEVEL="WARNING",
               HARMONY_SEARCH_INDEX_DIR=str(tmp_path / "index"))
    worker = subprocess.Popen([sys.executable, "-m", "harmony", "mail", "send", "--follow", "--interval", "0.2"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        arrived = smtp.wait_for(1, timeout=20)
        assert worker.poll() is None, worker.communicate()[1]  # still following
        assert [message["Subject"] for message in arrived] == ["one"]
        waiting_mails(mail_app, smtp, "two", at=ten_minutes_ago)  # found by a later look at the outbox
        assert len(smtp.wait_for(2, timeout=10)) == 2
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert out.splitlines()[0] == "Delivering the outbox every 0.2 s; Ctrl-C stops."
    assert out.splitlines()[1:] == ["sent 1, retrying 0, failed 0", "sent 1, retrying 0, failed 0", "Stopped."]
    assert sorted(message["Subject"] for message in smtp.messages) == ["one", "two"]

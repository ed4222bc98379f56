"""HARMONY_SMTP_URL parsing, the log transport of the demo, and logging in at a real SMTP server."""

import logging

import pytest

from harmony.notifications.mailer import LogTransport, SmtpSettings, SmtpTransport, build_message, parse_smtp_url
from tests.notifications.conftest import Records, SmtpServer


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.org", SmtpSettings("mail.example.org", 25)),
    ("smtp://mail.example.org:2525/", SmtpSettings("mail.example.org", 2525)),
    ("smtps://harmony:secret@mail.example.org", SmtpSettings("mail.example.org", 465, "harmony", "secret", implicit_tls=True)),
    ("smtps://harmony:secret@mail.example.org:1465", SmtpSettings("mail.example.org", 1465, "harmony", "secret", True)),
    ("smtp://mail.example.org:587?starttls=1", SmtpSettings("mail.example.org", 587, starttls=True)),
    ("smtp://mail.example.org:587?starttls=0", SmtpSettings("mail.example.org", 587)),
    ("smtp://u:p@[::1]:25", SmtpSettings("::1", 25, "u", "p")),
])
def test_valid_smtp_urls(url, expected):
    assert parse_smtp_url(url) == expected


def test_user_and_password_are_percent_decoded():
    settings = parse_smtp_url("smtps://data%40office.example:p%40ss%3Aw%2Frd%25@mail.example.org:465")
    assert (settings.username, settings.password) == ("data@office.example", "p@ss:w/rd%")


@pytest.mark.parametrize("url", [
    "http://mail.example.org", "mail.example.org", "smtp://", "smtp://:25", "smtp://mail.example.org:99999",
    "smtp://mail.example.org:0", "smtp://mail.example.org:abc", "smtp://mail.example.org/inbox",
    "smtp://mail.example.org?tls=1", "smtp://mail.example.org?starttls=maybe", "smtps://mail.example.org?starttls=1",
    "smtp://harmony@mail.example.org",
])
def test_malformed_smtp_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_smtp_url(url)


def message(subject="Your request was approved"):
    return build_message(mail_from="harmony@example.org", to="alice@example.org", subject=subject,
                         text="Hello Alice,\nsee http://harmony.test/requests/12\n", html="<p>Hello Alice</p>")


def test_message_has_a_text_and_an_html_part():
    built = message()
    assert built.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in built.iter_parts()] == ["text/plain", "text/html"]


def test_log_transport_writes_recipient_subject_and_text():
    with Records("harmony.mail") as log:
        LogTransport().send(message())
    [record] = log.records
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert "alice@example.org" in text and "Your request was approved" in text
    assert "see http://harmony.test/requests/12" in text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_reach_the_server_decoded():
    server = SmtpServer(logins={"data@office": "p@ss:w/rd"})
    server.start()
    try:
        good = SmtpTransport(parse_smtp_url(f"smtp://data%40office:p%40ss%3Aw%2Frd@127.0.0.1:{server.port}"))
        good.send(message("signed in"))
        good.close()
        assert [m["Subject"] for m in server.wait_for(1)] == ["signed in"]
        wrong = SmtpTransport(parse_smtp_url(f"smtp://data%40office:nope@127.0.0.1:{server.port}"))
        with pytest.raises(Exception, match="cannot connect"):
            wrong.send(message("refused"))
        assert len(server.messages) == 1
    finally:
        server.stop()

"""/notices: a person's own notices, the unread count in the header, marking as read."""

import re

from sqlalchemy import select

from harmony import db
from harmony.accounts import services as accounts
from harmony.notifications import services
from harmony.notifications.models import Notice
from tests.factories import csrf_token, signed_in


def notice_for(app, subject, summary, link="/requests/12"):
    with app.app_context():
        with db.unit_of_work() as uow:
            services.notify(uow, [accounts.find_user(subject)], "request-submitted", subject=summary,
                            summary=summary, link=link)
        return db.session().scalar(select(Notice.id).order_by(Notice.id.desc()))


def header_count(html: str) -> str | None:
    """The badge next to "Notices" in the header, e.g. "2 unread"."""
    match = re.search(r'id="notices-link">Notices\s*(?:<span class="badge[^"]*">(\d+)<span class="visually-hidden">'
                      r" (unread)</span></span>)?</a>", html)
    assert match, "no Notices link in the header"
    return f"{match[1]} {match[2]}" if match[1] else None


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/notices")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_person_sees_their_notices_and_the_unread_count(app, client):
    signed_in(client, app, "alice")
    signed_in(app.test_client(), app, "bob")
    assert header_count(client.get("/").get_data(as_text=True)) is None
    notice_for(app, "alice", "Please review request HR-12 <urgent>", link="/requests/12")
    notice_for(app, "alice", "Request HR-13 was submitted", link="/requests/13")
    notice_for(app, "bob", "Bob's own news", link="/requests/14")
    page = client.get("/notices").get_data(as_text=True)
    assert header_count(page) == "2 unread"
    assert page.index("Request HR-13 was submitted") < page.index("Please review request HR-12")  # newest first
    assert '<a href="/requests/12">Please review request HR-12 &lt;urgent&gt;</a>' in page
    assert '<a href="/requests/13">' in page
    assert "Bob&#39;s own news" not in page and "/requests/14" not in page
    assert header_count(client.get("/").get_data(as_text=True)) == "2 unread"  # on every page


def test_mark_one_and_all_as_read(app, client):
    signed_in(client, app, "alice")
    bob = app.test_client()
    signed_in(bob, app, "bob")
    first = notice_for(app, "alice", "First")
    notice_for(app, "alice", "Second")
    notice_for(app, "bob", "Bob's")
    token = csrf_token(client, "/notices")
    assert client.post(f"/notices/{first}/read", data={"csrf_token": token}).status_code == 302
    page = client.get("/notices").get_data(as_text=True)
    assert header_count(page) == "1 unread"
    assert page.count("Mark as read<span") == 1
    assert client.post("/notices/read", data={"csrf_token": token}).status_code == 302
    page = client.get("/notices").get_data(as_text=True)
    assert header_count(page) is None and "Mark as read" not in page and "Mark all as read" not in page
    assert "First" in page and "Second" in page  # read notices stay listed
    assert header_count(bob.get("/notices").get_data(as_text=True)) == "1 unread"  # only alice's were marked


def test_marking_needs_the_csrf_token(app, client):
    signed_in(client, app, "alice")
    notice = notice_for(app, "alice", "First")
    assert client.post(f"/notices/{notice}/read").status_code == 400
    assert client.post("/notices/read").status_code == 400
    assert header_count(client.get("/notices").get_data(as_text=True)) == "1 unread"


def test_another_persons_notice_is_not_found(app, client):
    signed_in(client, app, "alice")
    signed_in(app.test_client(), app, "bob")
    notice_for(app, "alice", "Alice's")
    bobs = notice_for(app, "bob", "Bob's")
    token = csrf_token(client, "/notices")
    response = client.post(f"/notices/{bobs}/read", data={"csrf_token": token})
    missing = client.post(f"/notices/{bobs + 1000}/read", data={"csrf_token": token})
    assert response.status_code == missing.status_code == 404
    # existence is not revealed: the same page, but for the CSRF token, which carries the second it was signed
    assert _without_tokens(response) == _without_tokens(missing)
    with app.app_context():
        assert db.session().get(Notice, bobs).read_at is None


def _without_tokens(response) -> str:
    return re.sub(r'(name="csrf[-_]token" (?:content|value)=)"[^"]*"', r'\1""', response.get_data(as_text=True))


def test_empty_state_and_pages(app, client):
    alice = signed_in(client, app, "alice")
    page = client.get("/notices").get_data(as_text=True)
    assert "No notices yet" in page and "Mark all as read" not in page
    with app.app_context():
        with db.unit_of_work() as uow:
            for number in range(30):
                services.notify(uow, [accounts.find_user("alice")], "request-submitted", subject=f"n{number}",
                                summary=f"Notice number {number}.", link=f"/requests/{number}")
        first, second = services.notices_for(alice, 1), services.notices_for(alice, 2)
        assert (first.total, first.pages, len(first.items), len(second.items)) == (30, 2, 25, 5)
        assert second.items[-1].text == "Notice number 0." and first.items[0].text == "Notice number 29."
    second_page = client.get("/notices?page=2").get_data(as_text=True)
    assert "Notice number 4." in second_page and "Notice number 5." not in second_page
    assert 'href="/notices?page=1"' in second_page and 'aria-current="page">2<' in second_page

"""The public register of approved projects: the page, its Atom feed and the API show exactly the
approved proposals, only their approved datasets and only the register's fields, to anyone."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from harmony import clock
from tests.access_requests.conftest import act, draft, review_act

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET_COMMENT = "Vote comment nobody outside the committee reads"
NEVER_SHOWN = ("Cox regression stratified", "secure research environment", SECRET_COMMENT,
               "Quietly rejected proposal", "Still under review proposal")


def _review(client, world, pid: int, votes: dict[str, str]) -> None:
    """Send to review; then each committee's members vote and its chair decides (committees without votes
    keep reviewing)."""
    sent = act(client, world, "olga", pid, "send-to-review")
    assert sent.status_code == 200, sent.get_json()
    reviews = {r["committee"]: r["id"] for r in sent.get_json()["reviews"]}
    for committee, (members, chair) in {"HOVON DAC": (("erin", "fay"), "chris"),
                                        "EPLN DAC": (("gus", "hana"), "ivy")}.items():
        if committee not in votes:
            continue
        for member in members:
            cast = review_act(client, world, member, reviews[committee], "vote", vote=votes[committee],
                              comment=SECRET_COMMENT)
            assert cast.status_code == 200, cast.get_json()
        decided = review_act(client, world, chair, reviews[committee], "decide")
        assert decided.status_code == 200, decided.get_json()


@pytest.fixture
def register_world(client, world):
    """One approved (HOVON datasets), one partially approved (HOVON yes, EPLN no), one rejected, one
    under review; decided one day apart."""
    hovon, epln = world.datasets[:2], world.datasets[2:]
    made = {}
    for day, (name, pids, votes, extra) in enumerate([
        ("approved", hovon, {"HOVON DAC": "approve"}, {"title": "Relapse in AML across trials",
                                                       "institution": "University of Leiden"}),
        ("partial", world.datasets, {"HOVON DAC": "approve", "EPLN DAC": "reject"},
         {"title": "Lymphoma outcomes in the elderly", "institution": "Charité Berlin",
          "lay_summary": "How older people with lymphoma fare after treatment."}),
        ("rejected", hovon, {"HOVON DAC": "reject"}, {"title": "Quietly rejected proposal"}),
        ("under_review", epln, {}, {"title": "Still under review proposal"}),
    ], start=1):
        with clock.frozen(datetime(2026, 3, day, 12, tzinfo=UTC)):
            pid = draft(client, world, pids=pids, **extra)["id"]
            assert act(client, world, "alice", pid, "submit").status_code == 200
            _review(client, world, pid, votes)
        made[name] = pid
    assert {name: client.get(f"/api/v1/requests/{pid}", headers=world.headers("olga")).get_json()["outcome"]
            for name, pid in made.items()} == {"approved": "approved", "partial": "partially_approved",
                                               "rejected": "rejected", "under_review": None}
    made["hovon"], made["epln"] = hovon, epln
    return made


def test_the_api_lists_exactly_the_approved_projects_with_their_approved_datasets(client, world, register_world):
    response = client.get("/api/v1/register")  # no token
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2 and body["pages"] == 1
    partial, approved = body["items"]  # newest decision first
    assert (partial["id"], approved["id"]) == (register_world["partial"], register_world["approved"])
    assert [d["pid"] for d in partial["datasets"]] == sorted(register_world["hovon"])  # not EPLN's
    assert partial["committees"] == ["HOVON DAC"] and partial["outcome"] == "partially_approved"
    assert [d["pid"] for d in approved["datasets"]] == sorted(register_world["hovon"])
    assert approved["applicant"] == "Alice" and approved["institution"] == "University of Leiden"
    assert approved["decided_at"].startswith("2026-03-01")
    assert approved["grant_period"] == "starts when the data access agreement is accepted"
    assert approved["publications"] == []
    assert set(approved) == {"id", "title", "lay_summary", "applicant", "institution", "outcome", "decided_at",
                             "grant_period", "committees", "datasets", "publications", "url"}
    text = response.get_data(as_text=True)
    assert not any(secret in text for secret in NEVER_SHOWN)


def test_search_narrows_the_api_and_the_page(client, world, register_world):
    for q, expected in (("lymphoma", [register_world["partial"]]), ("LEIDEN", [register_world["approved"]]),
                        ("alice", [register_world["partial"], register_world["approved"]]),
                        ("quietly", []), ("100%", [])):
        found = client.get("/api/v1/register", query_string={"q": q}).get_json()
        assert [item["id"] for item in found["items"]] == expected, q
    page = client.get("/register", query_string={"q": "lymphoma"}).get_data(as_text=True)
    assert "Lymphoma outcomes in the elderly" in page and "Relapse in AML across trials" not in page


def test_the_api_pages(client, world, register_world):
    first = client.get("/api/v1/register?per_page=1").get_json()
    second = client.get("/api/v1/register?per_page=1&page=2").get_json()
    assert first["pages"] == 2 and [first["items"][0]["id"], second["items"][0]["id"]] == [
        register_world["partial"], register_world["approved"]]
    assert client.get("/api/v1/register?per_page=0").status_code == 422


def test_visitors_read_the_page_with_only_the_register_fields(client, world, register_world):
    response = client.get("/register")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Relapse in AML across trials" in page and "Lymphoma outcomes in the elderly" in page
    assert "How older people with lymphoma fare after treatment." in page and "Charité Berlin" in page
    assert "Grant period: starts when the data access agreement is accepted" in page
    assert "HOVON DAC" in page and "EPLN DAC" not in page
    assert f'href="/datasets/{register_world["hovon"][0]}"' in page
    assert not any(f'/datasets/{pid}"' in page for pid in register_world["epln"])
    assert not any(secret in page for secret in NEVER_SHOWN)
    assert 'type="application/atom+xml"' in page


def test_the_atom_feed_parses_and_holds_the_approved_projects(client, world, register_world):
    response = client.get("/register.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    text = response.get_data(as_text=True)
    feed = ElementTree.fromstring(response.get_data())
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Lymphoma outcomes in the elderly",
                                                             "Relapse in AML across trials"]
    for entry in entries:
        for tag in ("id", "title", "updated", "summary"):
            assert entry.findtext(f"{ATOM}{tag}"), tag
        assert entry.find(f"{ATOM}link").get("href").startswith("http")
    assert entries[1].findtext(f"{ATOM}updated").startswith("2026-03-01T12:00:00")
    assert not any(secret in text for secret in NEVER_SHOWN)


def test_the_feed_escapes_what_applicants_typed(client, world):
    pid = draft(client, world, pids=world.datasets[:2], title="Risk <b>&</b> relapse ]]> in AML")["id"]
    assert act(client, world, "alice", pid, "submit").status_code == 200
    _review(client, world, pid, {"HOVON DAC": "approve"})
    feed = ElementTree.fromstring(client.get("/register.atom").get_data())
    assert feed.find(f"{ATOM}entry").findtext(f"{ATOM}title") == "Risk <b>&</b> relapse ]]> in AML"
    assert "Risk &lt;b&gt;&amp;&lt;/b&gt;" in client.get("/register").get_data(as_text=True)


def test_an_empty_register_still_answers(client, world):
    assert client.get("/api/v1/register").get_json() == {"items": [], "total": 0, "page": 1, "per_page": 25,
                                                         "pages": 1}
    assert "No approved projects yet" in client.get("/register").get_data(as_text=True)
    assert ElementTree.fromstring(client.get("/register.atom").get_data()).findall(f"{ATOM}entry") == []


def test_the_dataset_landing_page_lists_the_approved_projects_using_it(client, world, register_world):
    hovon = client.get(f"/datasets/{register_world['hovon'][0]}").get_data(as_text=True)
    assert "Approved projects using this dataset" in hovon
    assert "Relapse in AML across trials" in hovon and "Lymphoma outcomes in the elderly" in hovon
    assert "Quietly rejected proposal" not in hovon
    epln = client.get(f"/datasets/{register_world['epln'][0]}").get_data(as_text=True)
    assert "Approved projects using this dataset" not in epln  # rejected for EPLN, and the other under review


def test_the_grant_period_and_the_reported_publications_reach_the_register(client, world, register_world):
    """The period runs from the first grant's start to the last grant's end, or the day access ended early;
    the publications are the final report's, linked when they are DOIs or PubMed ids; the report's summary
    stays out."""
    pid = register_world["approved"]
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        assert act(client, world, "alice", pid, "accept-agreement").get_json()["state"] == "active"
    filed = act(client, world, "alice", pid, "file-report", data_deleted=False,
                publications=["doi:10.1000/abc.1", "PMID: 31452104", "Smith J. Relapse in AML. Blood 2027."],
                comment="A summary only the committees read")
    assert filed.status_code == 200, filed.get_json()

    approved = next(e for e in client.get("/api/v1/register").get_json()["items"] if e["id"] == pid)
    assert approved["grant_period"] == "01 April 2026 – 01 April 2027"
    assert approved["publications"] == [
        {"title": "doi:10.1000/abc.1", "url": "https://doi.org/10.1000/abc.1"},
        {"title": "PMID: 31452104", "url": "https://pubmed.ncbi.nlm.nih.gov/31452104/"},
        {"title": "Smith J. Relapse in AML. Blood 2027.", "url": None}]
    partial = next(e for e in client.get("/api/v1/register").get_json()["items"] if e["id"] == register_world["partial"])
    assert partial["grant_period"] == "starts when the data access agreement is accepted"
    assert partial["publications"] == []

    page = client.get("/register").get_data(as_text=True)
    assert "Grant period: 01 April 2026 – 01 April 2027" in page
    assert '<a href="https://doi.org/10.1000/abc.1">doi:10.1000/abc.1</a>' in page
    assert "<li>Smith J. Relapse in AML. Blood 2027.</li>" in page
    feed = ElementTree.fromstring(client.get("/register.atom").get_data())
    summary = next(e.findtext(f"{ATOM}summary") for e in feed.findall(f"{ATOM}entry")
                   if e.findtext(f"{ATOM}title") == "Relapse in AML across trials")
    assert "Grant period: 01 April 2026 – 01 April 2027." in summary
    assert "Publication: doi:10.1000/abc.1 <https://doi.org/10.1000/abc.1>" in summary
    for text in (page, client.get("/register.atom").get_data(as_text=True),
                 client.get("/api/v1/register").get_data(as_text=True)):
        assert "A summary only the committees read" not in text

    with clock.frozen(datetime(2026, 5, 2, 9, tzinfo=UTC)):  # access ends early: the period ends that day
        assert act(client, world, "chris", pid, "revoke", comment="Shared outside.").get_json()["state"] == "revoked"
    approved = next(e for e in client.get("/api/v1/register").get_json()["items"] if e["id"] == pid)
    assert approved["grant_period"] == "01 April 2026 – 02 May 2026"

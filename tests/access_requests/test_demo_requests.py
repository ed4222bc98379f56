"""`harmony demo load`: the demo's committees and proposals. Each persona finds something to do, the
datasets fit the proposals' purposes, loading twice changes nothing and the audit trails verify."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from harmony import clock, db
from harmony.access_requests import attachments, audit, committees, proposals, queries
from harmony.access_requests.content import ETHICS_APPROVAL, IRB, dataset_objections, requirements
from harmony.access_requests.models import (
    Attachment,
    Committee,
    CommitteeAgreement,
    Proposal,
    ProposalDataset,
    ProposalEvent,
    Question,
    Recusal,
    Review,
    Vote,
)
from harmony.accounts import services as accounts
from harmony.accounts.models import RoleGrant
from harmony.catalog import services as catalog
from harmony.demo import requests as demo_requests
from harmony.demo.personas import PERSONAS
from harmony.notifications.models import Notice, OutboxMail

LIMIT = 6  # three datasets per group: enough for every demo proposal to find fitting ones
NHTG_DAC, EPLN_DAC = "NHTG Data Access Committee", "EPLN Data Access Committee"


@pytest.fixture
def demo_app(app, tmp_path):
    app.config.update(DEMO_RECORD_LIMIT=LIMIT, ATTACHMENT_DIR=str(tmp_path / "attachments"))
    return app


def load(app):
    """`harmony demo load` through the command line, as tests/catalog/test_demo.py does."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "stopped:" not in result.output and "skipped:" not in result.output, result.output
    return result.output


def person(app, subject: str):
    return accounts.principal_for(accounts.find_user(subject, app.config["DEV_IDP_URL"].rstrip("/")))


def roster(app, committee: Committee) -> set[tuple[str, bool]]:
    """The committee's people as (persona subject, chair)."""
    issuer = app.config["DEV_IDP_URL"].rstrip("/")
    subjects = {accounts.find_user(p.subject, issuer).id: p.subject for p in PERSONAS}
    return {(subjects[member.user.id], member.chair) for member in committees.members(committee.id)}


def counts() -> tuple[int, ...]:
    session = db.session()
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in (
        Committee, CommitteeAgreement, RoleGrant, Proposal, ProposalDataset, ProposalEvent, Review, Vote, Recusal,
        Question, Attachment, Notice, OutboxMail))


def demo_proposals(app) -> dict[str, Proposal]:
    """The demo proposals by title."""
    titles = {spec.title for spec in demo_requests.DEMO_PROPOSALS}
    found = {p.content["title"]: p for p in db.session().scalars(select(Proposal)) if p.content.get("title") in titles}
    assert set(found) == titles
    return found


def test_the_committees_their_rules_people_and_agreements(demo_app):
    output = load(demo_app)
    assert f"Demo committees: {NHTG_DAC} (created): governs NHTG; majority, quorum 2 votes, 14 days" in output
    with demo_app.app_context():
        nhtg, epln = committees.committee_by_name(NHTG_DAC), committees.committee_by_name(EPLN_DAC)
        assert (nhtg.rule, nhtg.quorum, nhtg.voting_days) == ("majority", 2, 14)
        assert (epln.rule, epln.quorum, epln.voting_days) == ("any-reject-blocks", 2, 21)
        assert roster(demo_app, nhtg) == {("chris", True), ("dave", False), ("erin", False), ("fay", False)}
        assert roster(demo_app, epln) == {("ivy", True), ("gus", False), ("hana", False)}
        assert [g.acronym for g in committees.governed_groups(nhtg.id)] == ["NHTG"]
        assert catalog.group_by_acronym("EPLN").committee_id == epln.id
        for committee, acronym in ((nhtg, "NHTG"), (epln, "EPLN")):
            text = committees.agreement_text(committee)
            assert committee.agreement_version == 1 and acronym in text
            for promise in ("only for the research described", "re-identification", "secure environment",
                            "acknowledges", "deletes the data"):
                assert promise in text, promise
        grants = db.session().scalars(select(RoleGrant).where(RoleGrant.scope_kind == "committee")).all()
        assert len(grants) == 7 and {grant.source for grant in grants} == {"demo"}
        assert person(demo_app, "chris").scopes("chair", "committee") == {nhtg.id}
        assert person(demo_app, "hana").scopes("member", "committee") == {epln.id}


def test_every_persona_finds_something_to_do(demo_app):
    output = load(demo_app)
    assert "Demo proposals: 7 created, 0 present." in output
    with demo_app.app_context():
        nhtg, epln = committees.committee_by_name(NHTG_DAC), committees.committee_by_name(EPLN_DAC)
        alice, bruno, olga = (person(demo_app, s) for s in ("alice", "bruno", "olga"))
        alices = proposals.list_proposals(alice, mine=True).items
        assert sorted(p.state for p in alices) == ["active", "agreement", "draft", "under_review"]
        brunos = proposals.list_proposals(bruno, mine=True).items
        assert sorted(p.state for p in brunos) == ["expired", "returned", "submitted"]

        screening = queries.screening_queue(olga)
        assert [(p.state, user.id) for p, user in screening] == [("submitted", bruno.user_id)]

        under_review = next(p for p in alices if p.state == "under_review")
        queues = {s: queries.review_queue(person(demo_app, s))
                  for s in ("chris", "dave", "erin", "fay", "ivy", "gus", "hana")}
        for subject, committee in (("chris", nhtg), ("dave", nhtg), ("erin", nhtg), ("fay", nhtg),
                                   ("ivy", epln), ("gus", epln), ("hana", epln)):
            [item] = queues[subject]
            assert (item.proposal.id, item.committee.id, item.review.state) == (under_review.id, committee.id, "voting")
            assert (item.my_vote is not None) == (subject == "erin"), subject
        assert queries.review_queue(alice) == []

        decided = next(p for p in alices if p.state == "agreement")  # alice accepts NHTG's agreement next
        assert decided.outcome == "partially_approved"
        detail = queries.proposal_detail(alice, decided.id)
        assert {(r.committee.name, r.review.outcome) for r in detail.reviews} == {(NHTG_DAC, "approved"),
                                                                                (EPLN_DAC, "rejected")}
        assert all(r.review.decision_reason and not r.review.overridden for r in detail.reviews)
        assert {(d.group.acronym, d.outcome) for d in detail.datasets} == {("NHTG", "approved"), ("EPLN", "rejected")}

        active = queries.proposal_detail(alice, next(p for p in alices if p.state == "active").id)
        assert active.after.grants and all(view.live for view in active.after.grants)
        days_left = {(view.grant.end - clock.now()).days for view in active.after.grants}
        assert days_left <= set(range(20, 35)), "the active access ends in about a month: tick reminds soon"
        expired = queries.proposal_detail(bruno, next(p for p in brunos if p.state == "expired").id)
        assert {view.grant.end_reason for view in expired.after.grants} == {"expired"}
        assert expired.after.report.publications and expired.after.report.data_deleted

        draft = next(p for p in alices if p.state == "draft")
        detail = queries.proposal_detail(alice, draft.id)
        assert {d.group.acronym for d in detail.datasets} == {"NHTG", "EPLN"}
        assert {"methods", "data_security_plan"} <= set(detail.problems)  # partly filled: work left for alice


def test_the_datasets_fit_each_proposal_and_ethics_approval_is_attached_where_needed(demo_app):
    load(demo_app)
    with demo_app.app_context():
        for title, proposal in demo_proposals(demo_app).items():
            chosen = [(dataset.pid, proposals.published_content(dataset))
                      for _link, dataset in proposals.datasets_of(proposal.id)]
            assert chosen, title
            for pid, content in chosen:
                assert dataset_objections(content, proposal.content) == [], (title, pid)
            files = db.session().scalars(select(Attachment).where(Attachment.proposal_id == proposal.id)).all()
            needs = any(r.code == IRB for r in requirements(chosen))
            if proposal.state != "draft":
                assert ({a.kind for a in files} == {ETHICS_APPROVAL}) == needs, title
            for attachment in files:
                _, path = attachments.open_attachment(person(demo_app, "olga"), proposal.id,
                                                                    attachment.id)
                assert well_formed_pdf(path.read_bytes())


def test_loading_twice_changes_nothing_and_the_trails_verify(demo_app):
    load(demo_app)
    with demo_app.app_context():
        first = counts()
        states = {title: (p.state, p.outcome, p.event_seq) for title, p in demo_proposals(demo_app).items()}
    second = load(demo_app)
    assert "Demo proposals: 0 created, 7 present." in second
    assert f"{NHTG_DAC} (present)" in second and f"{EPLN_DAC} (present)" in second
    with demo_app.app_context():
        assert counts() == first
        assert {title: (p.state, p.outcome, p.event_seq) for title, p in demo_proposals(demo_app).items()} == states
        assert list(audit.verify(db.session())) == []
        events = db.session().scalars(select(ProposalEvent).order_by(ProposalEvent.proposal_id, ProposalEvent.seq)).all()
        for earlier, later in zip(events, events[1:], strict=False):
            if earlier.proposal_id == later.proposal_id:
                assert earlier.at <= later.at, "a trail's events happen in the order of their numbers"
    verified = demo_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "Every audit trail verifies." in verified.output


def well_formed_pdf(data: bytes) -> bool:
    """Header, every cross-reference offset at its object, startxref at the table, stream lengths right."""
    if not data.startswith(b"%PDF-1.") or not data.rstrip().endswith(b"%%EOF"):
        return False
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))
    table = re.match(rb"xref\s+0 (\d+)\s+((?:\d{10} \d{5} [fn] \s*)+)", data[start:])
    if table is None:
        return False
    entries = re.findall(rb"(\d{10}) \d{5} ([fn])", table.group(2))
    if len(entries) != int(table.group(1)):
        return False
    for number, (offset, kind) in enumerate(entries):
        if kind == b"n" and not data[int(offset):].startswith(b"%d 0 obj" % number):
            return False
    for length, body in re.findall(rb"/Length (\d+) >>\nstream\n(.*?)\nendstream", data, re.S):
        if int(length) != len(body):
            return False
    return True


def test_the_ethics_approval_is_a_well_formed_pdf():
    pdf = demo_requests.ethics_approval_pdf("Relapse (and survival) in AML \\ a pooled analysis " * 3, "METC 2025-042",
                                            datetime(2025, 3, 1, tzinfo=UTC))
    assert well_formed_pdf(pdf)
    assert b"\\(and survival\\)" in pdf and b"METC 2025-042" in pdf and b"01 March 2025" in pdf
    broken = pdf.replace(b"startxref\n", b"startxref\n1", 1)
    assert not well_formed_pdf(broken)

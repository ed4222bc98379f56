"""The access-request workflow at 10,000 proposals and 100,000 audit events, on SQLite and PostgreSQL.

The consortium is made through the services: 12 study groups, each pair governed by one of 6
committees (the four decision rules, quorums as counts and fractions, 14 to 28 voting days, 6 members
and a chair each), coordinators, an admin, 300 researchers, 4 published datasets per group, and API
tokens. Then N proposals (`--proposals`, default 10,000) are planned: each gets a final state
(7% draft, 1% deleted, 3% submitted, 2% returned, 4% withdrawn, 6% under review, 77% decided) and a
backdated timeline of actions that leads there: create, submit, sometimes return and resubmit,
send-to-review, recusals, questions and answers, votes and changed votes, closing (by the chair or
at the deadline), decisions (overrides with a reason when the votes give no outcome), withdrawals.
Vote changes are calibrated so that the trails hold about `--events` events in all.

The first `--via-services` plans (default 300) run through the real services (`actions.act_on_*`
under a frozen clock at each step's time, with notifications, outbox and the audit trail); their
rate is printed, and the rest are written by bulk inserts: the same rows the services write
(proposal, proposal_dataset, review, vote, recusal, question, proposal_event), each event hashed by
`audit.event_hash`, so `harmony audit verify` checks them like any other. Bulk-written proposals
have no notices or outbox mails.

Measured in-process through the Flask test client (p50/p95/max over `--requests` requests, after
3 warm-up requests each; per request, the SQL statements and the time inside cursor.execute, by engine
listeners: on SQLite rows are read after execute, so that time is a lower bound there): the member's
review queue (HTML /reviews and /api/v1/reviews, also with ?all=1), a proposal (HTML /requests/<id>
and /api/v1/requests/<id>), a review page, and a vote (POST /api/v1/reviews/<id>/actions/vote,
approve and reject alternating, on reviews the voter has not voted on yet), against a baseline of
GET /api/v1/ (no database) and /healthz (one query), so ratios can be compared across machines.
Pages use a signed-in session made as /auth/callback makes it (`accounts.services.sign_in`), the
API a bearer token. Target: p95 <= 100 ms for the queue, a proposal and a vote.

Then gunicorn (4 workers, loopback) serves the same database and 8 client threads (the chair and 3
members of each of two committees, with their tokens) act for `--seconds` on 30 open reviews of each
committee (those of proposals both committees review first, so they contend for one proposal's lock):
members vote and change their votes, chairs too, and close the voting (3% of their requests) or
decide (2%). Every answer must be 200 or 409 (a review closed or decided meanwhile); the events
written must equal the 200s, per action; each stored vote must be its voter's last vote event and
each decided review must have one decide event; `harmony audit verify` must pass.

    .venv/bin/python benchmarks/workflow_bench.py [--backend sqlite|postgresql|both] [--proposals 10000]
        [--events 100000] [--via-services 300] [--requests 200] [--seconds 60] [--quick]
        [--database-url postgresql://…] [--workdir DIR] [--profile]

PostgreSQL comes from the machine's server programs (tests/postgres.py), unless --database-url names
an empty database. Results: a table at the end and benchmarks/results/workflow-<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import event, func, insert, select, text  # noqa: E402

from harmony import clock, db, migrate  # noqa: E402
from harmony.access_requests import actions, audit, committees, proposals, rules  # noqa: E402
from harmony.access_requests.content import FIELD_LABELS, ProposalContent, diff  # noqa: E402
from harmony.access_requests.models import (  # noqa: E402
    CANCELLED,
    CLOSED,
    QUESTION,
    REVIEW_DECIDED,
    VOTING,
    Proposal,
    ProposalDataset,
    ProposalEvent,
    Question,
    Recusal,
    Review,
    Vote,
)
from harmony.accounts import services as accounts  # noqa: E402
from harmony.accounts.current import SESSION_KEY  # noqa: E402
from harmony.accounts.services import COMMAND_LINE, RoleGrantInput, TokenCreate  # noqa: E402
from harmony.app import create_app  # noqa: E402
from harmony.catalog import services as catalog  # noqa: E402
from harmony.catalog.content import DatasetContent  # noqa: E402

ISSUER = "http://idp.bench"
SECRET_KEY = "workflow-benchmark-secret-key-0123456789"
TARGET_MS = 100.0
WARM_UP = 3
RESULTS = ROOT / "benchmarks" / "results"

# name, rule, quorum, voting days, the study groups it governs
COMMITTEES = [
    ("HOVON DAC", "majority", 3, 14, [("HOVON", "NL"), ("NLG", "NL")]),
    ("GMALL DAC", "any-reject-blocks", 2, 21, [("GMALL", "DE"), ("AMLSG", "DE")]),
    ("GIMEMA DAC", "majority", 0.5, 14, [("GIMEMA", "IT"), ("FIL", "IT")]),
    ("PETHEMA DAC", "unanimity", 3, 21, [("PETHEMA", "ES"), ("GELTAMO", "ES")]),
    ("NCRI DAC", "chair-decides", 2, 14, [("NCRI", "GB"), ("UKALL", "GB")]),
    ("Nordic DAC", "majority", 0.5, 28, [("NMDSG", "SE"), ("NLLG", "DK")]),
]
MEMBERS_PER_COMMITTEE = 6  # and a chair
RESEARCHERS = 300
DATASETS_PER_GROUP = 4
STATE_MIX = [("draft", 0.07), ("deleted", 0.01), ("submitted", 0.03), ("returned", 0.02), ("withdrawn", 0.04),
             ("under_review", 0.06), ("decided", 0.77)]
FIRST = ["Anna", "Bram", "Chloé", "Daan", "Eva", "Femke", "Gert", "Hanna", "Ingrid", "Jan", "Katrin", "Lars", "Maria",
         "Niels", "Olga", "Pieter", "Quinten", "Rosa", "Sven", "Tessa", "Ugo", "Vera", "Willem", "Xenia", "Yusuf", "Zoë"]
LAST = ["de Vries", "Jansen", "Müller", "Rossi", "García", "Andersson", "Smith", "Bakker", "Visser", "Meyer",
        "Bianchi", "López", "Nilsson", "Dubois", "Novak", "Kowalski", "Hansen", "Moreau", "Ferrari"]
TOPICS = ["Relapse after allogeneic transplantation in AML", "Minimal residual disease and survival in paediatric ALL",
          "Lenalidomide maintenance in myeloma: long-term toxicity", "Early PET response in Hodgkin lymphoma",
          "TP53 mutations across MDS trials", "Cardiotoxicity of anthracyclines in DLBCL",
          "Ibrutinib discontinuation in CLL", "Infections during induction in older AML patients",
          "CNS relapse in Burkitt lymphoma", "Treatment-free remission in CML", "Frailty scores in myeloma trials",
          "Thrombosis in asparaginase-treated ALL", "FLT3 inhibitors and outcome by co-mutation",
          "Quality of life after CAR-T versus transplant", "Sex differences in chemotherapy toxicity"]
DATA_USES = [["DUO:0000042"], ["DUO:0000006"], ["DUO:0000042", "DUO:0000019"], ["DUO:0000006", "DUO:0000020"],
             ["DUO:0000006", "DUO:0000046"]]
FILLED = {
    "lay_summary": "We want to learn which patients relapse, and why, so that treatment can be adapted earlier.",
    "abstract": "A pooled analysis of individual patient data from completed trials of the consortium.",
    "objectives": "Estimate the risk by subgroup; validate a prognostic score in independent trials.",
    "methods": "Cox regression stratified by trial; multiple imputation for missing covariates.",
    "duration_months": 12,
    "institution": "Leiden University Medical Center",
    "data_security_plan": "Analysis inside the university's secure research environment; no download.",
    "publication_commitment": True,
    "collaborator": "The study group's principal investigator of each trial",
    "non_commercial_declaration": True,
}
PURPOSES = [{"code": "HMB"}, {"code": "HMB"}, {"code": "DS", "disease": "DOID:9119"}, {"code": "DS", "disease": "DOID:9538"}]
QUESTIONS = ["Which covariates will you adjust for, and why these?", "Who at your institution will hold the data?",
             "Please add the sample size calculation for the subgroup analysis."]
CONDITIONS = "Share the draft manuscript with the study group before submission."


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def figures(samples: list[float], queries: list[int] | None = None) -> dict[str, Any]:
    found = {"n": len(samples), "p50": round(percentile(samples, .5), 1), "p95": round(percentile(samples, .95), 1),
             "max": round(max(samples), 1)}
    if queries:
        found["queries"] = int(percentile(queries, .5))
        found["queries_max"] = max(queries)
    return found


# --- the consortium, through the services ---------------------------------------------------


@dataclass
class Seat:
    committee_id: int
    name: str
    rule: str
    quorum: float
    days: int
    chair: str  # subject
    members: list[str]  # subjects, the chair not included

    @property
    def roster(self) -> list[str]:
        return [self.chair, *self.members]


@dataclass
class Consortium:
    seats: list[Seat] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)  # subject -> user id
    names: dict[str, str] = field(default_factory=dict)  # subject -> display name
    tokens: dict[str, str] = field(default_factory=dict)  # subject -> API token
    datasets: list[tuple[int, str, int]] = field(default_factory=list)  # (dataset id, PID, seat index)
    researchers: list[str] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)


def _person(c: Consortium, subject: str, number: int, role: str | None = None, scope_id: int | None = None,
            token: bool = False) -> None:
    name = f"{FIRST[number % len(FIRST)]} {LAST[(number * 7 + number // len(FIRST)) % len(LAST)]}"
    person = accounts.provision_user(ISSUER, subject, {"name": name, "email": f"{subject}@bench.example"},
                                     affiliation="Benchmark University")
    c.users[subject], c.names[subject] = person.id, person.display_name
    if role:
        accounts.grant_role(COMMAND_LINE, RoleGrantInput(user_id=person.id, role=role, scope_id=scope_id))
    if token:
        c.tokens[subject] = accounts.create_token(COMMAND_LINE, person.id, TokenCreate(name="benchmark", days=30))[1]


def build_consortium(app) -> Consortium:
    c = Consortium()
    number = 0
    with app.app_context():
        for index, (name, rule, quorum, days, groups) in enumerate(COMMITTEES):
            created = committees.create_committee(COMMAND_LINE, committees.CommitteeInput(
                name=name, rule=rule, quorum=quorum, voting_days=days, agreement=f"{name} data access agreement v1."))
            seat = Seat(created.id, name, rule, quorum, days, f"chair{index}", [])
            _person(c, seat.chair, number := number + 1, "chair", created.id, token=True)
            for m in range(MEMBERS_PER_COMMITTEE):
                subject = f"member{index}-{m}"
                _person(c, subject, number := number + 1, "member", created.id, token=True)
                seat.members.append(subject)
            c.seats.append(seat)
            for acronym, country in groups:
                group = catalog.create_group(COMMAND_LINE, catalog.GroupInput(
                    name=f"{acronym} study group", acronym=acronym, country=country))
                committees.govern(COMMAND_LINE, created.id, group.id)
                curator = f"curator-{acronym.lower()}"
                _person(c, curator, number := number + 1, "curator", group.id)
                actor = accounts.principal_for(accounts.find_user(curator, ISSUER))
                with db.batch():  # the search index catches up once, after the group's datasets
                    for n in range(DATASETS_PER_GROUP):
                        content = DatasetContent.model_validate(_dataset_content(acronym, country, n, len(c.datasets)))
                        dataset = catalog.create_dataset(actor, group.id, content)
                        catalog.publish(actor, dataset.id)
                        c.datasets.append((dataset.id, catalog.pid_for(dataset.id), index))
        for n in range(2):
            c.coordinators.append(f"coordinator{n}")
            _person(c, f"coordinator{n}", number := number + 1, "coordinator", token=True)
        _person(c, "admin", number := number + 1, "admin", token=True)
        for n in range(RESEARCHERS):
            c.researchers.append(f"researcher{n}")
            _person(c, f"researcher{n}", number := number + 1, token=n < 5)
    return c


def _dataset_content(acronym: str, country: str, n: int, serial: int) -> dict[str, Any]:
    disease = ["DOID:9119", "DOID:9952", "DOID:9538", "DOID:1040", "DOID:8567", "DOID:0050908"][serial % 6]
    return {
        "title": f"{acronym} trial {n + 1}: {TOPICS[serial % len(TOPICS)].lower()}",
        "acronym": f"{acronym}-{100 + n}",
        "description": f"A completed randomised phase 3 trial of the {acronym} study group: individual patient data "
                       "with treatment, response, toxicity and follow-up.",
        "contact_point": {"name": f"{acronym} Data Center", "email": f"data@{acronym.lower()}.example"},
        "registrations": [f"NCT0{3000000 + serial}"], "diseases": [disease], "population": "adult",
        "age_min": 18, "age_max": 75, "n_patients": 200 + 37 * serial, "countries": [country],
        "study_type": "interventional", "phases": ["phase-3"], "recruitment_start": "2010-01-01",
        "recruitment_end": "2016-06-30", "data_types": ["clinical", "outcome"], "data_use": DATA_USES[serial % 5],
    }


# --- planning proposals ---------------------------------------------------------------------


@dataclass
class Step:
    at: datetime
    action: str
    actor: str  # subject, or "system" (the deadline)
    seat: int | None = None  # review actions: the committee's index
    data: dict[str, Any] = field(default_factory=dict)
    edit: dict[str, Any] | None = None  # resubmit: what the applicant changed first


@dataclass
class Plan:
    applicant: str
    datasets: list[int]  # indexes into Consortium.datasets, in PID order
    content: dict[str, Any]
    final: str
    steps: list[Step]


def _final_state(rnd: random.Random) -> str:
    draw, total = rnd.random(), 0.0
    for state, share in STATE_MIX:
        total += share
        if draw < total:
            return state
    return STATE_MIX[-1][0]


def _vote(rnd: random.Random) -> dict[str, Any]:
    choice = rnd.choices(rules.VOTES, weights=[60, 12, 22, 6])[0]
    return {"vote": choice, "comment": CONDITIONS} if choice == "approve-with-conditions" else {"vote": choice}


class Planner:
    """Timelines of actions that the services accept, leading each proposal to its final state."""

    def __init__(self, c: Consortium, now: datetime, seed: int, changes: float):
        self.c, self.now, self.seed, self.changes = c, now, seed, changes
        self._contents: dict[tuple[int, int], dict[str, Any]] = {}

    def _content(self, purpose: int, months: int) -> dict[str, Any]:
        """The form's fields but the title, validated once per variant."""
        key = (purpose, months)
        if key not in self._contents:
            self._contents[key] = ProposalContent.model_validate({
                "title": "x", **FILLED, "purpose": PURPOSES[purpose], "duration_months": months}).stored()
            del self._contents[key]["title"]
        return self._contents[key]

    def plan(self, k: int) -> Plan:
        plan = self._plan(k)
        limit = self.now - timedelta(minutes=10)
        latest = max(step.at for step in plan.steps)
        if latest > limit:  # every step in the past: the whole timeline moves back
            shift = latest - limit + timedelta(minutes=random.Random(k).uniform(1, 600))
            for step in plan.steps:
                step.at -= shift
        return plan

    def _plan(self, k: int) -> Plan:
        rnd = random.Random(self.seed * 1_000_003 + k)
        final = _final_state(rnd)
        chosen = sorted(rnd.sample(range(len(self.c.datasets)), rnd.choices([1, 2, 3], weights=[55, 30, 15])[0]),
                        key=lambda i: self.c.datasets[i][1])
        content = {"title": f"{TOPICS[k % len(TOPICS)]} ({k + 1})",
                   **self._content(rnd.randrange(len(PURPOSES)), rnd.choice([6, 12, 12, 12]))}
        plan = Plan(rnd.choice(self.c.researchers), chosen, content, final, [])
        recent = final in ("draft", "submitted", "returned", "under_review")
        t = self.now - timedelta(days=rnd.uniform(25, 60) if recent else rnd.uniform(60, 4 * 365),
                                 seconds=rnd.uniform(0, 86400))
        coordinator = rnd.choice(self.c.coordinators)

        def add(action: str, actor: str, gap_hours: tuple[float, float], **extra: Any) -> None:
            nonlocal t
            t += timedelta(hours=rnd.uniform(*gap_hours))
            plan.steps.append(Step(t, action, actor, **extra))

        add("create", plan.applicant, (0, 1))
        if final == "draft":
            return plan
        if final == "deleted":
            add("delete", plan.applicant, (1, 200))
            return plan
        add("submit", plan.applicant, (2, 300))
        if final == "returned" or rnd.random() < 0.12:
            add("return", coordinator, (2, 120), data={"comment": "Please describe the data security plan in more detail."})
            if final == "returned":
                return plan
            add("resubmit", plan.applicant, (24, 300), edit={"methods": FILLED["methods"] + " Revised after screening."})
        if final == "submitted" or (final == "withdrawn" and rnd.random() < 0.5):
            if final == "withdrawn":
                add("withdraw", plan.applicant, (24, 400))
            return plan
        if final == "under_review":  # sent recently enough that the reviews are open
            t = max(t, self.now - timedelta(days=rnd.uniform(1, 20)))
        add("send-to-review", coordinator, (2, 72))
        self._reviews(rnd, plan, final, t)
        if final == "withdrawn":
            last = max(step.at for step in plan.steps)
            plan.steps.append(Step(last + timedelta(hours=rnd.uniform(1, 100)), "withdraw", plan.applicant))
        return plan

    def _reviews(self, rnd: random.Random, plan: Plan, final: str, opened: datetime) -> None:
        seats = sorted({self.c.datasets[i][2] for i in plan.datasets})
        questioned = rnd.choice(seats) if rnd.random() < 0.08 else None
        stays_open = rnd.choice(seats) if final == "under_review" else None
        timelines = []
        for seat_index in seats:
            if final == "withdrawn":
                goal = "partial"
            elif final == "decided" or seat_index != stays_open and rnd.random() < 0.3:
                goal = "decided"
            else:
                goal = rnd.choices(["partial", "closed", "question"], weights=[80, 12, 8])[0]
            question = goal == "question" or (questioned == seat_index and goal != "question")
            timelines.append(self._review(rnd, plan, seat_index, goal, question, opened))
        merged = sorted((step for steps in timelines for step in steps), key=lambda step: step.at)
        if final == "under_review":
            merged = [step for step in merged if step.at < self.now - timedelta(minutes=10)]
        plan.steps.extend(merged)

    def _review(self, rnd: random.Random, plan: Plan, index: int, goal: str, question: bool,
                opened: datetime) -> list[Step]:
        seat = self.c.seats[index]
        roster = seat.roster
        recused = {rnd.choice(seat.members)} if rnd.random() < 0.05 else set()
        eligible = [s for s in roster if s not in recused]
        needed = rules.quorum_needed(seat.quorum, len(eligible))
        if goal == "decided":
            voters = rnd.sample(eligible, rnd.randint(min(needed, len(eligible)), max(needed, len(eligible) - 3)))
            if seat.rule == "chair-decides" and seat.chair not in voters and rnd.random() < 0.9:
                voters.append(seat.chair)
        else:
            voters = rnd.sample(eligible, rnd.randint(0, len(eligible) - 1))
        ballots = [(voter, _vote(rnd)) for voter in voters]
        shuffle = random.Random(rnd.random())  # its own stream: the rate of changes leaves the rest as it is
        for voter in voters:  # changed votes, after the first
            extra = 0
            while shuffle.random() < self.changes / (1 + self.changes) and extra < 20:
                extra += 1
            for _ in range(extra):
                first = next(i for i, (who, _) in enumerate(ballots) if who == voter)
                ballots.insert(shuffle.randint(first + 1, len(ballots)), (voter, _vote(shuffle)))
        conflict = {"comment": "I co-authored a paper with the applicant."}
        actions_: list[tuple[str, str, dict[str, Any]]] = [("declare-conflict", who, conflict) for who in recused]
        split = rnd.randint(0, len(ballots)) if question else len(ballots)
        actions_ += [("vote", who, data) for who, data in ballots[:split]]
        if question:
            actions_.append(("ask-question", rnd.choice(eligible), {"comment": rnd.choice(QUESTIONS)}))
            if goal != "question":
                actions_.append(("answer", plan.applicant, {"comment": "We will adjust for age, sex and trial."}))
                actions_ += [("vote", who, data) for who, data in ballots[split:]]
        closing = goal == "closed" or (goal == "decided" and rnd.random() < 0.6)
        if closing:
            actions_.append(("close-voting", "system" if rnd.random() < 0.2 else seat.chair, {}))
        if goal == "decided":
            actions_.append(("decide", seat.chair, self._decision(rnd, seat, ballots, recused)))
        span = timedelta(days=seat.days)
        steps, t = [], opened
        for n, (action, actor, data) in enumerate(actions_):
            if action == "close-voting" and actor == "system":  # `harmony requests tick`, after the deadline
                t = max(t, opened + span) + timedelta(minutes=rnd.uniform(1, 60))
            else:  # spread over the voting period
                left = max(span * 0.9 - (t - opened), timedelta(hours=2))
                t += left / (len(actions_) - n + 1) * rnd.uniform(0.3, 1.7)
            target = None if action == "answer" else index
            steps.append(Step(t, action, actor, target, data))
        return steps

    def _decision(self, rnd: random.Random, seat: Seat, ballots: list, recused: set[str]) -> dict[str, Any]:
        votes = {self.c.users[who]: data["vote"] for who, data in ballots}  # the last ballot of each voter
        found = rules.tally(seat.rule, votes, {self.c.users[s] for s in seat.roster},
                            {self.c.users[s] for s in recused}, seat.quorum, self.c.users[seat.chair])
        reason = "The committee weighed the consent and the study's value."
        if found.outcome is None:  # no outcome from the votes: the chair chooses, with a reason
            return {"outcome": rnd.choice([rules.APPROVED, rules.REJECTED]), "reason": reason}
        if rnd.random() < 0.05:  # an override
            return {"outcome": rules.REJECTED if found.outcome == rules.APPROVED else rules.APPROVED, "reason": reason}
        return {}


def calibrate(planner: Planner, count: int, target: int) -> tuple[list[Plan], float]:
    """Plans whose events add up to about `target`, by the rate of changed votes (secant steps)."""
    def total(rate: float) -> tuple[list[Plan], int]:
        planner.changes = rate
        plans = [planner.plan(k) for k in range(count)]
        return plans, sum(len(p.steps) for p in plans)

    low, (plans, low_events) = 0.0, total(0.0)
    if low_events >= target:
        return plans, 0.0
    high, (plans, high_events) = 1.0, total(1.0)
    rate = high
    for _ in range(6):
        if abs(high_events - target) <= target * 0.005 or high_events == low_events:
            break
        rate = max(0.0, min(50.0, high + (target - high_events) * (high - low) / (high_events - low_events)))
        low, low_events = high, high_events
        high, (plans, high_events) = rate, total(rate)
    return plans, rate


# --- running plans through the services -----------------------------------------------------


def run_with_services(app, c: Consortium, plans: list[Plan]) -> None:
    from harmony.access_requests.actions import SYSTEM, ActionInput

    with app.app_context():
        who = {subject: accounts.principal_for(accounts.find_user(subject, ISSUER))
               for subject in {*c.users} - {s for s in c.users if s.startswith("curator")}}
        for plan in plans:
            pids = [c.datasets[i][1] for i in plan.datasets]
            proposal_id, reviews = None, {}
            for step in plan.steps:
                actor = SYSTEM if step.actor == "system" else who[step.actor]
                with clock.frozen(step.at):
                    if step.action == "create":
                        proposal_id = proposals.create_draft(actor, ProposalContent.model_validate(plan.content), pids).id
                        continue
                    if step.edit:
                        proposals.update_draft(actor, proposal_id, step.edit)
                    if step.seat is None:
                        actions.act_on_proposal(actor, proposal_id, step.action, ActionInput(**step.data))
                    else:
                        actions.act_on_review(actor, reviews[step.seat], step.action, ActionInput(**step.data))
                if step.action == "send-to-review":
                    found = dict(db.session().execute(select(Review.committee_id, Review.id)
                                                      .where(Review.proposal_id == proposal_id)).all())
                    reviews = {i: found[seat.committee_id] for i, seat in enumerate(c.seats) if seat.committee_id in found}


# --- writing plans in bulk ------------------------------------------------------------------

TABLES = [Proposal, ProposalDataset, Review, Vote, Recusal, Question, ProposalEvent]


class BulkWriter:
    """The rows the services would write for each plan, with hash-chained events, by executemany."""

    def __init__(self, engine, c: Consortium):
        self.engine, self.c = engine, c
        with engine.connect() as connection:
            self.next = {model: (connection.scalar(select(func.max(model.id))) or 0) + 1 for model in TABLES}
        self.rows: dict[Any, list[dict]] = {model: [] for model in TABLES}
        self.events = 0

    def _id(self, model) -> int:
        self.next[model] += 1
        return self.next[model] - 1

    def write(self, plan: Plan) -> None:
        c = self.c
        pid = self._id(Proposal)
        proposal = {"id": pid, "applicant_id": c.users[plan.applicant], "state": None, "content": dict(plan.content),
                    "outcome": None, "returned_content": None, "submitted_at": None, "decided_at": None}
        links = {}
        for i in plan.datasets:
            links[i] = {"id": self._id(ProposalDataset), "proposal_id": pid, "dataset_id": c.datasets[i][0],
                        "committee_id": None, "outcome": None}
        reviews: dict[int, dict] = {}  # seat index -> review row
        votes: dict[int, dict[str, dict]] = {}  # review id -> subject -> vote row
        questions: dict[int, dict] = {}  # review id -> its open question
        recusals: dict[int, set[str]] = {}
        trail: list[dict] = []

        def snapshot() -> dict[str, Any]:
            return {**proposal["content"], "datasets": [c.datasets[i][1] for i in plan.datasets]}

        def move(step: Step, state: str, **values: Any) -> None:
            if state != proposal["state"]:
                proposal.update(state=state, state_changed_at=step.at)
            proposal.update(updated_at=step.at, **values)

        def tally(seat_index: int) -> rules.Tally:
            seat, review = c.seats[seat_index], reviews[seat_index]
            cast = {c.users[s]: row["vote"] for s, row in votes[review["id"]].items()}
            return rules.tally(seat.rule, cast, {c.users[s] for s in seat.roster},
                               {c.users[s] for s in recusals[review["id"]]}, seat.quorum, c.users[seat.chair])

        for step in plan.steps:
            before = proposal["state"]
            review = reviews.get(step.seat) if step.seat is not None else None
            review_before = review["state"] if review else None
            payload: dict[str, Any] = {}
            comment = step.data.get("comment")
            action = step.action
            if action == "create":
                proposal.update(state="draft", created_at=step.at, updated_at=step.at, state_changed_at=step.at)
                payload = {"datasets": [c.datasets[i][1] for i in plan.datasets]}
            elif action in ("submit", "resubmit"):
                if step.edit:
                    proposal["content"] = ProposalContent.model_validate({**proposal["content"], **step.edit}).stored()
                    proposal["updated_at"] = step.at
                if action == "resubmit":
                    payload["changed"] = [FIELD_LABELS.get(key, key) for key, _o, _n in
                                          diff(proposal["returned_content"] or {}, snapshot())]
                move(step, "submitted", submitted_at=step.at)
            elif action == "return":
                move(step, "returned", returned_content=snapshot())
            elif action == "delete":
                move(step, "deleted")
            elif action == "send-to-review":
                opened = []
                for seat_index in sorted({c.datasets[i][2] for i in plan.datasets},
                                         key=lambda s: c.seats[s].committee_id):
                    seat = c.seats[seat_index]
                    row = {"id": self._id(Review), "proposal_id": pid, "committee_id": seat.committee_id,
                           "state": VOTING, "deadline": step.at + timedelta(days=seat.days), "opened_at": step.at,
                           "closed_at": None, "computed_outcome": None, "outcome": None, "overridden": False,
                           "decision_reason": None, "decided_by": None, "decided_at": None, "quorum_notified": False}
                    reviews[seat_index], votes[row["id"]], recusals[row["id"]] = row, {}, set()
                    pids = []
                    for i in plan.datasets:
                        if c.datasets[i][2] == seat_index:
                            links[i]["committee_id"] = seat.committee_id
                            pids.append(c.datasets[i][1])
                    opened.append({"review": row["id"], "committee": seat.name, "datasets": pids,
                                   "deadline": row["deadline"].isoformat()})
                payload["reviews"] = opened
                move(step, "under_review")
            elif action == "answer":
                answered = []
                for seat_index in sorted(reviews, key=lambda s: reviews[s]["id"]):
                    row = reviews[seat_index]
                    if row["state"] == QUESTION:
                        question = questions.pop(row["id"], None)
                        if question:
                            question.update(answer=comment, answered_by=c.users[step.actor], answered_at=step.at)
                        row["state"] = VOTING
                        answered.append(row["id"])
                payload["reviews"] = answered
            elif action == "withdraw":
                for row in reviews.values():
                    if row["state"] not in (REVIEW_DECIDED, CANCELLED):
                        row["state"] = CANCELLED
                move(step, "withdrawn")
            elif action == "declare-conflict":
                recusals[review["id"]].add(step.actor)
                self.rows[Recusal].append({"id": self._id(Recusal), "review_id": review["id"],
                                           "user_id": c.users[step.actor], "reason": comment, "declared_at": step.at})
            elif action == "vote":
                present = votes[review["id"]].get(step.actor)
                payload.update(vote=step.data["vote"], previous=present["vote"] if present else None)
                if present is None:
                    votes[review["id"]][step.actor] = {"id": self._id(Vote), "review_id": review["id"],
                                                       "user_id": c.users[step.actor], "vote": step.data["vote"],
                                                       "comment": comment, "cast_at": step.at}
                else:
                    present.update(vote=step.data["vote"], comment=comment, cast_at=step.at)
                if tally(step.seat).quorum_met:
                    review["quorum_notified"] = True
            elif action == "ask-question":
                questions[review["id"]] = row = {"id": self._id(Question), "review_id": review["id"], "text": comment,
                                                 "asked_by": c.users[step.actor], "asked_at": step.at, "answer": None,
                                                 "answered_by": None, "answered_at": None}
                self.rows[Question].append(row)
                review["state"] = QUESTION
            elif action == "close-voting":
                found = tally(step.seat)
                review.update(state=CLOSED, closed_at=step.at, computed_outcome=found.outcome)
                payload.update(tally=rules.describe(found), computed_outcome=found.outcome)
            elif action == "decide":
                found = tally(step.seat)
                outcome = step.data.get("outcome") or found.outcome
                reason = step.data.get("reason") or comment
                overridden = outcome != found.outcome
                review.update(state=REVIEW_DECIDED, closed_at=review["closed_at"] or step.at,
                              computed_outcome=found.outcome, outcome=outcome, overridden=overridden,
                              decision_reason=reason, decided_by=c.users[step.actor], decided_at=step.at)
                for i in plan.datasets:
                    if c.datasets[i][2] == step.seat:
                        links[i]["outcome"] = outcome
                conditions = [row["comment"] for row in votes[review["id"]].values()
                              if row["vote"] == "approve-with-conditions" and row["comment"] is not None]
                payload.update(outcome=outcome, computed_outcome=found.outcome, overridden=overridden, reason=reason,
                               tally=rules.describe(found), conditions=conditions)
                live = [row for row in reviews.values() if row["state"] != CANCELLED]
                if all(row["state"] == REVIEW_DECIDED for row in live):
                    outcomes = {row["outcome"] for row in live}
                    combined = (rules.APPROVED if outcomes == {rules.APPROVED} else
                                rules.REJECTED if outcomes == {rules.REJECTED} else "partially_approved")
                    payload["proposal"] = {"from": proposal["state"], "to": "decided", "outcome": combined}
                    move(step, "decided", outcome=combined, decided_at=step.at)
            else:
                raise ValueError(f"no bulk writer for {action}")
            if step.seat is not None:
                before, after = review_before, review["state"]
            else:
                after = proposal["state"]
            system = step.actor == "system"
            trail.append(self._event(pid, len(trail) + 1, trail[-1]["hash"] if trail else audit.GENESIS,
                                     review_id=review["id"] if review else None,
                                     actor_id=None if system else c.users[step.actor],
                                     actor_name=actions.SYSTEM.display_name if system else c.names[step.actor],
                                     action=action, at=step.at, from_state=before, to_state=after,
                                     comment=comment, payload=payload))
        proposal["event_seq"] = len(trail)
        self.rows[Proposal].append(proposal)
        self.rows[ProposalDataset].extend(links.values())
        self.rows[Review].extend(reviews.values())
        for by_voter in votes.values():
            self.rows[Vote].extend(by_voter.values())
        self.rows[ProposalEvent].extend(trail)
        self.events += len(trail)

    def _event(self, proposal_id: int, seq: int, prev: str, **values: Any) -> dict[str, Any]:
        values["payload"] = json.loads(json.dumps(values["payload"]))
        row = {"id": self._id(ProposalEvent), "proposal_id": proposal_id, "seq": seq, "prev_hash": prev, **values}
        row["hash"] = audit.event_hash(ProposalEvent(**{**row, "hash": ""}))
        return row

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for model in TABLES:
                if self.rows[model]:
                    connection.execute(insert(model.__table__), self.rows[model])
                    self.rows[model] = []

    def finish(self) -> None:
        self.flush()
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as connection:
                for model in TABLES:
                    name = model.__tablename__
                    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                            f"(SELECT max(id) FROM {name}))"))
                connection.execute(text("ANALYZE"))


# --- seeding ---------------------------------------------------------------------------------


def seed(app, url: str, count: int, target_events: int, via_services: int) -> tuple[Consortium, dict[str, Any]]:
    found: dict[str, Any] = {}
    started = time.perf_counter()
    c = build_consortium(app)
    found["consortium_s"] = round(time.perf_counter() - started, 1)
    print(f"  consortium through the services: {len(c.seats)} committees, {len(c.datasets)} datasets, "
          f"{len(c.users)} people in {found['consortium_s']} s")
    started = time.perf_counter()
    planner = Planner(c, datetime.now(UTC) - timedelta(hours=1), seed=7, changes=0.0)
    plans, rate = calibrate(planner, count, target_events)
    planned = sum(len(p.steps) for p in plans)
    print(f"  planned {count:,} proposals with {planned:,} events (changed-vote rate {rate:.2f}) "
          f"in {time.perf_counter() - started:.1f} s")
    via_services = min(via_services, count)
    started = time.perf_counter()
    run_with_services(app, c, plans[:via_services])
    seconds = time.perf_counter() - started
    service_events = sum(len(p.steps) for p in plans[:via_services])
    found.update(via_services=via_services, via_services_events=service_events, via_services_s=round(seconds, 1))
    if via_services:
        rate = service_events / seconds
        print(f"  {via_services} proposals ({service_events:,} actions) through the services in {seconds:.1f} s = "
              f"{rate:.0f} actions/s; all {planned:,} would take ~{planned / rate / 60:.0f} min")
    engine = db.create_engine(url)
    started = time.perf_counter()
    writer = BulkWriter(engine, c)
    for n, plan in enumerate(plans[via_services:], start=1):
        writer.write(plan)
        if n % 1000 == 0:
            writer.flush()
    writer.finish()
    found.update(bulk=count - via_services, bulk_events=writer.events, bulk_s=round(time.perf_counter() - started, 1))
    print(f"  {count - via_services:,} proposals ({writer.events:,} events) written in bulk "
          f"(rows as the services write them, events hashed by audit.event_hash) in {found['bulk_s']} s")
    with engine.connect() as connection:
        found["proposals"] = connection.scalar(select(func.count()).select_from(Proposal))
        found["events"] = connection.scalar(select(func.count()).select_from(ProposalEvent))
        found["states"] = dict(connection.execute(select(Proposal.state, func.count()).group_by(Proposal.state)).all())
        found["review_states"] = dict(connection.execute(select(Review.state, func.count()).group_by(Review.state)).all())
    engine.dispose()
    print(f"  in the database: {found['proposals']:,} proposals, {found['events']:,} events; proposals by state "
          + ", ".join(f"{k} {v}" for k, v in sorted(found["states"].items()))
          + "; reviews by state " + ", ".join(f"{k} {v}" for k, v in sorted(found["review_states"].items())))
    return c, found


# --- measuring in-process ---------------------------------------------------------------------


class StatementCounter:
    """SQL statements, and the time spent waiting for them (driver and database), per request."""

    def __init__(self, engine):
        self.count, self.seconds, self._started = 0, 0.0, 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def _before(self, *_args: Any) -> None:
        self.count += 1
        self._started = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self.seconds += time.perf_counter() - self._started


def _signed_in_client(app, c: Consortium, subject: str):
    client = app.test_client()
    with app.app_context():
        key = accounts.sign_in(ISSUER, subject, {"name": c.names[subject], "email": f"{subject}@bench.example"}, None)
    with client.session_transaction() as session:
        session[SESSION_KEY] = key
        session.permanent = True
    return client


def _measure(client, counter: StatementCounter, label: str, calls: list[tuple[str, str, dict]]) -> dict[str, Any]:
    samples, queries, sql, sizes = [], [], [], []
    for n, (method, path, options) in enumerate(calls):
        counter.reset()
        started = time.perf_counter()
        response = client.open(path, method=method, **options)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{label}: {method} {path} answered {response.status_code}: "
                             f"{response.get_data(as_text=True)[:400]}")
        if n >= WARM_UP:
            samples.append(elapsed)
            queries.append(counter.count)
            sql.append(counter.seconds * 1000)
            sizes.append(len(response.data))
    found = figures(samples, queries)
    found["sql_ms"] = round(percentile(sql, .5), 1)
    found["kb"] = round(percentile(sizes, .5) / 1024, 1)
    flag = "" if found["p95"] <= TARGET_MS else "   over 100 ms"
    print(f"  {label:<40} p50 {found['p50']:6.1f}  p95 {found['p95']:6.1f}  max {found['max']:6.1f} ms  "
          f"{found['queries']:3d} statements ({found['sql_ms']:5.1f} ms in SQL)  {found['kb']:6.1f} kB{flag}")
    return found


def profile(client, label: str, calls: list[tuple[str, str, dict]]) -> str:
    """pyinstrument's call tree of some more requests of one endpoint (`--profile`)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "(--profile needs pyinstrument: .venv/bin/pip install pyinstrument)"
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for method, path, options in calls:
        client.open(path, method=method, **options)
    profiler.stop()
    tree = profiler.output_text(unicode=False, color=False)
    print(f"\n  profile of {len(calls)} requests: {label}\n" + "\n".join("    " + line for line in tree.splitlines()[:80]))
    return tree


def measure(app, url: str, c: Consortium, count: int, reserved: set[int], profiling: bool) -> dict[str, Any]:
    rnd = random.Random(11)
    seat_index = 2  # not one of the committees the concurrency run uses
    seat = c.seats[seat_index]
    member = seat.members[0]
    engine = db.create_engine(url)
    with engine.connect() as connection:
        open_reviews = connection.scalar(select(func.count()).select_from(Review).where(
            Review.committee_id == seat.committee_id, Review.state.not_in((REVIEW_DECIDED, CANCELLED))))
        all_reviews = connection.scalar(select(func.count()).select_from(Review)
                                        .where(Review.committee_id == seat.committee_id))
        reviewed = connection.scalars(select(Review.proposal_id).where(Review.committee_id == seat.committee_id)
                                      .order_by(Review.id)).all()
        review_ids = connection.scalars(select(Review.id).where(Review.committee_id == seat.committee_id)
                                        .order_by(Review.id)).all()
        fresh = _fresh_ballots(connection, c, reserved)
    engine.dispose()
    print(f"  {seat.name}: {open_reviews} open reviews ({all_reviews} in all) in {member}'s queue; "
          f"{len(fresh)} ballots not yet cast on open reviews of the other committees")
    api = {"headers": {"Authorization": f"Bearer {c.tokens[member]}"}}
    html = _signed_in_client(app, c, member)
    client = app.test_client()
    with app.app_context():
        counter = StatementCounter(db.engine())
    runs = count + WARM_UP
    some = max(10, count // 5) + WARM_UP
    results: dict[str, Any] = {"queue_open": open_reviews, "queue_all": all_reviews}
    picks = [rnd.choice(reviewed) for _ in range(runs)]
    votes = []
    for n in range(runs + 30):  # fresh ballots first; when they run out, changed votes on the same reviews
        subject, review_id = fresh[n % len(fresh)]
        votes.append(("POST", f"/api/v1/reviews/{review_id}/actions/vote",
                      {"json": {"vote": "approve" if n % 2 == 0 else "reject"},
                       "headers": {"Authorization": f"Bearer {c.tokens[subject]}"}}))
    endpoints = [  # key, label, client, calls
        ("GET /api/v1/ (baseline)", "GET /api/v1/ (baseline, no database)", client, [("GET", "/api/v1/", {})] * runs),
        ("GET /healthz (baseline)", "GET /healthz (baseline, one query)", client, [("GET", "/healthz", {})] * runs),
        ("GET /reviews", "GET /reviews (HTML)", html, [("GET", "/reviews", {})] * runs),
        ("GET /api/v1/reviews", "GET /api/v1/reviews", html, [("GET", "/api/v1/reviews", api)] * runs),
        ("GET /reviews?all=1", f"GET /reviews?all=1 (HTML, n={some - WARM_UP})", html,
         [("GET", "/reviews?all=1", {})] * some),
        ("GET /api/v1/reviews?all=1", f"GET /api/v1/reviews?all=1 (n={some - WARM_UP})", html,
         [("GET", "/api/v1/reviews?all=1", api)] * some),
        ("GET /requests/<id>", "GET /requests/<id> (HTML)", html, [("GET", f"/requests/{p}", {}) for p in picks]),
        ("GET /api/v1/requests/<id>", "GET /api/v1/requests/<id>", html,
         [("GET", f"/api/v1/requests/{p}", api) for p in picks]),
        ("GET /reviews/<id>", "GET /reviews/<id> (HTML)", html,
         [("GET", f"/reviews/{rnd.choice(review_ids)}", {}) for _ in range(runs)]),
        ("POST vote", "POST /api/v1/reviews/<id>/actions/vote", client, votes[:runs]),
    ]
    for key, label, user, calls in endpoints:
        results[key] = _measure(user, counter, label, calls)
    results["POST vote"]["fresh"] = min(runs, len(fresh))
    if profiling:  # the targeted endpoints over the target, else the slowest of them
        over = [key for key in TARGETED_ORDER if results[key]["p95"] > TARGET_MS]
        chosen = over or [max(TARGETED_ORDER, key=lambda key: results[key]["p95"])]
        results["profiles"] = {}
        for key, label, user, calls in endpoints:
            if key in chosen:
                more = votes[runs:] if key == "POST vote" else calls[WARM_UP:WARM_UP + 30]
                results["profiles"][key] = profile(user, label, more)
    with app.app_context():
        db.engine().dispose()
    return results


def _fresh_ballots(connection, c: Consortium, reserved: set[int]) -> list[tuple[str, int]]:
    """(member, review) of open reviews where the member has neither voted nor declared a conflict."""
    seats = {seat.committee_id: seat for seat in c.seats}
    rows = connection.execute(select(Review.id, Review.committee_id).where(Review.state == VOTING)
                              .order_by(Review.id)).all()
    cast = set(connection.execute(select(Vote.review_id, Vote.user_id)).all())
    cast |= set(connection.execute(select(Recusal.review_id, Recusal.user_id)).all())
    found = []
    for review_id, committee_id in rows:
        if review_id in reserved or committee_id in (c.seats[0].committee_id, c.seats[1].committee_id):
            continue
        for subject in seats[committee_id].roster:
            if (review_id, c.users[subject]) not in cast:
                found.append((subject, review_id))
    random.Random(5).shuffle(found)
    return found


# --- concurrency through gunicorn ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(url: str, folder: Path) -> dict[str, str]:
    return {**os.environ, "HARMONY_DATABASE_URL": url, "HARMONY_SECRET_KEY": SECRET_KEY,
            "HARMONY_SEARCH_INDEX_DIR": str(folder / "index"), "HARMONY_ATTACHMENT_DIR": str(folder / "attachments"),
            "HARMONY_LOG_LEVEL": "WARNING", "HARMONY_BASE_URL": "http://127.0.0.1"}


def _event_counts(url: str) -> Counter:
    engine = db.create_engine(url)
    with engine.connect() as connection:
        found = Counter(dict(connection.execute(select(ProposalEvent.action, func.count())
                                                .group_by(ProposalEvent.action)).all()))
    engine.dispose()
    return found


def stored_votes_follow_the_trail(url: str, review_ids: list[int]) -> tuple[int, int]:
    """Each stored vote is the last vote event of its voter, and each decided review has one decide
    event: (reviews checked, reviews that disagree)."""
    engine = db.create_engine(url)
    wrong = 0
    with engine.connect() as connection:
        for review_id in review_ids:
            trail = connection.execute(select(ProposalEvent.action, ProposalEvent.actor_id, ProposalEvent.payload)
                                       .where(ProposalEvent.review_id == review_id).order_by(ProposalEvent.seq)).all()
            last = {actor: payload["vote"] for action, actor, payload in trail if action == "vote"}
            stored = dict(connection.execute(select(Vote.user_id, Vote.vote).where(Vote.review_id == review_id)).all())
            state = connection.scalar(select(Review.state).where(Review.id == review_id))
            decides = sum(1 for action, _a, _p in trail if action == "decide")
            wrong += last != stored or decides != (1 if state == REVIEW_DECIDED else 0)
    engine.dispose()
    return len(review_ids), wrong


def reserve_pool(url: str, c: Consortium, size: int) -> dict[int, list[int]]:
    """Open reviews (voting, nobody recused) of the first two committees, for the concurrency run;
    reviews of proposals that both committees review first, so that their actions contend for one lock."""
    engine = db.create_engine(url)
    pool = {}
    with engine.connect() as connection:
        recused = set(connection.scalars(select(Recusal.review_id)))
        rows = connection.execute(select(Review.id, Review.proposal_id, Review.committee_id)
                                  .where(Review.state == VOTING).order_by(Review.id)).all()
        by_proposal = Counter(p for _r, p, committee_id in rows
                              if committee_id in (c.seats[0].committee_id, c.seats[1].committee_id))
        for index in (0, 1):
            mine = [(r, p) for r, p, committee_id in rows if committee_id == c.seats[index].committee_id
                    and r not in recused]
            mine.sort(key=lambda item: (by_proposal[item[1]] < 2, item[0]))
            pool[index] = [r for r, _p in mine[:size]]
    engine.dispose()
    return pool


def concurrency(url: str, folder: Path, c: Consortium, pool: dict[int, list[int]], seconds: float,
                clients: int = 8) -> dict[str, Any]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _environment(url, folder)
    log = open(folder / "gunicorn.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
                               "--timeout", "120", "--log-level", "warning", "harmony.wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(server, base, folder)
        before = _event_counts(url)
        people = []
        for index in (0, 1):
            seat = c.seats[index]
            people += [(seat.chair, index, True)] + [(m, index, False) for m in seat.members[: clients // 2 - 1]]
        people = people[:clients]
        results: list[dict[str, Any]] = [{} for _ in people]
        stop_at = time.monotonic() + seconds
        threads = [threading.Thread(target=_client, args=(base, c.tokens[subject], pool[index], chair, stop_at,
                                                          random.Random(n), results[n]))
                   for n, (subject, index, chair) in enumerate(people)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 180)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    after = _event_counts(url)
    checked, disagree = stored_votes_follow_the_trail(url, [r for ids in pool.values() for r in ids])
    statuses: Counter = Counter()
    by_action: Counter = Counter()
    latencies: list[float] = []
    errors: list[str] = []
    for found in results:
        statuses.update(found.get("statuses", {}))
        by_action.update(found.get("ok", {}))
        latencies += found.get("latencies", [])
        errors += found.get("errors", [])
    oks = statuses.get(200, 0)
    conflicts = statuses.get(409, 0)
    total = sum(statuses.values())
    added = {action: after[action] - before[action] for action in set(after) | set(before)
             if after[action] != before[action]}
    started = time.perf_counter()
    verify = subprocess.run([sys.executable, "-m", "harmony", "audit", "verify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=3600)
    verify_s = time.perf_counter() - started
    report = {
        "clients": len(people), "seconds": round(elapsed, 1), "pool": {c.seats[i].name: len(v) for i, v in pool.items()},
        "requests": total, "per_second": round(total / elapsed, 1), "ok": oks, "conflicts": conflicts,
        "errors": total - oks - conflicts, "error_samples": errors[:5],
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "ok_by_action": dict(by_action), "events_before": sum(before.values()), "events_after": sum(after.values()),
        "events_added_by_action": added,
        "latency": figures(latencies) if latencies else None,
        "reviews_checked": checked, "reviews_disagreeing": disagree,
        "verify_exit": verify.returncode, "verify_output": (verify.stdout + verify.stderr).strip()[-500:],
        "verify_s": round(verify_s, 1),
    }
    report["events_match"] = (report["events_after"] - report["events_before"] == oks and added == {
        action: n for action, n in by_action.items() if n})
    return report


def _wait_ready(server: subprocess.Popen, base: str, folder: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped: {(folder / 'gunicorn.log').read_text()[-2000:]}")
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz within 90 s")


def _client(base: str, token: str, pool: list[int], chair: bool, stop_at: float, rnd: random.Random,
            out: dict[str, Any]) -> None:
    """One person: votes (and changes them); a chair also closes voting and decides, now and then."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    statuses: Counter = Counter()
    ok: Counter = Counter()
    latencies, errors = [], []
    for _ in range(1_000_000):  # bounded; the clock ends it
        if time.monotonic() >= stop_at or len(errors) > 50:
            break
        review_id = rnd.choice(pool)
        draw = rnd.random()
        if chair and draw < 0.02:
            action, body = "decide", {"outcome": rnd.choice(["approved", "rejected"]),
                                      "reason": "Decided in the benchmark, after discussion in the meeting."}
        elif chair and draw < 0.05:
            action, body = "close-voting", {}
        else:
            action, body = "vote", _vote(rnd)
        started = time.perf_counter()
        try:
            response = http.post(f"{base}/api/v1/reviews/{review_id}/actions/{action}", json=body, timeout=60)
        except requests.RequestException as error:
            statuses["exception"] += 1
            errors.append(f"{action} {review_id}: {type(error).__name__}: {error}")
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
        if response.status_code == 200:
            ok[action] += 1
        elif response.status_code != 409:
            errors.append(f"{action} {review_id}: {response.status_code} {response.text[:300]}")
    http.close()
    out.update(statuses=statuses, ok=ok, latencies=latencies, errors=errors)


# --- the run ---------------------------------------------------------------------------------


def run(backend: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n{backend}: {url.split('@')[-1] if '@' in url else url}")
    load = os.getloadavg()
    migrate.upgrade(url)
    engine = db.create_engine(url)
    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Proposal)):
            raise SystemExit(f"{backend}: the database holds proposals already; give an empty one")
    engine.dispose()
    app = create_app({"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "BASE_URL": "http://harmony.bench",
                      "SEARCH_INDEX_DIR": str(folder / "index"), "ATTACHMENT_DIR": str(folder / "attachments"),
                      "LOG_LEVEL": "WARNING"})
    c, seeded = seed(app, url, args.proposals, args.events, args.via_services)
    pool = reserve_pool(url, c, 30)
    print(f"  measuring in-process, {args.requests} requests each (after {WARM_UP} warm-up requests)")
    measured = measure(app, url, c, args.requests, {r for ids in pool.values() for r in ids}, args.profile)
    with app.app_context():
        db.engine().dispose()
    print(f"  8 clients through gunicorn (4 workers) for {args.seconds} s on {sum(map(len, pool.values()))} open reviews")
    together = concurrency(url, folder, c, pool, args.seconds)
    done = together["ok_by_action"]
    print(f"  {together['requests']} requests ({together['per_second']}/s): {together['ok']} × 200 ({done.get('vote', 0)} "
          f"votes, {done.get('close-voting', 0)} closings, {done.get('decide', 0)} decisions), "
          f"{together['conflicts']} × 409, {together['errors']} errors; events {together['events_before']:,} -> "
          f"{together['events_after']:,} (+{together['events_after'] - together['events_before']}, "
          f"{'matches' if together['events_match'] else 'DOES NOT match'} the 200s by action); stored votes "
          f"and decisions follow the trail in {together['reviews_checked'] - together['reviews_disagreeing']} of "
          f"{together['reviews_checked']} reviews; "
          f"audit verify exit {together['verify_exit']} in {together['verify_s']} s")
    for sample in together["error_samples"]:
        print(f"    error: {sample}")
    result = {"backend": backend, "proposals": args.proposals, "target_events": args.events, "seeded": seeded,
              "measured": measured, "concurrency": together, "machine": {"cpus": os.cpu_count(),
                                                                       "load_at_start": load, "load_at_end": os.getloadavg()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"workflow-{backend}.json").write_text(json.dumps(result, indent=2, default=str))
    return result


ROWS = ["GET /api/v1/ (baseline)", "GET /healthz (baseline)", "GET /reviews", "GET /api/v1/reviews",
        "GET /requests/<id>", "GET /api/v1/requests/<id>", "POST vote", "GET /reviews/<id>", "GET /reviews?all=1",
        "GET /api/v1/reviews?all=1"]
TARGETED_ORDER = ["GET /reviews", "GET /api/v1/reviews", "GET /requests/<id>", "GET /api/v1/requests/<id>", "POST vote"]
TARGETED = set(TARGETED_ORDER)


def table(results: list[dict[str, Any]]) -> None:
    print(f"\nms: p50 / p95 / max (SQL statements per request); target p95 <= {TARGET_MS:.0f} ms on the rows marked *")
    print(f"  {'':<30}" + "".join(f"{r['backend'] + ' (' + str(r['seeded']['events']) + ' events)':>38}"
                                  for r in results))
    for row in ROWS:
        line = f"  {('* ' if row in TARGETED else '  ') + row:<30}"
        for r in results:
            m = r["measured"][row]
            cell = f"{m['p50']:.1f} / {m['p95']:.1f} / {m['max']:.1f} ({m['queries']})"
            line += f"{cell + (' !' if row in TARGETED and m['p95'] > TARGET_MS else '  '):>38}"
        print(line)
    queue = "  " + f"{'  queue: open / all reviews':<30}" + "".join(
        f"{str(r['measured']['queue_open']) + ' / ' + str(r['measured']['queue_all']):>36}  " for r in results)
    print(queue)
    for label in ("requests (per s)", "200 / 409 / errors", "200s: votes/closings/decisions", "events before -> after",
                  "events == 200s by action", "votes, decisions == trail", "harmony audit verify",
                  "latency p50 / p95 / max"):
        line = f"  {'  ' + label:<30}"
        for r in results:
            k = r["concurrency"]
            cell = {
                "requests (per s)": f"{k['requests']} ({k['per_second']}/s, {k['clients']} clients, {k['seconds']} s)",
                "200 / 409 / errors": f"{k['ok']} / {k['conflicts']} / {k['errors']}",
                "200s: votes/closings/decisions": "/".join(str(k["ok_by_action"].get(a, 0))
                                                          for a in ("vote", "close-voting", "decide")),
                "events before -> after": f"{k['events_before']} -> {k['events_after']}",
                "events == 200s by action": "yes" if k["events_match"] else "NO",
                "votes, decisions == trail": f"{k['reviews_checked'] - k['reviews_disagreeing']} of {k['reviews_checked']}"
                                             " reviews",
                "harmony audit verify": f"exit {k['verify_exit']} ({k['verify_s']} s)",
                "latency p50 / p95 / max": (f"{k['latency']['p50']} / {k['latency']['p95']} / {k['latency']['max']}"
                                            if k["latency"] else "-"),
            }[label]
            line += f"{cell:>36}  "
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--proposals", type=int, default=None, help="default 10000 (--quick: 1000)")
    parser.add_argument("--events", type=int, default=None, help="default 10 per proposal (100,000)")
    parser.add_argument("--via-services", type=int, default=None,
                        help="proposals run through the services, the rest bulk-written (default 300; --quick: 40)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per endpoint")
    parser.add_argument("--seconds", type=float, default=None, help="concurrency run (default 60; --quick: 10)")
    parser.add_argument("--quick", action="store_true", help="1000 proposals, 10 s of concurrency: a smoke run")
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of a throwaway server")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the SQLite database and logs here")
    parser.add_argument("--profile", action="store_true",
                        help="pyinstrument call trees of the targeted endpoints over 100 ms (else of the slowest)")
    args = parser.parse_args()
    args.proposals = args.proposals or (1000 if args.quick else 10_000)
    args.events = args.events or 10 * args.proposals
    args.via_services = args.via_services if args.via_services is not None else (40 if args.quick else 300)
    args.seconds = args.seconds or (10 if args.quick else 60)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"{args.proposals:,} proposals, ~{args.events:,} events; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    table(on_backends(backends, args, run, "workflow-bench-", "harmony_workflow_bench"))


def on_backends(backends: list[str], args: argparse.Namespace, run, prefix: str, database: str) -> list[dict[str, Any]]:
    """`run(backend, database_url, folder, args)` on each backend: SQLite in a scratch folder, PostgreSQL at
    `--database-url` or on a throwaway server started from the machine's programs."""
    results = []
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        workdir = args.workdir or Path(scratch)
        for backend in backends:
            folder = workdir / backend
            folder.mkdir(parents=True, exist_ok=True)
            if backend == "sqlite":
                results.append(run(backend, f"sqlite:///{folder / 'harmony.db'}", folder, args))
            elif args.database_url:
                from harmony.config import normalise_database_url

                results.append(run(backend, normalise_database_url(args.database_url), folder, args))
            else:
                results.append(_with_postgres(folder, args, run, database))
    return results


def _with_postgres(folder: Path, args: argparse.Namespace, run, database: str) -> dict[str, Any]:
    from tests.postgres import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server programs (initdb, pg_ctl) not found; give --database-url")
    server = PostgresServer.start(bindir)
    try:
        return run("postgresql", server.create_database(database), folder, args)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""Access after the decision at scale: entitlements and their CSV, GA4GH passports, the JWKS and
`harmony requests tick`, over 2,000 active proposals holding 20,000 grants, on SQLite and PostgreSQL.

The consortium is workflow_bench's (`build_consortium`, through the services: 6 committees, each with a data
access agreement, 12 study groups, 48 published datasets, coordinators, an admin, researchers), with more
researchers (`--people`, default 2,000 in all) and a data platform with its service token. Then:

- `--via-workflow` proposals (default 10) go the whole way through the JSON API and the Flask test client, as
  tests/access_requests/conftest.py `approve` does: a draft, co-applicants invited (and joining through the
  link of their invitation mail), submit, send to review, the chair and every member vote approve, the chair
  decides, each person accepts the agreement; the last acceptance starts the grants (`grants.start_grants`),
  with notices, outbox mails and the audit trail.
- the rest (to `--proposals` active proposals, default 2,000) are bulk-inserted: the rows those steps write
  (proposal, proposal_dataset, co_applicant, review decided "approved" with the chair's and three members'
  votes, agreement_acceptance, access_grant) and a hash-chained audit trail per proposal (create, invite, join,
  submit, send-to-review, decide, accept-agreement, and remove-co-applicant or revoke where grants ended early),
  so `harmony audit verify` checks them; they have no notices or mails. A grant is person x approved dataset;
  the count is made exactly `--grants` (default 20,000). About 2% ended early (a co-applicant removed, one
  dataset revoked), so `active=false` finds some. researcher0 and researcher1 hold exactly 50 live grants each,
  researcher2 10, researcher4 none. Every live grant ends 60 days or more from now except `--due` grants
  (default 1,000, whole proposals) that end 32 to 34 days from now: a tick now has nothing to do; a tick with
  the clock 5 days on (`clock.frozen`, as `tick --now` does) sends their 30-day reminders.

Measured in-process through the Flask test client, whole requests (p50/p95/max over `--requests`, after 3
warm-up requests; SQL statements per request and the time inside cursor.execute, by engine listeners), against
baselines measured in the same run: GET /healthz (one query) and GET /api/v1/me (a personal token; the ratios
are p50 / p50 of /api/v1/me, to compare across machines). The endpoints: GET /api/v1/entitlements (a user's own;
an admin's pages of 100 at random offsets; with `dataset` and `active` filters; `user=`; the platform's service
token), the CSV of every grant (`Accept: text/csv`, consumed chunk by chunk: time, time to the first chunk,
and the peak of Python allocations by tracemalloc in a separate run, against the size of the body: it should
stream), GET /api/v1/permissions/<subject> (50 RS256 visas, themself and by the service token, against a
passport with no visa: the difference / 50 is the cost of a visa, also timed directly on `visas.claims` +
`visas.sign`), GET /.well-known/jwks.json, and `harmony requests tick` through app.test_cli_runner (`--tick-runs`
each: nothing due; then 5 days on, `--due` grants due for their reminder, the sent reminders, notices and mails
deleted after each run so the next sends them again; a tick after everything was sent costs what the first does).

For each endpoint (and tick) one more run is recorded statement by statement with the harmony frames that ran
it: a statement run 5 or more times in one request is printed with those frames' file:line (an N+1, or batches
by design), and so is the plan of the costliest statement by its total time (SQLite EXPLAIN QUERY PLAN,
PostgreSQL EXPLAIN ANALYZE). On SQLite rows are read after execute, so the time "in SQL" is a lower bound.

    .venv/bin/python benchmarks/grants_bench.py [--backend sqlite|postgresql|both] [--proposals 2000]
        [--grants 20000] [--due 1000] [--people 2000] [--via-workflow 10] [--requests 60] [--csv-runs 4]
        [--tick-runs 2] [--quick] [--database-url postgresql://…] [--workdir DIR] [--results DIR]

SQLite by default. `--backend postgresql` starts a throwaway server from the machine's server programs
(tests/postgres.py) unless `--database-url` (or `--postgres`) names an empty database. Results: a table at
the end and <--results, default benchmarks/results>/grants-<backend>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import traceback
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, event, func, insert, select, text  # noqa: E402

from benchmarks.workflow_bench import (  # noqa: E402
    FILLED,
    ISSUER,
    PURPOSES,
    SECRET_KEY,
    WARM_UP,
    Consortium,
    build_consortium,
    on_backends,
)
from harmony import clock, db, migrate  # noqa: E402
from harmony.access_requests import audit, co_applicants  # noqa: E402
from harmony.access_requests.content import ProposalContent  # noqa: E402
from harmony.access_requests.grants import add_months  # noqa: E402
from harmony.access_requests.models import (  # noqa: E402
    ACTIVE,
    APPROVED,
    AgreementAcceptance,
    CoApplicant,
    Grant,
    Proposal,
    ProposalDataset,
    ProposalEvent,
    Review,
    SentReminder,
    Vote,
)
from harmony.accounts import services as accounts  # noqa: E402
from harmony.accounts.services import COMMAND_LINE, TokenCreate  # noqa: E402
from harmony.app import create_app  # noqa: E402
from harmony.notifications.models import Notice, OutboxMail  # noqa: E402
from harmony.passports import keys, visas  # noqa: E402
from harmony.platforms import tokens as platform_tokens  # noqa: E402

BASE_URL = "http://harmony.bench"
DAY = timedelta(days=1)
REPEATED = 5  # one statement this often in one request: reported as a possible N+1
HARMONY = str(ROOT / "harmony") + os.sep
SKIP_FRAMES = (str(ROOT / "harmony" / "db.py"),)
HEAVY, TYPICAL, EMPTY = ("researcher0", "researcher1"), "researcher2", "researcher4"
SPECIAL_TARGETS = {"researcher0": 50, "researcher1": 50, "researcher2": 10}
SPECIALS = ("researcher0", "researcher1", "researcher2", "researcher3", "researcher4")  # kept out of the crowd
TITLES = ["Relapse after transplantation in AML", "Minimal residual disease in paediatric ALL",
          "Long-term toxicity of lenalidomide maintenance", "Early PET response in Hodgkin lymphoma",
          "TP53 mutations across MDS trials", "Cardiotoxicity of anthracyclines in DLBCL",
          "Treatment-free remission in CML", "Frailty scores in myeloma trials"]
RESULTS = ROOT / "benchmarks" / "results"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- SQL statements: counted per request, or recorded one by one with the code that ran them ----------


class Statements:
    """Engine listeners: the statements of a request and the time inside cursor.execute; when `recording`,
    also each statement's text, parameters and time, and for the first STACKS runs of each text the innermost
    harmony frames that ran it (few enough that a recorded run costs about what an unrecorded one does)."""

    STACKS = 20

    def __init__(self, engine):
        self.count, self.seconds, self.recording, self.log = 0, 0.0, False, []
        self._seen: Counter = Counter()
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self, recording: bool = False) -> None:
        self.count, self.seconds, self.recording, self.log = 0, 0.0, recording, []
        self._seen = Counter()

    def _before(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        self.count += 1
        if self.recording:
            self._seen[statement] += 1
            sites = None
            if self._seen[statement] <= self.STACKS:
                frames = [f for f in traceback.extract_stack(limit=80)[:-1]
                          if f.filename.startswith(HARMONY) and f.filename not in SKIP_FRAMES]
                sites = [f"{os.path.relpath(f.filename, ROOT)}:{f.lineno} {f.name}" for f in reversed(frames[-3:])]
            self.log.append({"sql": statement, "params": parameters, "sites": sites, "ms": 0.0})
        self._started = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        spent = time.perf_counter() - self._started
        self.seconds += spent
        if self.recording and self.log:
            self.log[-1]["ms"] = spent * 1000


def _short(sql: str, width: int = 110) -> str:
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def repeated_statements(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements run REPEATED or more times in one recorded request, with where they were run."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in log:
        groups[entry["sql"]].append(entry)
    found = []
    for sql, entries in groups.items():
        if len(entries) >= REPEATED:
            sites = Counter(" <- ".join(entry["sites"][:2]) or "(outside harmony)" for entry in entries
                            if entry["sites"] is not None)
            found.append({"times": len(entries), "ms": round(sum(e["ms"] for e in entries), 1), "sql": _short(sql),
                          "sites": dict(sites.most_common(3))})
    return sorted(found, key=lambda item: -item["times"])


def explain(engine, entry: dict[str, Any]) -> list[str]:
    """The plan of one recorded statement (PostgreSQL: EXPLAIN ANALYZE, SELECTs only)."""
    sql = entry["sql"]
    if not sql.lstrip().upper().startswith("SELECT"):
        return ["(not a SELECT)"]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, entry["params"]).all()
            return [row[3] for row in rows]
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, entry["params"]).all()
        return [row[0] for row in rows]


def _recorded(label: str, statements: Statements, engine) -> dict[str, Any]:
    """What one recorded request ran: statements repeated REPEATED times or more (with the code that ran
    them), and the plan of the costliest statement (by its total time in the request)."""
    log = statements.log
    statements.reset()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in log:
        groups[entry["sql"]].append(entry)
    found: dict[str, Any] = {"statements": len(log), "repeated": repeated_statements(log)}
    if groups:
        sql, entries = max(groups.items(), key=lambda item: sum(entry["ms"] for entry in item[1]))
        found["costliest"] = {"times": len(entries), "ms": round(sum(entry["ms"] for entry in entries), 2),
                              "sql": _short(sql, 300), "site": (entries[0]["sites"] or [])[:2],
                              "plan": explain(engine, entries[0])}
    for item in found["repeated"]:
        print(f"    repeated: {item['times']} x ({item['ms']} ms) {item['sql']}")
        for site, times in item["sites"].items():
            print(f"           {times} of the first {Statements.STACKS} from {site}")
    costliest = found.get("costliest")
    if costliest:
        steps = "; ".join(line.strip() for line in costliest["plan"])
        print(f"    costliest: {costliest['times']} x {costliest['ms']} ms at {(costliest['site'] or ['?'])[0]}: "
              f"{_short(steps, 240)}")
    return found


# --- the consortium and the proposals through the real workflow -----------------------------------------


@dataclass
class World:
    c: Consortium
    researchers: list[str] = field(default_factory=list)
    admin_token: str = ""
    service_token: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


def build_world(app, people: int) -> World:
    started = time.perf_counter()
    c = build_consortium(app)
    world = World(c, list(c.researchers))
    with app.app_context():
        for n in range(len(c.researchers), people):
            subject = f"researcher{n}"
            person = accounts.provision_user(ISSUER, subject, {"name": f"Researcher {n}",
                                                               "email": f"{subject}@bench.example"},
                                             affiliation="Benchmark University")
            c.users[subject], c.names[subject] = person.id, person.display_name
            world.researchers.append(subject)
        for subject in SPECIALS:
            if subject not in c.tokens:
                c.tokens[subject] = accounts.create_token(COMMAND_LINE, c.users[subject],
                                                          TokenCreate(name="benchmark", days=30))[1]
        admin = accounts.principal_for(accounts.find_user("admin", ISSUER))
        world.admin_token = c.tokens["admin"]
        world.service_token = platform_tokens.register_platform(
            admin, platform_tokens.PlatformInput(name="Benchmark data platform"))[1]
        keys.rotate(clock.now())  # the first signing key, as `harmony keys rotate` makes it
    print(f"  consortium through the services: {len(c.seats)} committees, {len(c.datasets)} datasets, "
          f"{len(c.users)} people, a data platform, a visa signing key in {time.perf_counter() - started:.1f} s")
    return world


def _token(app, world: World, subject: str) -> str:
    if subject not in world.c.tokens:
        with app.app_context():
            world.c.tokens[subject] = accounts.create_token(COMMAND_LINE, world.c.users[subject],
                                                            TokenCreate(name="benchmark", days=30))[1]
    return world.c.tokens[subject]


def _ok(response, what: str) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise SystemExit(f"{what}: {response.status_code} {response.get_data(as_text=True)[:500]}")
    return response.get_json()


def via_workflow(app, world: World, count: int, rnd: random.Random) -> list[int]:
    """Proposals taken from a draft to active grants through the JSON API (the conftest's `approve`, then the
    co-applicants' invitations and everyone's acceptance of the agreement)."""
    c, client = world.c, app.test_client()

    def call(subject: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return _ok(client.post(path, json=body or {}, headers={"Authorization": f"Bearer {_token(app, world, subject)}"}),
                   f"{subject} POST {path}")

    made = []
    crowd = [s for s in world.researchers if s not in SPECIALS]
    for k in range(count):
        applicant = TYPICAL if k % 10 == 0 else HEAVY[k % 2]
        chosen = sorted(rnd.sample(range(len(c.datasets)), rnd.choice([1, 1, 2])), key=lambda i: c.datasets[i][1])
        pids = [c.datasets[i][1] for i in chosen]
        body = {"title": f"{TITLES[k % len(TITLES)]} (through the workflow, {k + 1})", **FILLED,
                "purpose": PURPOSES[k % len(PURPOSES)], "datasets": pids}
        proposal_id = call(applicant, "/api/v1/requests", body)["id"]
        joining = rnd.sample(crowd, rnd.choice([0, 1, 2]))
        for subject in joining:
            call(applicant, f"/api/v1/requests/{proposal_id}/co-applicants", {"email": f"{subject}@bench.example"})
            with app.app_context():
                mail = db.session().scalars(select(OutboxMail).where(OutboxMail.to_address == f"{subject}@bench.example")
                                            .order_by(OutboxMail.id.desc()).limit(1)).one()
                link = mail.body_text.split("/requests/invitations/", 1)[1].split()[0]
                co_applicants.accept_invitation(accounts.principal_for(accounts.find_user(subject, ISSUER)), link)
        call(applicant, f"/api/v1/requests/{proposal_id}/actions/submit")
        sent = call(c.coordinators[0], f"/api/v1/requests/{proposal_id}/actions/send-to-review")
        seats = {seat.name: seat for seat in c.seats}
        for review in sent["reviews"]:
            seat = seats[review["committee"]]
            for voter in [*seat.members, seat.chair]:
                call(voter, f"/api/v1/reviews/{review['id']}/actions/vote", {"vote": "approve"})
            call(seat.chair, f"/api/v1/reviews/{review['id']}/actions/decide")
        state = None
        for subject in [applicant, *joining]:
            state = call(subject, f"/api/v1/requests/{proposal_id}/actions/accept-agreement")["state"]
        if state != ACTIVE:
            raise SystemExit(f"proposal {proposal_id} through the workflow ended {state}, not active")
        made.append(proposal_id)
    return made


# --- planning and writing the rest in bulk -------------------------------------------------------------


@dataclass
class Planned:
    applicant: str
    co: list[str]
    datasets: list[int]  # indexes into Consortium.datasets
    months: int
    purpose: int
    activated: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime = field(default_factory=lambda: datetime.now(UTC))
    removed: str | None = None  # a co-applicant removed after the start (their grants ended)
    revoked: int | None = None  # a dataset revoked for everyone (its grants ended)
    due: bool = False

    @property
    def people(self) -> list[str]:
        return [self.applicant, *self.co]

    @property
    def grants(self) -> int:
        return len(self.people) * len(self.datasets)


def plan(world: World, count: int, total: int, due: int, held: Counter, now: datetime, seed: int) -> list[Planned]:
    """`count` active proposals with exactly `total` grants (person x dataset), the specials' live grants at
    their targets (`held`: what the workflow gave them already), `due` grants of whole proposals ending in
    32 to 34 days, and about 2% of the grants ended early."""
    rnd = random.Random(seed)
    c = world.c
    crowd = [s for s in world.researchers if s not in SPECIALS]
    per = total / max(1, count)
    plans = []
    for _ in range(count):
        d = rnd.choices([1, 2, 3, 4], weights=[40, 30, 18, 12])[0]
        p = 1 if rnd.random() < 0.15 else max(1, min(10, round(per / d * rnd.uniform(0.5, 1.5))))
        people = rnd.sample(crowd, p)
        chosen = sorted(rnd.sample(range(len(c.datasets)), d), key=lambda i: c.datasets[i][1])
        plans.append(Planned(people[0], people[1:], chosen, rnd.choices([12, 24], weights=[70, 30])[0],
                             rnd.randrange(len(PURPOSES))))
    for subject, target in SPECIAL_TARGETS.items():  # join proposals until their live grants reach the target
        need = target - held[subject]
        for planned in rnd.sample(plans, len(plans)):
            if need == 0:
                break
            if len(planned.datasets) <= need and subject not in planned.people:
                if rnd.random() < 0.3:  # as the applicant, the former applicant a co-applicant
                    planned.co.insert(0, planned.applicant)
                    planned.applicant = subject
                else:
                    planned.co.append(subject)
                need -= len(planned.datasets)
        if need:
            raise SystemExit(f"could not give {subject} {target} live grants ({held[subject]} through the workflow)")
    singles = [planned for planned in plans if len(planned.datasets) == 1]
    difference = total - sum(planned.grants for planned in plans)
    while difference:
        planned = rnd.choice(singles)
        if difference > 0 and len(planned.co) < 19:
            newcomer = rnd.choice(crowd)
            if newcomer not in planned.people:
                planned.co.append(newcomer)
                difference -= 1
        elif difference < 0:
            removable = [s for s in planned.co if s not in SPECIALS]
            if removable:
                planned.co.remove(rnd.choice(removable))
                difference += 1
    # ends: due ones first (whole proposals without a special, exactly `due` grants), the rest 60+ days ahead
    left = due
    for planned in [*rnd.sample(plans, len(plans)), *sorted(plans, key=lambda planned: planned.grants)]:
        if left and not planned.due and planned.grants <= left and not set(planned.people) & set(SPECIALS):
            planned.due, left = True, left - planned.grants
    if left:
        raise SystemExit(f"could not make {due} grants due")
    for planned in plans:
        if planned.due:
            planned.months = 12
            planned.end = now + timedelta(days=32) + timedelta(seconds=rnd.uniform(0, 2 * 86400))
            planned.activated = add_months(planned.end, -12)
        else:
            planned.activated = now - timedelta(days=rnd.uniform(1, 300), seconds=rnd.uniform(0, 86400))
            planned.end = add_months(planned.activated, planned.months)
    ordinary = [p for p in plans if not p.due and not set(p.people) & set(SPECIALS)]
    for planned in rnd.sample(ordinary, len(ordinary) // 20):  # about 2% of the grants end early
        if planned.co and rnd.random() < 0.6:
            planned.removed = rnd.choice(planned.co)
        elif len(planned.datasets) > 1:
            planned.revoked = rnd.choice(planned.datasets)
    plans.sort(key=lambda planned: planned.activated)  # ids in the order the proposals became active
    return plans


BULK_TABLES = [Proposal, ProposalDataset, CoApplicant, Review, Vote, AgreementAcceptance, Grant, ProposalEvent]


class BulkWriter:
    """The rows the workflow writes for an active proposal, by executemany, with a hashed audit trail."""

    def __init__(self, engine, world: World, seed: int):
        self.engine, self.world, self.c = engine, world, world.c
        self.rnd = random.Random(seed)
        with engine.connect() as connection:
            self.next = {model: (connection.scalar(select(func.max(model.id))) or 0) + 1 for model in BULK_TABLES}
        self.rows: dict[Any, list[dict]] = {model: [] for model in BULK_TABLES}
        self.contents: dict[tuple[int, int], dict[str, Any]] = {}
        self.written = Counter()

    def _id(self, model) -> int:
        self.next[model] += 1
        return self.next[model] - 1

    def _content(self, planned: Planned, number: int) -> dict[str, Any]:
        key = (planned.purpose, planned.months)
        if key not in self.contents:
            self.contents[key] = ProposalContent.model_validate({
                "title": "x", **FILLED, "purpose": PURPOSES[planned.purpose], "duration_months": planned.months}).stored()
        return {**self.contents[key], "title": f"{TITLES[number % len(TITLES)]} ({number})"}

    def write(self, planned: Planned, number: int) -> None:
        c, rnd = self.c, self.rnd
        uid = c.users
        pid = self._id(Proposal)
        activated = planned.activated
        created = activated - timedelta(days=rnd.uniform(25, 80))
        submitted = created + timedelta(days=rnd.uniform(1, 8))
        sent = submitted + timedelta(days=rnd.uniform(1, 4))
        seats = sorted({c.datasets[i][2] for i in planned.datasets}, key=lambda s: c.seats[s].committee_id)
        decided = {s: sent + timedelta(days=rnd.uniform(3, c.seats[s].days - 1)) for s in seats}
        last_decision = max(decided.values())
        pids = {i: c.datasets[i][1] for i in planned.datasets}
        trail: list[dict[str, Any]] = []
        coordinator = rnd.choice(c.coordinators)

        def add(subject: str, action: str, at: datetime, before: str | None, after: str | None,
                review_id: int | None = None, **payload: Any) -> None:
            row = {"id": self._id(ProposalEvent), "proposal_id": pid, "seq": len(trail) + 1, "review_id": review_id,
                   "actor_id": uid[subject], "actor_name": c.names[subject], "action": action, "at": at,
                   "from_state": before, "to_state": after, "comment": None, "payload": payload,
                   "prev_hash": trail[-1]["hash"] if trail else audit.GENESIS}
            row["hash"] = audit.event_hash(ProposalEvent(**{**row, "hash": ""}))
            trail.append(row)

        add(planned.applicant, "create", created, None, "draft", datasets=sorted(pids.values()))
        joined = {}
        for n, subject in enumerate(planned.co):
            invited = created + timedelta(hours=1 + n)
            joined[subject] = invited + timedelta(hours=rnd.uniform(1, 20))
            add(planned.applicant, "invite", invited, "draft", "draft", email=f"{subject}@bench.example")
            add(subject, "join", joined[subject], "draft", "draft", email=f"{subject}@bench.example")
            self.rows[CoApplicant].append({
                "id": self._id(CoApplicant), "proposal_id": pid, "email": f"{subject}@bench.example",
                "user_id": uid[subject], "invited_by": uid[planned.applicant], "invited_at": invited,
                "accepted_at": joined[subject], "removed_at": None})
        add(planned.applicant, "submit", submitted, "draft", "submitted")
        reviews = {}
        for s in seats:
            seat = c.seats[s]
            reviews[s] = {"id": self._id(Review), "proposal_id": pid, "committee_id": seat.committee_id,
                          "state": "decided", "deadline": sent + timedelta(days=seat.days), "opened_at": sent,
                          "closed_at": decided[s], "computed_outcome": APPROVED, "outcome": APPROVED,
                          "overridden": False, "decision_reason": None, "decided_by": uid[seat.chair],
                          "decided_at": decided[s], "quorum_notified": True}
            for voter in [seat.chair, *seat.members[:3]]:
                self.rows[Vote].append({"id": self._id(Vote), "review_id": reviews[s]["id"], "user_id": uid[voter],
                                        "vote": "approve", "comment": None,
                                        "cast_at": decided[s] - timedelta(hours=rnd.uniform(1, 48))})
        add(coordinator, "send-to-review", sent, "submitted", "under_review", reviews=[
            {"review": reviews[s]["id"], "committee": c.seats[s].name,
             "datasets": [pids[i] for i in planned.datasets if c.datasets[i][2] == s],
             "deadline": reviews[s]["deadline"].isoformat()} for s in seats])
        for i in planned.datasets:
            self.rows[ProposalDataset].append({"id": self._id(ProposalDataset), "proposal_id": pid,
                                               "dataset_id": c.datasets[i][0],
                                               "committee_id": c.seats[c.datasets[i][2]].committee_id,
                                               "outcome": APPROVED})
        for n, s in enumerate(sorted(seats, key=lambda s: decided[s])):
            extra = {"proposal": {"from": "under_review", "to": "agreement", "outcome": APPROVED}} \
                if n == len(seats) - 1 else {}
            add(c.seats[s].chair, "decide", decided[s], "voting", "decided", reviews[s]["id"], outcome=APPROVED,
                computed_outcome=APPROVED, overridden=False, reason=None, conditions=[], **extra)
        people = planned.people
        agreements = {c.seats[s].name: 1 for s in seats}
        accepted = sorted(last_decision + (activated - last_decision) * rnd.random() for _ in people[:-1])
        for n, subject in enumerate(people):
            at = accepted[n] if n < len(people) - 1 else activated
            for s in seats:
                self.rows[AgreementAcceptance].append({
                    "id": self._id(AgreementAcceptance), "proposal_id": pid, "user_id": uid[subject],
                    "committee_id": c.seats[s].committee_id, "version": 1, "accepted_at": at})
            if n < len(people) - 1:
                add(subject, "accept-agreement", at, "agreement", "agreement", agreements=agreements)
            else:
                add(subject, "accept-agreement", at, "agreement", ACTIVE, agreements=agreements,
                    grants=planned.grants)
        later = activated + (min(datetime.now(UTC), planned.end) - activated) * rnd.uniform(0.2, 0.9)
        ended = 0
        for i in planned.datasets:
            for subject in people:
                row = {"id": self._id(Grant), "proposal_id": pid, "user_id": uid[subject], "dataset_id": c.datasets[i][0],
                       "committee_id": c.seats[c.datasets[i][2]].committee_id, "start": activated, "end": planned.end,
                       "ended_at": None, "end_reason": None, "revoked_at": None, "revoked_by": None,
                       "revoke_reason": None}
                if subject == planned.removed:
                    row.update(ended_at=later, end_reason="removed")
                    ended += 1
                elif i == planned.revoked:
                    chair = c.seats[c.datasets[i][2]].chair
                    row.update(ended_at=later, end_reason="revoked", revoked_at=later, revoked_by=uid[chair],
                               revoke_reason="The data security plan was not followed.")
                    ended += 1
                self.rows[Grant].append(row)
        if planned.removed:
            for row in self.rows[CoApplicant][-len(planned.co):]:
                if row["user_id"] == uid[planned.removed]:
                    row["removed_at"] = later
            add(planned.applicant, "remove-co-applicant", later, ACTIVE, ACTIVE,
                email=f"{planned.removed}@bench.example", grants_ended=ended)
        if planned.revoked is not None:
            add(c.seats[c.datasets[planned.revoked][2]].chair, "revoke", later, ACTIVE, ACTIVE,
                datasets=[pids[planned.revoked]], grants=ended)
        for row in trail:
            row["payload"] = json.loads(json.dumps(row["payload"]))
        self.rows[ProposalEvent].extend(trail)
        self.rows[Proposal].append({
            "id": pid, "applicant_id": uid[planned.applicant], "state": ACTIVE, "content": self._content(planned, number),
            "outcome": APPROVED, "returned_content": None, "created_at": created, "updated_at": trail[-1]["at"],
            "state_changed_at": activated, "submitted_at": submitted, "decided_at": last_decision,
            "event_seq": len(trail), "kind": "new", "parent_id": None})
        self.rows[Review].extend(reviews.values())
        self.written["grants"] += planned.grants
        self.written["ended"] += ended

    def flush(self) -> None:
        with self.engine.begin() as connection:
            for model in BULK_TABLES:
                if self.rows[model]:
                    connection.execute(insert(model.__table__), self.rows[model])
                    self.written[model.__tablename__] += len(self.rows[model])
                    self.rows[model] = []

    def finish(self) -> None:
        self.flush()
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                for model in BULK_TABLES:
                    name = model.__tablename__
                    connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                            f"(SELECT max(id) FROM {name}))"))
            connection.execute(text("ANALYZE"))


def seed(app, url: str, args: argparse.Namespace) -> tuple[World, dict[str, Any]]:
    found: dict[str, Any] = {}
    world = build_world(app, args.people)
    rnd = random.Random(3)
    started = time.perf_counter()
    made = via_workflow(app, world, args.via_workflow, rnd)
    seconds = time.perf_counter() - started
    engine = db.create_engine(url)
    with engine.connect() as connection:
        workflow_grants = connection.scalar(select(func.count()).select_from(Grant))
        by_user = dict(connection.execute(select(Grant.user_id, func.count()).where(Grant.ended_at.is_(None))
                                          .group_by(Grant.user_id)).all())
    found.update(via_workflow=len(made), via_workflow_grants=workflow_grants, via_workflow_s=round(seconds, 1))
    print(f"  {len(made)} proposals through the workflow over the JSON API (draft to active, {workflow_grants} grants) "
          f"in {seconds:.1f} s = {seconds / max(1, len(made)):.2f} s each")
    held = Counter({subject: by_user.get(world.c.users[subject], 0) for subject in SPECIALS})
    now = datetime.now(UTC)
    world.started = now
    started = time.perf_counter()
    plans = plan(world, args.proposals - len(made), args.grants - workflow_grants, args.due, held, now, seed=7)
    writer = BulkWriter(engine, world, seed=11)
    for number, planned in enumerate(plans, start=len(made) + 1):
        writer.write(planned, number)
        if number % 500 == 0:
            writer.flush()
    writer.finish()
    found.update(bulk=len(plans), bulk_s=round(time.perf_counter() - started, 1),
                 bulk_rows={k: v for k, v in writer.written.items() if k not in ("grants", "ended")})
    print(f"  {len(plans):,} active proposals written in bulk ({writer.written['grants']:,} grants, "
          f"{writer.written['ended']} ended early; {writer.written['proposal_event']:,} hashed events) "
          f"in {found['bulk_s']} s")
    with engine.connect() as connection:
        found["proposals"] = dict(connection.execute(select(Proposal.state, func.count()).group_by(Proposal.state)).all())
        found["grants"] = connection.scalar(select(func.count()).select_from(Grant))
        found["live_grants"] = connection.scalar(select(func.count()).select_from(Grant).where(Grant.ended_at.is_(None)))
        found["special_live"] = {subject: connection.scalar(select(func.count()).select_from(Grant).where(
            Grant.user_id == world.c.users[subject], Grant.ended_at.is_(None))) for subject in SPECIALS}
        found["due_grants"] = connection.scalar(select(func.count()).select_from(Grant).where(
            Grant.ended_at.is_(None), Grant.end < now + timedelta(days=40)))
        busiest = connection.execute(select(Grant.dataset_id, func.count()).group_by(Grant.dataset_id)
                                     .order_by(func.count().desc()).limit(1)).one()
        found["busiest_dataset"] = {"pid": next(p for d, p, _s in world.c.datasets if d == busiest[0]),
                                    "grants": busiest[1]}
        found["people_with_grants"] = connection.scalar(select(func.count(func.distinct(Grant.user_id))))
    engine.dispose()
    print(f"  in the database: proposals {found['proposals']}, {found['grants']:,} grants ({found['live_grants']:,} live, "
          f"{found['due_grants']} ending within 40 days) held by {found['people_with_grants']:,} people; live grants "
          + ", ".join(f"{s} {n}" for s, n in found["special_live"].items())
          + f"; busiest dataset {found['busiest_dataset']['pid']} ({found['busiest_dataset']['grants']} grants)")
    return world, found


# --- measuring requests ----------------------------------------------------------------------------------


def _report(label: str, found: dict[str, Any], baseline: float | None) -> None:
    ratio = f"  x{found['p50'] / baseline:5.1f}" if baseline else ""
    print(f"  {label:<52} p50 {found['p50']:7.1f}  p95 {found['p95']:7.1f}  max {found['max']:7.1f} ms{ratio}  "
          f"{found['queries']:3d} statements ({found['sql_ms']:6.1f} ms in SQL)  {found['kb']:7.1f} kB")


def measure_endpoint(client, statements: Statements, engine, label: str, calls: list[tuple[str, dict]],
                     baseline: float | None, check=None) -> dict[str, Any]:
    samples, queries, sql, sizes = [], [], [], []
    for n, (path, headers) in enumerate(calls):
        statements.reset()
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{label}: GET {path} answered {response.status_code}: {response.get_data(as_text=True)[:400]}")
        if check is not None:
            check(response)
        if n >= WARM_UP:
            samples.append(elapsed)
            queries.append(statements.count)
            sql.append(statements.seconds * 1000)
            sizes.append(len(response.data))
    found = {"n": len(samples), "p50": round(percentile(samples, .5), 2), "p95": round(percentile(samples, .95), 2),
             "max": round(max(samples), 2), "queries": int(percentile(queries, .5)), "queries_max": max(queries),
             "sql_ms": round(percentile(sql, .5), 2), "kb": round(percentile(sizes, .5) / 1024, 1)}
    _report(label, found, baseline)
    statements.reset(recording=True)
    client.get(calls[-1][0], headers=calls[-1][1])
    found["recorded"] = _recorded(label, statements, engine)
    return found


def _consume(client, path: str, headers: dict[str, str]) -> tuple[int, int, int, float]:
    """GET a streamed answer chunk by chunk, keeping none: (bytes, chunks, lines, ms to the first chunk)."""
    started = time.perf_counter()
    response = client.get(path, headers=headers, buffered=False)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    size = chunks = lines = 0
    first = None
    for chunk in response.iter_encoded():
        if first is None:
            first = (time.perf_counter() - started) * 1000
        size += len(chunk)
        chunks += 1
        lines += chunk.count(b"\n")
    response.close()
    return size, chunks, lines, first or 0.0


def measure_csv(client, statements: Statements, engine, headers: dict[str, str], runs: int, rows: int,
                baseline: float) -> dict[str, Any]:
    """The whole CSV, consumed as it streams: one warm-up, `runs` timed (the last recorded), then one under
    tracemalloc for the peak of Python allocations."""
    path = "/api/v1/entitlements"
    samples, firsts, queries, sql = [], [], [], []
    size = chunks = lines = 0
    for n in range(runs + 1):
        statements.reset(recording=n == runs)
        started = time.perf_counter()
        size, chunks, lines, first = _consume(client, path, headers)
        elapsed = (time.perf_counter() - started) * 1000
        if lines != rows + 1:
            raise SystemExit(f"the CSV has {lines} lines, expected {rows} rows and a header")
        if n >= 1:
            samples.append(elapsed)
            firsts.append(first)
            queries.append(statements.count)
            sql.append(statements.seconds * 1000)
    recorded_log = statements.log
    statements.reset()
    tracemalloc.start()
    _consume(client, path, headers)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    found = {"n": len(samples), "p50": round(percentile(samples, .5), 1), "p95": round(percentile(samples, .95), 1),
             "max": round(max(samples), 1), "first_chunk_ms": round(percentile(firsts, .5), 1),
             "queries": int(percentile(queries, .5)), "queries_max": max(queries), "sql_ms": round(percentile(sql, .5), 1),
             "kb": round(size / 1024, 1), "rows": lines - 1, "chunks": chunks, "peak_kb": round(peak / 1024, 1),
             "per_1000_rows_ms": round(percentile(samples, .5) / (rows / 1000), 2)}
    _report(f"CSV, all {rows:,} rows (n={runs})", found, baseline)
    print(f"    {size / 2**20:.1f} MB in {chunks} chunks, first chunk after {found['first_chunk_ms']} ms, "
          f"{found['per_1000_rows_ms']} ms per 1,000 rows; peak of Python allocations while it streams "
          f"{peak / 2**20:.2f} MB ({peak / size:.0%} of the body)")
    statements.log = recorded_log
    found["recorded"] = _recorded("CSV", statements, engine)
    return found


def sign_cost(app, world: World, count: int = 50, rounds: int = 10) -> dict[str, Any]:
    """`visas.claims` + `visas.sign` alone, in-process, per visa."""
    with app.test_request_context():
        user_id = world.c.users[HEAVY[0]]
        grants = db.session().scalars(select(Grant).where(Grant.user_id == user_id, Grant.ended_at.is_(None))
                                      .limit(count)).all()
        key = keys.signing_key(clock.now())
        per = []
        for _ in range(rounds):
            started = time.perf_counter()
            for grant in grants:
                visas.sign(visas.claims(HEAVY[0], grant, "HM-000001", clock.now()), key)
            per.append((time.perf_counter() - started) * 1000 / len(grants))
    return {"per_visa_ms": round(percentile(per, .5), 3), "visas": len(grants), "rounds": rounds}


def measure(app, url: str, world: World, seeded: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    c = world.c
    rnd = random.Random(13)
    client = app.test_client()
    with app.app_context():
        engine = db.engine()
        statements = Statements(engine)
    runs = args.requests + WARM_UP
    bearer = {subject: {"Authorization": f"Bearer {c.tokens[subject]}"} for subject in (*SPECIALS, "admin")}
    admin = {"Authorization": f"Bearer {world.admin_token}"}
    service = {"Authorization": f"Bearer {world.service_token}"}
    pages = -(-seeded["grants"] // 100)
    busiest = seeded["busiest_dataset"]["pid"]
    results: dict[str, Any] = {}

    def items(expected: int | None = None, at_least: int = 1):
        def check(response) -> None:
            body = response.get_json()
            got = len(body["items"])
            if (expected is not None and got != expected) or got < at_least:
                raise SystemExit(f"{response.request.path}: {got} items (total {body['total']}), expected "
                                 f"{expected if expected is not None else f'>= {at_least}'}")
        return check

    def passport(expected: int):
        def check(response) -> None:
            got = len(response.get_json()["ga4gh_passport_v1"])
            if got != expected:
                raise SystemExit(f"{response.request.path}: {got} visas, expected {expected}")
        return check

    print(f"  measuring in-process, {args.requests} requests each (after {WARM_UP} warm-up requests); "
          "x = p50 / p50 of GET /api/v1/me")
    results["GET /healthz (baseline)"] = measure_endpoint(client, statements, engine, "GET /healthz (baseline, one query)",
                                                          [("/healthz", {})] * runs, None)
    results["GET /api/v1/me (baseline)"] = measure_endpoint(client, statements, engine, "GET /api/v1/me (baseline, token)",
                                                            [("/api/v1/me", bearer[TYPICAL])] * runs, None)
    base = results["GET /api/v1/me (baseline)"]["p50"]
    endpoints = [
        ("own (10 grants)", f"entitlements: own ({TYPICAL}, 10 grants)",
         [("/api/v1/entitlements", bearer[TYPICAL])] * runs, items(10)),
        ("own (50 grants)", f"entitlements: own ({HEAVY[0]}, 50, per_page=100)",
         [("/api/v1/entitlements?per_page=100", bearer[HEAVY[0]])] * runs, items(50)),
        ("admin page of 100", f"entitlements: admin, page of 100 (1..{pages})",
         [(f"/api/v1/entitlements?per_page=100&page={rnd.randint(1, pages)}", admin) for _ in range(runs)], items(100)),
        ("admin last page", f"entitlements: admin, page {pages} of 100",
         [(f"/api/v1/entitlements?per_page=100&page={pages}", admin)] * runs, items()),
        ("admin dataset+active", f"entitlements: admin, dataset={busiest}&active=true",
         [(f"/api/v1/entitlements?per_page=100&dataset={busiest}&active=true", admin)] * runs, items()),
        ("admin active=false", "entitlements: admin, active=false, page of 100",
         [("/api/v1/entitlements?per_page=100&active=false", admin)] * runs, items()),
        ("admin active=true", "entitlements: admin, active=true, page of 100",
         [("/api/v1/entitlements?per_page=100&active=true", admin)] * runs, items(100)),
        ("admin user=", f"entitlements: admin, user={HEAVY[1]}",
         [(f"/api/v1/entitlements?per_page=100&user={HEAVY[1]}", admin)] * runs, items(50)),
        ("service page of 100", "entitlements: service token, page of 100",
         [(f"/api/v1/entitlements?per_page=100&page={rnd.randint(1, pages)}", service) for _ in range(runs)], items(100)),
        ("passport 50 (self)", f"permissions/{HEAVY[0]} (self, 50 visas)",
         [(f"/api/v1/permissions/{HEAVY[0]}", bearer[HEAVY[0]])] * runs, passport(50)),
        ("passport 50 (service)", f"permissions/{HEAVY[1]} (service token, 50 visas)",
         [(f"/api/v1/permissions/{HEAVY[1]}", service)] * runs, passport(50)),
        ("passport 0 (self)", f"permissions/{EMPTY} (self, no visa)",
         [(f"/api/v1/permissions/{EMPTY}", bearer[EMPTY])] * runs, passport(0)),
        ("jwks", "GET /.well-known/jwks.json", [("/.well-known/jwks.json", {})] * runs, None),
    ]
    for key, label, calls, check in endpoints:
        results[key] = measure_endpoint(client, statements, engine, label, calls, base, check)
    results["csv"] = measure_csv(client, statements, engine, {**admin, "Accept": "text/csv"}, args.csv_runs,
                                 seeded["grants"], base)
    results["sign"] = sign_cost(app, world)
    visa = (results["passport 50 (self)"]["p50"] - results["passport 0 (self)"]["p50"]) / 50
    results["per_visa_ms"] = round(visa, 3)
    print(f"  a visa: {visa:.2f} ms in the request ((50 visas - none) / 50); claims + RS256 signature alone "
          f"{results['sign']['per_visa_ms']:.2f} ms")
    results["tick"] = measure_tick(app, statements, engine, world, args.tick_runs, args.due)
    return results


# --- the tick -------------------------------------------------------------------------------------------


def _tick(app, statements: Statements, at: datetime | None, recording: bool = False) -> tuple[float, int, float, str]:
    """`harmony requests tick` through the CLI runner, the clock at `at` (None: now)."""
    runner = app.test_cli_runner()
    statements.reset(recording)
    started = time.perf_counter()
    if at is None:
        result = runner.invoke(args=["requests", "tick"])
    else:
        with clock.frozen(at):
            result = runner.invoke(args=["requests", "tick"])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"harmony requests tick: exit {result.exit_code}\n{result.output}\n{result.exception!r}")
    return seconds, statements.count, statements.seconds, result.output


def _marks(engine) -> dict[Any, int]:
    with engine.connect() as connection:
        return {model: connection.scalar(select(func.max(model.id))) or 0 for model in (SentReminder, Notice, OutboxMail)}


def _undo(engine, marks: dict[Any, int]) -> None:
    """Forget what a tick sent (its reminders' keys, notices and mails), so the next run sends them again."""
    with engine.begin() as connection:
        for model, mark in marks.items():
            connection.execute(delete(model).where(model.id > mark))


def _sent(output: str) -> str:
    counts = [line for line in output.splitlines() if " sent" in line and ": 0 sent" not in line]
    return "; ".join(counts) or "nothing sent"


def measure_tick(app, statements: Statements, engine, world: World, runs: int, due: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    print(f"  harmony requests tick through app.test_cli_runner, {runs} runs each")
    later = world.started + timedelta(days=5)
    with engine.connect() as connection:
        due_people = connection.scalar(select(func.count()).select_from(
            select(Grant.proposal_id, Grant.user_id).where(Grant.ended_at.is_(None), Grant.end < later + 30 * DAY,
                                                           Grant.end > later).distinct().subquery()))
    for key, label, at in (("tick nothing due", "tick, nothing due", None),
                           ("tick due", f"tick 5 days on, {due} grants due for a reminder", later)):
        marks = _marks(engine)
        samples, queries, sql = [], [], []
        output, recorded_log = "", []
        for n in range(runs):
            seconds, count, in_sql, output = _tick(app, statements, at, recording=n == runs - 1)
            recorded_log = statements.log
            samples.append(seconds)
            queries.append(count)
            sql.append(in_sql)
            _undo(engine, marks)
        item = {"n": runs, "p50_s": round(percentile(samples, .5), 2), "max_s": round(max(samples), 2),
                "queries": int(percentile(queries, .5)), "sql_s": round(percentile(sql, .5), 2), "sent": _sent(output)}
        print(f"  {label:<52} p50 {item['p50_s']:6.2f} s  max {item['max_s']:6.2f} s  {item['queries']:6d} statements "
              f"({item['sql_s']:.2f} s in SQL); {item['sent']}")
        if at is not None:
            item["mails"] = due_people
            item["ms_per_mail"] = round(item["p50_s"] * 1000 / max(1, due_people), 1)
            print(f"    {due_people} reminders (person x proposal), {item['ms_per_mail']} ms each on average")
        statements.log = recorded_log
        item["recorded"] = _recorded(label, statements, engine)
        found[key] = item
    return found


# --- the run ---------------------------------------------------------------------------------------------


def run(backend: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n{backend}: {url.split('@')[-1] if '@' in url else url}")
    load = os.getloadavg()
    migrate.upgrade(url)
    engine = db.create_engine(url)
    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Proposal)):
            raise SystemExit(f"{backend}: the database holds proposals already; give an empty one")
    engine.dispose()
    app = create_app({"SECRET_KEY": SECRET_KEY, "DATABASE_URL": url, "BASE_URL": BASE_URL,
                      "SEARCH_INDEX_DIR": str(folder / "index"), "ATTACHMENT_DIR": str(folder / "attachments"),
                      "VISA_KEY_FILE": str(folder / "visa-keys.json"), "LOG_LEVEL": "WARNING"})
    started, cpu = time.perf_counter(), time.process_time()
    world, seeded = seed(app, url, args)
    seeded["seconds"] = round(time.perf_counter() - started, 1)
    measured = measure(app, url, world, seeded, args)
    took = {"seed_s": seeded["seconds"], "measure_s": round(time.perf_counter() - started - seeded["seconds"], 1),
            "cpu_s": round(time.process_time() - cpu, 1)}
    print(f"  {backend}: seeding {took['seed_s']} s, measuring {took['measure_s']} s ({took['cpu_s']} s of CPU in this "
          "process)")
    with app.app_context():
        db.engine().dispose()
    result = {"backend": backend, "seeded": seeded, "measured": measured, "took": took,
              "machine": {"cpus": os.cpu_count(), "load_at_start": load, "load_at_end": os.getloadavg()}}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"grants-{backend}.json").write_text(json.dumps(result, indent=2, default=str))
    return result


ROWS = [("GET /healthz (baseline)", "GET /healthz (baseline)"), ("GET /api/v1/me (baseline)", "GET /api/v1/me (baseline)"),
        ("own (10 grants)", "entitlements, own (10)"), ("own (50 grants)", "entitlements, own (50)"),
        ("admin page of 100", "entitlements, admin page of 100"), ("admin last page", "entitlements, admin last page"),
        ("admin dataset+active", "entitlements, dataset+active"), ("admin active=false", "entitlements, active=false"),
        ("admin active=true", "entitlements, active=true"), ("admin user=", "entitlements, admin user="),
        ("service page of 100", "entitlements, service page"), ("csv", "CSV, every grant"),
        ("passport 50 (self)", "passport, 50 visas (self)"), ("passport 50 (service)", "passport, 50 visas (service)"),
        ("passport 0 (self)", "passport, no visa"), ("jwks", "JWKS")]


def table(results: list[dict[str, Any]]) -> None:
    print("\nms: p50 / p95 (SQL statements per request), x p50 of GET /api/v1/me")
    print(f"  {'':<34}" + "".join(f"{r['backend'] + ' (' + format(r['seeded']['grants'], ',') + ' grants)':>40}"
                                  for r in results))
    for key, label in ROWS:
        line = f"  {label:<34}"
        for r in results:
            m, base = r["measured"][key], r["measured"]["GET /api/v1/me (baseline)"]["p50"]
            cell = f"{m['p50']:.1f} / {m['p95']:.1f} ({m['queries']})  x{m['p50'] / base:.1f}"
            line += f"{cell:>40}"
        print(line)
    for label, cell in (
            ("CSV peak memory / body", lambda m: f"{m['csv']['peak_kb'] / 1024:.2f} MB / {m['csv']['kb'] / 1024:.1f} MB"),
            ("a visa (request / signing)", lambda m: f"{m['per_visa_ms']:.2f} / {m['sign']['per_visa_ms']:.2f} ms"),
            ("tick, nothing due", lambda m: f"{m['tick']['tick nothing due']['p50_s']:.2f} s "
                                            f"({m['tick']['tick nothing due']['queries']})"),
            ("tick, grants due", lambda m: f"{m['tick']['tick due']['p50_s']:.2f} s ({m['tick']['tick due']['queries']})"),
            ("reminder mails (ms each)", lambda m: f"{m['tick']['tick due']['mails']} "
                                                   f"({m['tick']['tick due']['ms_per_mail']} ms)")):
        print(f"  {label:<34}" + "".join(f"{cell(r['measured']):>40}" for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--proposals", type=int, default=None, help="active proposals (default 2000; --quick: 200)")
    parser.add_argument("--grants", type=int, default=None, help="grants in all (default 20000; --quick: 2000)")
    parser.add_argument("--due", type=int, default=None, help="grants due for a reminder (default 1000; --quick: 100)")
    parser.add_argument("--people", type=int, default=None, help="researchers (default 2000; --quick: 400)")
    parser.add_argument("--via-workflow", type=int, default=None,
                        help="proposals through the JSON API, the rest bulk-written (default 10; --quick: 4)")
    parser.add_argument("--requests", type=int, default=None, help="measured requests per endpoint (default 60)")
    parser.add_argument("--csv-runs", type=int, default=4, help="measured downloads of the whole CSV")
    parser.add_argument("--tick-runs", type=int, default=2, help="measured ticks of each kind")
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, 20 requests each: a smoke run")
    parser.add_argument("--database-url", "--postgres", dest="database_url",
                        help="an empty PostgreSQL database instead of a throwaway server (implies --backend postgresql)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the SQLite database and key file here")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where grants-<backend>.json goes")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    args.proposals = args.proposals or 2000 // scale
    args.grants = args.grants or 20_000 // scale
    args.due = args.due if args.due is not None else 1000 // scale
    args.people = args.people or (400 if args.quick else 2000)
    args.via_workflow = args.via_workflow if args.via_workflow is not None else (4 if args.quick else 10)
    args.requests = args.requests or (20 if args.quick else 60)
    if args.database_url and args.backend == "sqlite":
        args.backend = "postgresql"
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"{args.proposals:,} active proposals, {args.grants:,} grants ({args.due:,} due for a reminder), "
          f"{args.people:,} researchers; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    table(on_backends(backends, args, run, "grants-bench-", "harmony_grants_bench"))


if __name__ == "__main__":
    main()

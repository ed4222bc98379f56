"""Two `harmony requests tick` processes at once against the same database — real processes, on SQLite and
PostgreSQL: every reminder and escalation goes out once.

The processes run on a fixed clock (`--now`, honoured because HARMONY_TESTING is on). So that they really
race for the same keys, the test holds a lock while they start and lets both go together: on PostgreSQL an
ACCESS EXCLUSIVE lock on sent_reminder, which both wait for at their first look at it (the test sees them
waiting in pg_locks); on SQLite the write lock (BEGIN IMMEDIATE), which both wait for at their first write,
after both have read what is due and which keys are recorded. Each then tries every key; the unique key lets
one of them send it and rolls the other back.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from harmony import clock, db
from harmony.access_requests.grants import add_months
from harmony.access_requests.models import SentReminder
from harmony.notifications.models import OutboxMail
from tests.access_requests.conftest import act, draft
from tests.access_requests.test_tick import DAY, T0, active_at_t0
from tests.conftest import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
SENT = re.compile(r"^(?P<label>[^:]+): (?P<count>\d+) sent")


def due_at_once(client, world):
    """At AT: access ending in 30 days for three proposals (one with a co-applicant), two proposals overdue
    for screening and a review whose voting closes in a day. Seven keys, eleven mails."""
    for pids, co in ((world.datasets[2:], "bruno"), (world.datasets[2:3], None), (world.datasets[3:], None)):
        active_at_t0(client, world, pids=pids, co_applicant=co)
    at = add_months(T0, 12) - 30 * DAY
    with clock.frozen(at - 6 * DAY):
        for title in ("First in the queue", "Second in the queue"):
            waiting = draft(client, world, title=title)["id"]
            assert act(client, world, "alice", waiting, "submit").status_code == 200
    with clock.frozen(at - 13 * DAY):  # HOVON DAC votes 14 days: the deadline is a day after AT
        voting = draft(client, world, pids=world.datasets[:2], title="Being voted on")["id"]
        act(client, world, "alice", voting, "submit")
        [review] = act(client, world, "olga", voting, "send-to-review").get_json()["reviews"]
        assert review["committee"] == "HOVON DAC"
    return at, {"access-ending": 4, "screening-overdue": 2, "voting-reminder": 4}


def environment(app, tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HARMONY_")}
    env.update(HARMONY_DATABASE_URL=app.config["DATABASE_URL"], HARMONY_SECRET_KEY=TEST_SECRET_KEY,
               HARMONY_TESTING="1", HARMONY_BASE_URL="http://harmony.test", HARMONY_LOG_LEVEL="WARNING",
               HARMONY_SEARCH_INDEX_DIR=str(tmp_path / "index"), HARMONY_ATTACHMENT_DIR=str(tmp_path / "files"),
               HARMONY_SQLITE_BUSY_TIMEOUT_MS="120000", PYTHONPATH=str(ROOT))
    return env


def start_tick(env, tmp_path, at) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harmony", "requests", "tick", "--now", at.isoformat()],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Gate:
    """A lock both ticks wait for; `open()` lets them go together."""

    def __init__(self, app):
        self.app, self.url = app, make_url(app.config["DATABASE_URL"])
        self.postgres = self.url.get_backend_name() == "postgresql"

    def __enter__(self):
        if self.postgres:
            with self.app.app_context():
                self.connection = db.engine().connect()
            self.connection.execute(text("LOCK TABLE sent_reminder IN ACCESS EXCLUSIVE MODE"))
        else:
            self.connection = sqlite3.connect(self.url.database, isolation_level=None, timeout=60)
            self.connection.execute("BEGIN IMMEDIATE")
        return self

    def wait_for(self, processes: list[subprocess.Popen], timeout: float = 90) -> None:
        """Until both processes wait at the lock (PostgreSQL: as pg_locks shows; SQLite: both have the
        database open, and a moment more to read what is due)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
            if self._waiting(processes) >= len(processes):
                if not self.postgres:
                    time.sleep(1.5)
                return
            time.sleep(0.1)
        raise AssertionError("the ticks did not reach the lock")

    def _waiting(self, processes) -> int:
        if self.postgres:
            with self.app.app_context(), db.engine().connect() as look:
                return look.scalar(text("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                        "WHERE c.relname = 'sent_reminder' AND NOT l.granted"))
        name = Path(self.url.database).resolve()
        found = 0
        for process in processes:
            try:
                fds = list(Path(f"/proc/{process.pid}/fd").iterdir())
            except OSError:  # no /proc: give them time
                time.sleep(8)
                return len(processes)
            found += any(_target(fd) == name for fd in fds)
        return found

    def open(self) -> None:
        self.connection.execute(text("COMMIT") if self.postgres else "COMMIT")
        self.connection.close()

    def __exit__(self, *_exc):
        try:
            self.connection.close()
        except Exception:
            pass


def _target(fd: Path) -> Path | None:
    try:
        return Path(os.readlink(fd)).resolve()
    except OSError:
        return None


def reported(output: str) -> Counter:
    counts = Counter()
    for line in output.splitlines():
        found = SENT.match(line)
        if found:
            counts[found["label"]] += int(found["count"])
    return counts


def outbox(app) -> Counter:
    with app.app_context():
        return Counter(dict(db.session().execute(select(OutboxMail.kind, func.count()).group_by(OutboxMail.kind))
                            .all()))


def test_two_tick_processes_at_once_send_each_reminder_once(client, world, app, tmp_path):
    at, expected = due_at_once(client, world)
    before = outbox(app)
    env = environment(app, tmp_path)

    with Gate(app) as gate:
        processes = [start_tick(env, tmp_path, at) for _ in range(2)]
        gate.wait_for(processes)
        gate.open()
    results = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, (out, err)
        assert "Traceback" not in err, err

    sent = outbox(app) - before
    assert {kind: sent[kind] for kind in expected} == expected
    assert sum(sent.values()) == sum(expected.values())  # nothing else, nothing twice
    with app.app_context():
        keys = list(db.session().scalars(select(SentReminder.key)))
    assert len(keys) == len(set(keys)) == 7
    together = reported(results[0][0]) + reported(results[1][0])
    assert together["Reminders that access ends"] == 4 and together["Escalations of overdue screening"] == 2
    assert together["Reminders to vote"] == 1  # one reminder, to the four who have not voted
    raced = sum(int(out.rsplit("at the same time: ", 1)[1].split(".")[0]) for out, _err in results)
    assert raced > 0, "the two ticks did not race: the test proves nothing"
    if gate.postgres:
        assert raced == 7  # both waited before reading the keys: each key was tried by both

    again = subprocess.run([sys.executable, "-m", "harmony", "requests", "tick", "--now",
                            (at + timedelta(hours=1)).isoformat()], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert sum(reported(again.stdout).values()) == 0 and outbox(app) - before == sent

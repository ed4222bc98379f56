"""The index folder: generations of the whoosh index, the writers' lock, the applied-changes record.

    <SEARCH_INDEX_DIR>/CURRENT         name of the live generation (replaced atomically)
    <SEARCH_INDEX_DIR>/writer.lock     held by whoever writes (sync, reindex); others wait, with a timeout
    <SEARCH_INDEX_DIR>/g-<name>/       a whoosh index and applied.json, the change-log position it reflects

A rebuild writes a new generation beside the live one and switches CURRENT when it has caught
up, so searches never see a half-built index. Every file that records progress is written to a
temporary name, flushed to disk and renamed over the old one: a crash leaves the old or the new
file, never a torn one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from harmony.search.codec import Codec
from harmony.search.schema import build_schema

CURRENT = "CURRENT"
LOCK = "writer.lock"
APPLIED = "applied.json"
BUILDING = "building"  # marks a generation still being written by a rebuild
STALE_BUILD_SECONDS = 24 * 3600


class LockTimeout(Exception):
    """Another process held the writer lock for longer than we were prepared to wait."""


def codec() -> Codec:
    return Codec()


# Every writer: Harmony's codec, and one file per part of a segment. Whoosh's compound segment
# files are read through a copy in memory of each part (the postings, the columns) every time a
# reader opens them, which at 100,000 datasets costs seconds and hundreds of megabytes per refresh.
WRITER_OPTIONS = {"codec": Codec(), "compound": False}


@contextmanager
def writer_lock(root: Path, timeout: float) -> Iterator[None]:
    """The index folder's writer lock (an OS file lock: released even if the holder is killed)."""
    root.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(root / LOCK, "a+b") as handle:
        delay = 0.005
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"the search index at {root} is busy") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@dataclass
class Applied:
    """The change-log position a generation reflects: every sequence number up to `seq` is applied
    except the `gaps` (numbers not seen yet, with when they were first missed: on PostgreSQL a
    transaction can commit after one that took a later number)."""

    seq: int = 0
    gaps: dict[int, float] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps({"seq": self.seq, "gaps": {str(k): v for k, v in sorted(self.gaps.items())}}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Applied:
        raw = json.loads(data)
        return cls(int(raw["seq"]), {int(k): float(v) for k, v in raw.get("gaps", {}).items()})


def current_name(root: Path) -> str | None:
    try:
        name = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        return None
    return name if name and (root / name).is_dir() else None


def read_applied(generation: Path) -> Applied:
    try:
        return Applied.from_json((generation / APPLIED).read_bytes())
    except FileNotFoundError:
        return Applied()


def write_applied(generation: Path, applied: Applied) -> None:
    write_atomically(generation / APPLIED, applied.to_json())


def new_generation(root: Path) -> Path:
    """An empty index in a fresh folder (not live until `switch_to`)."""
    path = root / f"g-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    (path / BUILDING).write_text(f"{socket.gethostname()} {os.getpid()}")
    whoosh_index.create_in(str(path), build_schema())
    return path


def discard(generation: Path) -> None:
    """Remove a generation whose build failed."""
    shutil.rmtree(generation, ignore_errors=True)


def _abandoned(generation: Path) -> bool:
    """A generation whose rebuild will never finish: its process is gone (or it is very old)."""
    marker = generation / BUILDING
    try:
        host, pid = marker.read_text().split()
        age = time.time() - marker.stat().st_mtime
    except (OSError, ValueError):
        return True
    if age > STALE_BUILD_SECONDS:
        return True
    if host != socket.gethostname():
        return False  # another machine's rebuild in a shared folder: leave it to the age limit
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def open_index(generation: Path) -> whoosh_index.Index:
    return whoosh_index.open_dir(str(generation))


def switch_to(root: Path, generation: Path) -> None:
    """Make `generation` the live one; keep the previous one a while for searchers still on it."""
    previous = current_name(root)
    (generation / BUILDING).unlink(missing_ok=True)
    write_atomically(root / CURRENT, generation.name.encode())
    for entry in root.iterdir():
        if not entry.is_dir() or not entry.name.startswith("g-") or entry.name in (generation.name, previous):
            continue
        if (entry / BUILDING).exists() and not _abandoned(entry):
            continue  # another rebuild is still writing it
        shutil.rmtree(entry, ignore_errors=True)

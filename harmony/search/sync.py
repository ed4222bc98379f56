"""Bringing an index generation in step with the database, from the change log.

Catalog transactions write change-log rows; here they are read in sequence order, the datasets
they name are read again from the database as they are now, and the index is told to replace or
drop their documents. Applying a change twice gives the same index, so a crash anywhere only
means some rows are applied again: the position is saved after the index has committed.

On PostgreSQL a sequence number is taken when the row is inserted, not when the transaction
commits, so number 41 can become visible after number 42. Numbers skipped over are kept as
gaps and looked for again until they appear or grow too old (a rolled-back transaction never
fills its gap).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, or_, select

from harmony.catalog.models import PUBLISHED, Dataset, DatasetVersion, StudyGroup
from harmony.db import ChangeLog
from harmony.search import bulk, store
from harmony.search.schema import Source, document

log = logging.getLogger(__name__)

BATCH = 2000  # change-log rows per index commit
GAP_TIMEOUT = 600.0  # seconds a skipped sequence number is waited for
RECENT = 1000  # sequence numbers below the newest that a rebuild checks for gaps
MAX_GAP_SPAN = 10_000  # a larger jump in sequence numbers is a reset, not a set of gaps
WRITER_TIMEOUT = 30.0


def _sources_query() -> Any:
    dataset, version, group = Dataset.__table__, DatasetVersion.__table__, StudyGroup.__table__
    joined = dataset.join(version, (version.c.dataset_id == dataset.c.id)
                          & (version.c.version == dataset.c.published_version))
    joined = joined.join(group, group.c.id == dataset.c.group_id)
    return (select(dataset.c.id, dataset.c.pid, dataset.c.group_id, version.c.content, version.c.issued_at,
                   group.c.acronym, group.c.name)
            .select_from(joined).where(dataset.c.state == PUBLISHED))


def _source(row: Any) -> Source:
    return Source(dataset_id=row.id, pid=row.pid, group_id=row.group_id, group_acronym=row.acronym,
                  group_name=row.name, content=row.content or {}, issued_at=row.issued_at)


def read_sources(connection: Connection, dataset_ids: Iterable[int] | None = None) -> Iterator[Source]:
    """Published datasets (all, or those of `dataset_ids`) with their newest version."""
    query = _sources_query()
    if dataset_ids is None:
        result = connection.execution_options(yield_per=1000).execute(query.order_by(Dataset.__table__.c.id))
        for row in result:
            yield _source(row)
        return
    wanted = sorted(set(dataset_ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in connection.execute(query.where(Dataset.__table__.c.id.in_(chunk))):
            yield _source(row)


def newest_seq(connection: Connection) -> int:
    return connection.scalar(select(func.max(ChangeLog.seq))) or 0


def snapshot(connection: Connection, now: float | None = None) -> store.Applied:
    """The change-log position to start a rebuild from, read before the datasets are: numbers
    missing among the recent ones may belong to transactions still running."""
    now = time.time() if now is None else now
    top = newest_seq(connection)
    seen = set(connection.scalars(select(ChangeLog.seq).where(ChangeLog.seq > top - RECENT)))
    return store.Applied(top, {seq: now for seq in range(max(1, top - RECENT + 1), top) if seq not in seen})


def scan(connection: Connection, applied: store.Applied, now: float,
         gap_timeout: float = GAP_TIMEOUT) -> tuple[list[Any], store.Applied]:
    """The next change-log rows to apply, and the position after applying them."""
    condition = ChangeLog.seq > applied.seq
    if applied.gaps:
        condition = or_(condition, ChangeLog.seq.in_(sorted(applied.gaps)))
    rows = list(connection.execute(
        select(ChangeLog.seq, ChangeLog.entity_kind, ChangeLog.entity_id)
        .where(condition).order_by(ChangeLog.seq).limit(BATCH)))
    gaps = dict(applied.gaps)
    high = applied.seq
    for row in rows:
        if row.seq in gaps:
            del gaps[row.seq]
        elif row.seq > high:
            if row.seq - high <= MAX_GAP_SPAN:
                gaps.update((missing, now) for missing in range(high + 1, row.seq))
            high = row.seq
    gaps = {seq: since for seq, since in gaps.items() if now - since < gap_timeout}
    return rows, store.Applied(high, gaps)


def affected_datasets(connection: Connection, rows: Iterable[Any]) -> set[int]:
    """The datasets whose documents the rows change (a group's name is in its datasets' text)."""
    datasets: set[int] = set()
    groups: set[int] = set()
    for row in rows:
        try:
            entity = int(row.entity_id)
        except ValueError:
            continue
        if row.entity_kind == "dataset":
            datasets.add(entity)
        elif row.entity_kind == "group":
            groups.add(entity)
    if groups:
        table = Dataset.__table__
        datasets.update(connection.scalars(select(table.c.id).where(table.c.group_id.in_(sorted(groups)))))
    return datasets


def write(index: Any, connection: Connection, dataset_ids: set[int]) -> None:
    """Replace the documents of the datasets with what the database holds now (or drop them)."""
    found = {source.dataset_id: source for source in read_sources(connection, dataset_ids)}
    writer = index.writer(**store.WRITER_OPTIONS, timeout=WRITER_TIMEOUT, delay=0.05)
    try:
        for dataset_id in sorted(dataset_ids):
            source = found.get(dataset_id)
            if source is None:
                writer.delete_by_term("key", str(dataset_id))
            else:
                writer.update_document(**document(source))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def apply_pending(connection_factory: Callable[[], Any], generation: Path, index: Any,
                  gap_timeout: float = GAP_TIMEOUT) -> int:
    """Apply every pending change-log row to the generation; the caller holds the writer lock.
    Returns how many rows were applied."""
    applied = store.read_applied(generation)
    done = 0
    while True:
        with connection_factory() as connection:
            rows, after = scan(connection, applied, time.time(), gap_timeout)
            if rows:
                write(index, connection, affected_datasets(connection, rows))
        if after != applied:
            store.write_applied(generation, after)
            applied = after
        done += len(rows)
        if len(rows) < BATCH:
            return done


def published_ids(connection: Connection) -> list[int]:
    table = Dataset.__table__
    return list(connection.scalars(select(table.c.id).where(table.c.state == PUBLISHED).order_by(table.c.id)))


def _shared_url(connection: Connection) -> str | None:
    """The database's address, for other processes to read it too (None for an in-memory SQLite)."""
    url = connection.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def build(connection: Connection, generation: Path, procs: int = 1,
          progress: Callable[[int], None] | None = None) -> int:
    """Write every published dataset into the (new, empty) generation. Returns how many. Datasets
    read after the snapshot may already show later changes; applying those again is harmless."""
    start = snapshot(connection)
    index = store.open_index(generation)
    url = _shared_url(connection) if procs > 1 else None
    if url is None:
        count = bulk.build(index, read_sources(connection), progress)
    else:
        ids = published_ids(connection)
        connection.rollback()  # the workers read for themselves; hold no snapshot open meanwhile
        count = bulk.build_parallel(index, url, ids, procs, progress)
    store.write_applied(generation, start)
    return count

"""Writing a whole generation at once: a leaner whoosh segment writer, and documents built in parallel.

Whoosh's own writer sends every posting (each term of each document, some 20 million at
100,000 datasets) through a sorting pool as a tuple, sorts them all at commit and writes them
one call at a time. A rebuild adds documents in document-number order, so `BulkWriter` keeps
each term's document numbers and frequencies in arrays as they arrive, and each column's values
and field lengths in lists: committing sorts the terms, not the postings, and `segment_files`
writes each term's postings, its term record and each column whole. The segment's files are
the ones whoosh's writer makes from the same documents, byte for byte (a test compares them),
so the readers, the change-log updates and merges are whoosh's own.

`build_parallel` spreads the work over processes: this one hands out the ids of the datasets in
batches; each worker reads its batches from the database, builds the documents (analysis,
disease expansion) and writes a segment of its own; this process then records the workers'
segments as the generation's contents. A worker that fails fails the build, and the caller
discards the generation.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import traceback
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from itertools import repeat
from pathlib import Path
from typing import Any

from whoosh import fields, formats
from whoosh.analysis import IDTokenizer
from whoosh.fields import UnknownFieldError
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from harmony.search import analysis, segment_files, store
from harmony.search import bits as bitsets
from harmony.search.schema import Source, document
from harmony.search.segment_files import COUNTED, PRESENT, WEIGHTED, WHOLE

BATCH = 500  # datasets per batch handed to a worker
QUEUE_DEPTH = 2  # batches waiting per worker
POLL = 1.0  # seconds between looks at whether the workers are still alive


class BuildFailed(RuntimeError):
    """An indexing worker failed or died; the generation it wrote to is unusable."""


MIN_BITMAP_DOCS = 512  # a term in fewer documents is read from its postings (one block)
_consume = deque(maxlen=0).extend  # runs an iterator of appends


class _Postings(dict[Any, array]):
    """Term -> an array of its postings, made on first sight."""

    def __init__(self, typecode: str) -> None:
        super().__init__()
        self.typecode = typecode

    def __missing__(self, term: Any) -> array:
        found = self[term] = array(self.typecode)
        return found


class BulkWriter(SegmentWriter):
    """A whoosh segment writer for many documents added at once (see the module's description).
    Only adds documents: no deletions, no updates, no merging of the other segments."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        if self.codec._compression or self.codec._inlinelimit != 1:
            raise ValueError("BulkWriter writes uncompressed posting blocks and inlines none (Harmony's codec)")
        plan = {}
        for name, field in self.schema.items():
            if isinstance(field.format, analysis.CountedFrequency):
                kind = COUNTED
            elif type(field.format) is formats.Existence and type(field.analyzer) is analysis.SpaceTokenizer:
                kind = PRESENT
            elif (type(field) is fields.ID and type(field.format) is formats.Existence
                  and type(field.analyzer) is IDTokenizer):
                kind = WHOLE
            else:
                kind = WEIGHTED
            # a plain column's value is the value itself (`COLUMN.to_column_value`)
            column = (None if field.column_type is None else
                      _same if type(field) is fields.COLUMN else field.to_column_value)
            plan[name] = (field, kind, field.indexed, field.scorable, field.stored, column)
        self._plan = plan
        self._names = frozenset(plan)
        # field -> term -> postings. Counted fields: the document number, then the frequency, two
        # numbers per posting; facets and whole values (the key): document numbers (each value
        # once per document, weight the field's boost); all keyed by the term. Other fields:
        # [docs, weights, values], keyed by bytes.
        self._postings: dict[str, dict[Any, Any]] = {}
        self._codes: dict[str, bytearray] = {}  # field -> each document's length as whoosh stores it
        self._totals: dict[str, int] = {}  # field -> the sum of its lengths
        self._columns: dict[str, list[Any]] = {}  # field -> each document's column value (None: none)
        self._failed = False  # a document failed part way: its postings may be half added

    def add_document(self, **fields: Any) -> None:
        """Add one document. If it fails part way, the writer can only be cancelled."""
        self._check_state()
        self._check_not_failed()
        if not fields.keys() <= self._names:  # whoosh's special "_" arguments included
            raise UnknownFieldError(f"no field named {sorted(fields.keys() - self._names)} in {self.schema}")
        try:
            self._add(self.docnum, fields)
        except BaseException:
            self._failed = True
            raise
        self._added = True
        self.docnum += 1

    def _add(self, docnum: int, fields: dict[str, Any]) -> None:
        stored = {}
        for name, value in fields.items():
            if value is None:
                continue
            field, kind, indexed, scorable, keep, column = self._plan[name]
            if indexed:
                length = 0
                table = self._postings.get(name)
                if table is None:
                    table = self._postings[name] = _Postings("I")
                if kind is PRESENT:
                    if " " not in value and value.isprintable():  # no white space: one value or none
                        if value:
                            table[value].append(docnum)
                    else:
                        _consume(map(array.append, map(table.__getitem__, set(value.split())), repeat(docnum)))
                elif kind is WHOLE:
                    table[value].append(docnum)
                elif kind is COUNTED:
                    if not isinstance(value, analysis.TermCounts):
                        value = analysis.TermCounts.of([t.text for t in field.tokenize(value, mode="index")])
                    if value:  # each posting as two numbers: the document, then the count
                        arrays = list(map(table.__getitem__, value))
                        _consume(map(array.append, arrays, repeat(docnum)))
                        _consume(map(array.append, arrays, value.counts))
                        length = sum(value.counts)
                else:
                    for btext, freq, weight, vbytes in field.index(value):
                        entry = table.get(btext)
                        if entry is None:
                            entry = table[btext] = [array("I"), array("d"), []]
                        entry[0].append(docnum)
                        entry[1].append(weight)
                        entry[2].append(vbytes or b"")
                        if scorable:
                            length += freq
                if scorable and length:
                    codes = self._codes.get(name)
                    if codes is None:
                        codes = self._codes[name] = bytearray()
                    codes.extend(bytes(docnum + 1 - len(codes)))
                    codes[docnum] = length_to_byte(length)
                    self._totals[name] = self._totals.get(name, 0) + length
            if keep:
                stored[name] = value
            if column:
                found = self._columns.get(name)
                if found is None:
                    found = self._columns[name] = []
                if len(found) != docnum:
                    found.extend([None] * (docnum - len(found)))
                found.append(column(value))
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        for name in sorted(stored):  # (the stored fields are pickled in whoosh's order)
            perdoc.add_field(name, self._plan[name][0], stored[name], 0)
        perdoc.finish_doc()

    def _check_not_failed(self) -> None:
        if self._failed:
            raise RuntimeError("a document failed part way through this writer: cancel it")

    def _flush_segment(self) -> None:
        self._check_not_failed()
        perdoc = self.perdocwriter
        # the field lengths' totals in the order whoosh's writer meets them: by the first document
        # with a length (its leading zero codes), sorted within a document
        codes = self._codes
        totals = {name: self._totals[name] for name in
                  sorted(self._totals, key=lambda name: (len(codes[name]) - len(codes[name].lstrip(b"\0")), name))}
        segment_files.write_columns(perdoc, self.schema, self._columns, self._codes, totals)
        perdoc.close()
        bitmaps = TermBitmaps(self.docnum)
        for name in sorted(self._postings):
            field, kind, _indexed, scorable, _keep, _column = self._plan[name]
            codes = self._codes.get(name) if scorable and self.codec.length_stats else None
            if codes is not None:
                codes = bytes(codes) + bytes(self.docnum - len(codes))
            table = self._postings.pop(name)
            if not table:  # (whoosh's writer numbers only fields with postings)
                continue
            writer = segment_files.FieldPostings(self.fieldwriter, name, field, kind, codes)
            if kind is WEIGHTED:  # keyed by bytes already
                for btext in sorted(table):
                    docs, weights, values = table[btext]
                    writer.write(btext, docs, weights=weights, values=values)
            else:  # (text sorts as its UTF-8 bytes do)
                for key in sorted(table):
                    postings = table[key]
                    if kind is COUNTED:
                        docs, counts = postings[0::2], postings[1::2]
                        writer.write_counted(key.encode(), docs, counts)
                        bitmaps.add(name, key, docs, counts)
                    else:
                        writer.write_present(key.encode(), postings)
            writer.close()
        segment_files.close_terms(self.fieldwriter)
        bitmaps.write(self.newsegment, self.storage)

    def finish_segment(self) -> Any:
        """Close the segment and return it, for a parent process to commit (see `build`)."""
        return self._finalize_segment()


def _same(value: Any) -> Any:
    return value


class TermBitmaps:
    """The frequent terms of a segment's text fields as bitsets, beside its postings (the segment's
    ``.bits`` file; whoosh keeps it with the segment and deletes it with it). A search turns a
    term's postings into bitsets (`view.Segment.term`); for a frequent term that means reading
    and unpickling thousands of postings, where this file gives the two bitsets in one read.

    Layout: MAGIC, then per term its documents and those where it appears twice or more (little-
    endian bitsets over the segment's document numbers), then a pickled table
    {(field, term): (offset, length, length)}, then the table's offset (8 bytes, little-endian)."""

    MAGIC = b"harmony-bits-1\n"
    EXTENSION = ".bits"
    SHARE = 16  # a term in at least one document in SHARE gets its bitsets written

    def __init__(self, size: int) -> None:
        self.size = size
        self.least = max(MIN_BITMAP_DOCS, size // self.SHARE)
        self.parts: list[bytes] = []
        self.table: dict[tuple[str, str], tuple[int, int, int]] = {}
        self.offset = len(self.MAGIC)

    def add(self, field: str, term: str, docs: array, counts: array) -> None:
        if len(docs) < self.least:
            return
        present, twice = bitsets.present_and_repeated(docs, counts, self.size)
        present = present.to_bytes((self.size >> 3) + 1, "little")
        repeated = twice.to_bytes((twice.bit_length() + 7) >> 3, "little")
        self.table[(field, term)] = (self.offset, len(present), len(repeated))
        self.parts += [present, repeated]
        self.offset += len(present) + len(repeated)

    def write(self, segment: Any, storage: Any) -> None:
        if not self.table:
            return
        handle = segment.create_file(storage, self.EXTENSION)
        try:
            handle.write(self.MAGIC)
            for part in self.parts:
                handle.write(part)
            handle.write(pickle.dumps(self.table, protocol=pickle.HIGHEST_PROTOCOL))
            handle.write(self.offset.to_bytes(8, "little"))
        finally:
            handle.close()

    @classmethod
    def read(cls, data: Any) -> dict[tuple[str, str], tuple[int, int, int]]:
        """The table of a ``.bits`` file's contents (bytes or a memory map)."""
        if data[:len(cls.MAGIC)] != cls.MAGIC:
            raise ValueError("not a term bitmap file")
        offset = int.from_bytes(data[-8:], "little")
        return pickle.loads(data[offset:-8])


# --- the build, in this process or spread over several -----------------------------------------


def _options() -> dict[str, Any]:
    return {**store.WRITER_OPTIONS, "timeout": 30.0}


def build(index: Any, sources: Iterable[Source], progress: Callable[[int], None] | None = None) -> int:
    """Write the documents of `sources` into the (new, empty) index, in this process. Returns how many."""
    writer = BulkWriter(index, **_options())
    count = 0
    try:
        for source in sources:
            writer.add_document(**document(source))
            count += 1
            if progress is not None and count % 1000 == 0:
                progress(count)
        writer.commit(merge=False)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    return count


def _context() -> Any:
    # fork starts a worker at once, with the vocabularies already loaded; a process with other
    # threads (one of which might hold a lock when it forks) starts fresh interpreters instead
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _work(folder: str, database_url: str, options: dict[str, Any], jobs: Any, results: Any) -> None:
    """A worker: reads the datasets of each batch of ids it is given from the database and writes
    their documents into a segment of its own."""
    from harmony import db
    from harmony.search.sync import read_sources

    try:
        engine = db.create_engine(database_url)
        writer = BulkWriter(store.open_index(Path(folder)), _lk=False, **options)
        count = 0
        while (ids := jobs.get()) is not None:
            with engine.connect() as connection:
                for source in read_sources(connection, ids):
                    writer.add_document(**document(source))
                    count += 1
        engine.dispose()
        results.put(("done", writer.finish_segment() if count else None, count))
    except BaseException:
        results.put(("failed", traceback.format_exc(), 0))


def build_parallel(index: Any, database_url: str, ids: list[int], procs: int,
                   progress: Callable[[int], None] | None = None) -> int:
    """Write the documents of the datasets `ids` into the (new, empty) index with `procs` worker
    processes, each reading its batches from the database. Returns how many were written."""
    context = _context()
    # each worker its own queue, the batches dealt round: every worker gets an equal share
    queues, results = [context.Queue(QUEUE_DEPTH) for _ in range(procs)], context.Queue()
    options = _options()
    writer = BulkWriter(index, **options)  # holds the index's lock; its own segment stays empty
    workers = [context.Process(target=_work, args=(index.storage.folder, database_url, options, jobs, results),
                               daemon=True)
               for jobs in queues]
    reported: list[tuple[str, Any, int]] = []

    def check() -> None:
        try:
            while True:
                reported.append(results.get_nowait())
        except queue.Empty:
            pass
        for kind, detail, _count in reported:
            if kind == "failed":
                raise BuildFailed(f"an indexing worker failed:\n{detail}")
        if len(reported) < len(workers) and any(w.exitcode not in (None, 0) for w in workers):
            raise BuildFailed("an indexing worker died")

    def put(jobs: Any, item: Any) -> None:
        while True:
            try:
                jobs.put(item, timeout=POLL)
                return
            except queue.Full:
                check()

    try:
        for worker in workers:
            worker.start()
        for number, start in enumerate(range(0, len(ids), BATCH)):
            put(queues[number % procs], ids[start:start + BATCH])
            if progress is not None and (start + BATCH) % 1000 == 0:
                progress(min(start + BATCH, len(ids)))
        for jobs in queues:
            put(jobs, None)
        while len(reported) < len(workers):
            check()
            try:
                reported.append(results.get(timeout=POLL))
            except queue.Empty:
                pass
        check()
        for worker in workers:
            worker.join()
        writer._close_segment()
        writer._commit_toc([segment for _, segment, _ in reported if segment is not None])
        writer._finish()
        return sum(count for _, _, count in reported)
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        writer.cancel()
        raise
    finally:
        for channel in (*queues, results):
            channel.close()
            channel.join_thread()

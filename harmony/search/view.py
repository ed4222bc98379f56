"""One generation of the index as sets: facet values, numbers and query terms as bitsets.

Whoosh reads postings one document at a time, which at 100,000 datasets costs hundreds of
milliseconds for a frequent word or a facet count. A `View` instead holds every facet value and
number of the searcher's generation as bitsets over its document numbers, and turns the postings
of a query term into a bitset once. Segments never change once written (only their deletion
lists do), so what was read from a segment is kept per segment id and reused by the next
generation: after a commit only the new, small segment is read.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from collections import OrderedDict
from itertools import accumulate
from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.filedb.filestore import FileStorage
from whoosh.matching.wrappers import FilterMatcher

from harmony.catalog.vocabularies import diseases
from harmony.search import bits as bitsets
from harmony.search.bulk import TermBitmaps
from harmony.search.schema import FACET_FIELDS, NUMBER_FIELDS

TERM_CACHE_SIZE = 1024  # per segment: a term's bitset and its "appears twice or more" bitset
MEMO_SIZE = 64  # derived results kept per generation (each can hold a few megabytes of bitsets)


def _postings(reader: Any, field: str, text: bytes, size: int) -> tuple[int, int]:
    """The documents of a term in one segment, and those where it appears at least twice
    (a posting's weight is its frequency times the field's boost)."""
    twice = 2 * getattr(reader.schema[field].format, "field_boost", 1.0)
    try:
        matcher = reader.postings(field, text)
    except Exception:  # whoosh raises TermNotFound (a KeyError) for an unknown term
        return 0, 0
    if isinstance(matcher, FilterMatcher):  # deleted documents; the view masks them itself
        matcher = matcher.child
    found = bytearray((size >> 3) + 1)
    repeated = bytearray((size >> 3) + 1)
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        # Whole blocks at a time: whoosh keeps a block as (id gaps, weights, values), with the
        # weights left out when all are 1 and given once when all are equal.
        while True:
            if matcher._data is None:
                matcher._read_data()
            gaps, weights = matcher._data[0], matcher._data[1]
            docs = list(accumulate(gaps))
            for doc in docs:
                found[doc >> 3] |= 1 << (doc & 7)
            if isinstance(weights, float):
                weights = (weights,) * len(docs)
            for doc, weight in zip(docs, weights or (), strict=False):
                if weight >= twice:
                    repeated[doc >> 3] |= 1 << (doc & 7)
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
    else:
        while matcher.is_active():
            doc = matcher.id()
            found[doc >> 3] |= 1 << (doc & 7)
            if matcher.weight() >= twice:
                repeated[doc >> 3] |= 1 << (doc & 7)
            matcher.next()
    return int.from_bytes(found, "little"), int.from_bytes(repeated, "little")


class _SequenceColumn:
    """A segment's `sequence` column: where each document's value lies, and the file mapped."""

    TITLE_END = b" || "

    def __init__(self, reader: Any) -> None:
        column = reader.column_reader("sequence", translate=False)
        self.offsets, self.lengths = column._offsets, column._lengths
        self.base = column._basepos
        self.mapped: mmap.mmap | None = None
        storage = reader.storage()
        if isinstance(storage, FileStorage):  # one file per part of the segment: map it
            name = W3Codec.column_filename(reader.segment(), "sequence")
            with open(os.path.join(storage.folder, name), "rb") as handle:
                self.mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def having(self, reader: Any, docs: list[int], wanted: bytes, title_only: bool) -> list[int]:
        offsets, lengths, base = self.offsets, self.lengths, self.base
        found = []
        if self.mapped is not None:
            mapped = self.mapped
            for doc in docs:
                start = base + offsets[doc]
                end = start + lengths[doc]
                if title_only:
                    end = mapped.find(self.TITLE_END, start, end) + 1 or end
                if mapped.find(wanted, start, end) >= 0:
                    found.append(doc)
            return found
        column = reader.column_reader("sequence")  # a compound segment (an older index)
        for doc in docs:
            text = column[doc]
            if title_only:
                text = text.split(self.TITLE_END, 1)[0] + b" "
            if wanted in text:
                found.append(doc)
        return found


class Segment:
    """What was read from one whoosh segment: facet values and numbers as bitsets, and terms."""

    def __init__(self, reader: Any) -> None:
        self.size = reader.doc_count_all()
        self.dataset_ids = self._column(reader, "dataset_id")
        self.facets: dict[str, dict[str, int]] = {}
        for field in FACET_FIELDS:
            values = {}
            for text in reader.lexicon(field):
                values[text.decode("utf-8")] = _postings(reader, field, text, self.size)[0]
            self.facets[field] = values
        self.numbers = {field: bitsets.BitSlices.build(self._column(reader, field)) for field in NUMBER_FIELDS}
        self._terms: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._sequence: _SequenceColumn | None = None
        self._lock = threading.Lock()
        self._bitmaps, self._bitmap_table = self._open_bitmaps(reader)

    @staticmethod
    def _open_bitmaps(reader: Any) -> tuple[mmap.mmap | None, dict[tuple[str, str], tuple[int, int, int]]]:
        """The segment's frequent terms as bitsets, if a rebuild wrote them (`bulk.TermBitmaps`)."""
        storage = reader.storage()
        if not isinstance(storage, FileStorage):
            return None, {}
        path = os.path.join(storage.folder, reader.segment().make_filename(TermBitmaps.EXTENSION))
        try:
            with open(path, "rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (FileNotFoundError, ValueError):  # none, or empty
            return None, {}
        return mapped, TermBitmaps.read(mapped)

    def with_phrase(self, reader: Any, docs: list[int], wanted: bytes, title_only: bool) -> list[int]:
        """The documents whose sequence holds `wanted`. The column file is mapped into memory once
        and searched in place (whoosh's column reader would read each value with two system calls)."""
        with self._lock:
            if self._sequence is None:
                self._sequence = _SequenceColumn(reader)
        return self._sequence.having(reader, docs, wanted, title_only)

    def _column(self, reader: Any, field: str) -> list[int]:
        if not reader.has_column(field):
            return [0] * self.size
        return list(reader.column_reader(field))

    def term(self, reader: Any, field: str, text: str) -> tuple[int, int]:
        key = (field, text)
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        stored = self._bitmap_table.get(key)
        if stored is not None and self._bitmaps is not None:
            offset, present, repeated = stored
            data = self._bitmaps
            found = (int.from_bytes(data[offset:offset + present], "little"),
                     int.from_bytes(data[offset + present:offset + present + repeated], "little"))
        else:
            found = _postings(reader, field, text.encode("utf-8"), self.size)
        with self._lock:
            self._terms[key] = found
            if len(self._terms) > TERM_CACHE_SIZE:
                self._terms.popitem(last=False)
        return found


class SegmentCache:
    """Segments read so far, by segment id (shared by the generations of one index folder)."""

    def __init__(self) -> None:
        self._segments: dict[str, Segment] = {}
        self._lock = threading.Lock()

    def get(self, reader: Any) -> Segment:
        segment_id = reader.segment().segment_id()
        with self._lock:
            found = self._segments.get(segment_id)
        if found is None:
            found = Segment(reader)
            with self._lock:
                self._segments[segment_id] = found
        return found

    def keep_only(self, segment_ids: set[str]) -> None:
        with self._lock:
            for gone in set(self._segments) - segment_ids:
                del self._segments[gone]


class View:
    """A searcher generation as bitsets over its document numbers (deleted documents masked)."""

    def __init__(self, searcher: Any, cache: SegmentCache) -> None:
        self.searcher = searcher
        # The searcher's files are closed when the last search using this generation lets go of it.
        weakref.finalize(self, searcher.close)
        reader = searcher.reader()
        # an index with no document yet has one empty reader without a segment: nothing to read
        self.leaves = [(leaf, offset, cache.get(leaf)) for leaf, offset in reader.leaf_readers()
                       if leaf.segment() is not None]
        cache.keep_only({leaf.segment().segment_id() for leaf, _, _ in self.leaves})
        self.size = sum(segment.size for _, _, segment in self.leaves)
        self.live = 0
        self.dataset_ids: list[int] = []
        for leaf, offset, segment in self.leaves:
            deleted = bitsets.from_ids(leaf.deleted_docs_set, segment.size) if leaf.has_deletions() else 0
            self.live |= (bitsets.full(segment.size) & ~deleted) << offset
            self.dataset_ids += segment.dataset_ids
        self.facets: dict[str, dict[str, int]] = {}
        for field in FACET_FIELDS:
            joined: dict[str, int] = {}
            for _, offset, segment in self.leaves:
                for value, found in segment.facets[field].items():
                    joined[value] = joined.get(value, 0) | (found << offset)
            self.facets[field] = {value: found & self.live for value, found in joined.items() if found & self.live}
        self.numbers = {}
        for field in NUMBER_FIELDS:
            column = bitsets.BitSlices.join([(segment.numbers[field], offset) for _, offset, segment in self.leaves])
            column.present &= self.live
            self.numbers[field] = column
        self.categories = self._categories()
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def count(self) -> int:
        return self.live.bit_count()

    def term(self, field: str, text: str) -> tuple[int, int]:
        """A term's documents, and those where it appears twice or more."""
        found = repeated = 0
        for leaf, offset, segment in self.leaves:
            one, two = segment.term(leaf, field, text)
            found |= one << offset
            repeated |= two << offset
        return found & self.live, repeated & self.live

    def facet(self, field: str, value: str) -> int:
        return self.facets[field].get(value, 0)

    def phrase(self, sequence: list[str], candidates: int, title_only: bool = False) -> int:
        """The candidates whose title, a disease name or keyword, or description has the terms
        in this order (looked for in the `sequence` column, only for the candidates)."""
        wanted = f" {' '.join(sequence)} ".encode()
        found = []
        for leaf, offset, segment in self.leaves:
            local = (candidates >> offset) & bitsets.full(segment.size)
            if local:
                found += [doc + offset for doc in segment.with_phrase(leaf, bitsets.ids(local), wanted, title_only)]
        return bitsets.from_ids(found, self.size)

    def _categories(self) -> dict[str, int]:
        """Datasets per disease category (by their own diseases)."""
        vocabulary = diseases()
        found: dict[str, int] = {}
        for disease_id, members in self.facets["disease_own"].items():
            if disease_id in vocabulary and (category := vocabulary.category(disease_id)) is not None:
                found[category.key] = found.get(category.key, 0) | members
        return found

    def memo(self, key: Any, compute: Any) -> Any:
        """Remember a derived result for the life of this generation (a query's counts and
        ranking, a purpose's bitset), the most recently used `MEMO_SIZE` of them."""
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > MEMO_SIZE:
                self._cache.popitem(last=False)
        return value

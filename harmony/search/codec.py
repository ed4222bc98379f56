"""Whoosh's W3 codec, tuned for how Harmony writes and reads its index.

Writing a segment is a loop over every posting (each term of each document), and at 100,000
datasets there are some 25 million of them, so each step of that loop counts:

- field lengths are read into memory once per segment, not one byte from the column file per
  posting, and a field without lengths (every keyword field) is not looked up on disk again for
  every posting;
- the posting loop and the posting writer skip checks that only guard against callers other
  than whoosh's own writer, which is the only caller here;
- posting blocks are larger and not compressed, because reading all the documents of a term
  (to make a bitset) is the hot path of searching.

The file format is whoosh's own: a stock W3 reader reads these segments.
"""

from __future__ import annotations

from itertools import chain
from operator import sub
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3FieldWriter, W3PerDocReader, W3PostingsWriter, _lenfield
from whoosh.util.numeric import byte_to_length


class _PerDocReader(W3PerDocReader):
    def __init__(self, storage: Any, segment: Any) -> None:
        super().__init__(storage, segment)
        self._missing: set[str] = set()
        self._lengths: dict[str, bytes] = {}

    def _cached_reader(self, fieldname: str, column: Any) -> Any:
        if fieldname in self._missing:
            return None
        found = super()._cached_reader(fieldname, column)
        if found is None:
            self._missing.add(fieldname)
        return found

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            lengths = self._lengths[fieldname] = bytes(reader) if reader is not None else b""
        if not lengths:
            return default
        code = lengths[docnum]
        return byte_to_length(code) if code else None  # as whoosh's own reader answers


class _PostingsWriter(W3PostingsWriter):
    def _mini_ids(self) -> tuple[int, ...]:
        """The gaps between the ids (whoosh's `delta_encode`, in one pass of C)."""
        ids = self._ids
        if self._byteids:
            return tuple(ids)
        return tuple(map(sub, ids, chain((0,), ids)))

    def _mini_weights(self) -> Any:
        """None if every weight is 1, the weight if all are equal, else all of them (as whoosh)."""
        weights = self._weights
        first = weights[0] if weights else 1.0
        if weights.count(first) == len(weights):
            return None if first == 1.0 else first
        return tuple(weights)

    def add_posting(self, id_: int, weight: float, vbytes: bytes, length: int | None = None) -> None:
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        """Whoosh's loop over the sorted postings of a new segment, leaner."""
        field_length = lengths.doc_field_length if lengths else None
        last_field = last_text = None
        add = None
        scorable = False
        empty = b""
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != last_field:
                if last_text is not None:
                    self.finish_term()
                if last_field is not None:
                    self.finish_field()
                field = schema[fieldname]
                self.start_field(fieldname, field)
                scorable = field.scorable and field_length is not None
                last_field, last_text = fieldname, None
            if docnum == -1:  # whoosh's marker for spelling words; this schema has none
                continue
            if btext != last_text:
                if last_text is not None:
                    self.finish_term()
                self.start_term(btext)
                last_text = btext
                add = self._postwriter.add_posting
            add(docnum, weight, value or empty, field_length(docnum, fieldname) if scorable else 0)
        if last_text is not None:
            self.finish_term()
        if last_field is not None:
            self.finish_field()


class Codec(W3Codec):
    def __init__(self, blocklimit: int = 512, compression: int = 0, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit, compression, inlinelimit)

    def per_document_reader(self, storage: Any, segment: Any) -> _PerDocReader:
        return _PerDocReader(storage, segment)

    def field_writer(self, storage: Any, segment: Any) -> _FieldWriter:
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> _PostingsWriter:
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                               compression=self._compression, inlinelimit=self._inlinelimit)


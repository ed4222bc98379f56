"""The files of a whoosh W3 segment, written from whole arrays (for `bulk.BulkWriter`).

Whoosh's writers take one posting, one term and one column value per call, through several
layers each time; a rebuild of 100,000 datasets makes some 25 million postings, 400,000 terms
and 2 million column values. These functions write the same bytes from arrays a term or a
column at a time: a term's posting blocks, its record in the term table (``.trm``: an ordered
hash file keyed by field number and term), and the columns of numbers, bytes and field
lengths. `tests/search/test_bulk.py` compares the result with whoosh's own writer byte for
byte, so whoosh's readers, updates and merges use these segments as their own.
"""

from __future__ import annotations

import struct
import sys
from array import array
from itertools import accumulate, chain
from operator import itemgetter, sub
from pickle import dumps
from typing import Any

from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.filedb.filetables import _lengths as _RECORD_HEAD
from whoosh.filedb.filetables import md5_hash
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numlists import GrowableArray

# how a field's postings are kept: a count per document, a document number per value in a
# space-separated list or per whole value, or whoosh's own (weight and value bytes per posting)
COUNTED, PRESENT, WHOLE, WEIGHTED = "counted", "present", "whole", "weighted"
FLUSH_TERMS = 4096  # terms whose posting bytes are held before they are written
_TERM_INFO = W3TermInfo._struct


def _big_endian(counts: array) -> bytes:
    """The counts as whoosh packs each posting's frequency (`pack_uint`: four bytes, big-endian)."""
    if counts.itemsize != 4:
        return struct.pack(f"!{len(counts)}I", *counts)
    swapped = array("I", counts)
    if sys.byteorder == "little":
        swapped.byteswap()
    return swapped.tobytes()


class FieldPostings:
    """Writes one field's terms, in key order, into the segment's postings and term table, as
    `W3FieldWriter` does term by term. `kind` says how the postings come (see `write`)."""

    def __init__(self, fieldwriter: Any, name: str, field: Any, kind: str, codes: bytes | None) -> None:
        fieldwriter.start_field(name, field)  # numbers the field in the term table's map
        self.fieldwriter = fieldwriter
        self.prefix = pack_ushort(fieldwriter._fieldid)
        self.kind = kind
        self.boost = field.format.field_boost
        self.fixed = field.format.fixed_value_size()
        # a weight (count × boost) then needs no rounding to the four-byte float whoosh keeps
        self.exact = kind is COUNTED and (self.boost * 2).is_integer() and 0 < self.boost < 1024
        self.codes = codes  # each document's field length as whoosh stores it (one byte), if scored
        self.limit = fieldwriter._codec._blocklimit
        self.offset = fieldwriter._postfile.tell()
        self.postings: list[bytes] = []
        self.terms: list[tuple[bytes, bytes]] = []

    def write(self, btext: bytes, ids: array, counts: array | None = None, weights: array | None = None,
              values: list[bytes] | None = None) -> None:
        """A term's postings: `ids` ascending; `counts` for a frequency field (weight = count ×
        boost); nothing more for a field whose postings only say "present" (weight = boost);
        `weights` (as given, before whoosh keeps them as four-byte floats) and `values` otherwise."""
        kind, boost, codes, limit = self.kind, self.boost, self.codes, self.limit
        total = len(ids)
        parts = [WHOOSH3_HEADER_MAGIC]
        weight_sum, low_all, high_all, top_all = 0, 0, 0, 0
        for start in range(0, total, limit):
            end = start + limit
            block = ids[start:end]
            size = len(block)
            if kind is COUNTED:
                chunk = counts[start:end]
                most = max(chunk)
                top = most * boost
                if self.exact and most * boost * 2 < 16777216:
                    mini_weights: Any = _exact_weights(chunk, boost)
                    block_sum = sum(chunk) * boost
                else:
                    mini_weights, block_sum = _mini_weights(array("f", map(boost.__mul__, chunk)))
                mini_values: Any = _big_endian(chunk)
            elif kind is PRESENT or kind is WHOLE:
                mini_weights, block_sum = _mini_weights(array("f", [boost]) * size)
                mini_values = None
                top = boost
            else:
                mini_weights, block_sum = _mini_weights(array("f", weights[start:end]))
                kept = [v for v in values[start:end] if v]
                fixed = self.fixed
                mini_values = tuple(kept) if fixed is None or fixed < 0 else (b"".join(kept) if fixed else None)
                top = max(weights[start:end])
            top = top if top > 0 else 0  # whoosh's block maximum starts at 0 and takes larger weights only
            low, high = _length_limits(codes, block)
            if low and (not low_all or low < low_all):
                low_all = low
            if high > high_all:
                high_all = high
            parts.append(_block(block, top, low, high, mini_weights, mini_values, last=end >= total))
            weight_sum += block_sum
            if top > top_all:
                top_all = top
        self._add_term(btext, b"".join(parts), weight_sum, total, low_all, high_all, top_all, ids[0], ids[-1])

    def write_counted(self, btext: bytes, ids: array, counts: array) -> None:
        """`write` for a frequency field, shorter for the usual term: one block, weights that are
        exact as four-byte floats (the general case is left to `write`)."""
        size, boost = len(ids), self.boost
        top = max(counts) * boost
        if size > self.limit or not self.exact or top * 2 >= 16777216 or top <= 0:
            self.write(btext, ids, counts=counts)
            return
        low, high = _length_limits(self.codes, ids)
        blob = WHOOSH3_HEADER_MAGIC + _block(ids, top, low, high, _exact_weights(counts, boost), _big_endian(counts))
        self._add_term(btext, blob, sum(counts) * boost, size, low, high, top, ids[0], ids[-1])

    def write_present(self, btext: bytes, ids: array) -> None:
        """`write` for a field whose postings only say "present", shorter for the usual term: one
        block, a boost of 1, no lengths (the general case is left to `write`)."""
        size = len(ids)
        if size > self.limit or self.boost != 1.0 or self.codes is not None:
            self.write(btext, ids)
            return
        blob = WHOOSH3_HEADER_MAGIC + _block(ids, 1.0, 0, 0, None, None)
        self._add_term(btext, blob, float(size), size, 0, 0, 1.0, ids[0], ids[-1])

    def _add_term(self, btext: bytes, blob: bytes, weight: float, total: int, low: int, high: int, top: float,
                  first: int, last: int) -> None:
        self.postings.append(blob)
        if len(self.postings) >= FLUSH_TERMS:
            self.fieldwriter._postfile.file.writelines(self.postings)
            self.postings.clear()
        record = _TERM_INFO.pack(False, weight, total, low, high, top, first, last)
        self.terms.append((self.prefix + btext, record + pack_long(self.offset) + pack_int(len(blob))))
        self.offset += len(blob)

    def close(self) -> None:
        """Write the field's postings, then its terms as `OrderedHashWriter.add` would one by one."""
        writer = self.fieldwriter
        writer._postfile.file.writelines(self.postings)
        table = writer._tindex
        position = table.dbfile.tell()
        records, positions = [], []
        head, buckets = _RECORD_HEAD.pack, table.buckets
        for key, value in self.terms:
            records.append(head(len(key), len(value)) + key + value)
            positions.append(position)
            hashed = md5_hash(key)
            buckets[hashed & 255].append((hashed, position))
            position += len(records[-1])
        table.dbfile.write(b"".join(records))
        _extend(table.index, positions)
        if self.terms:
            table.lastkey = self.terms[-1][0]
        self.postings.clear()
        self.terms.clear()
        writer.finish_field()


def _block(ids: array, top: float, low: int, high: int, mini_weights: Any, mini_values: Any,
           last: bool = True) -> bytes:
    """One posting block as `W3PostingsWriter._write_block` writes it (uncompressed): its length
    (negative for a term's last block), its statistics and its data, each pickled."""
    info = dumps((len(ids), ids[-1], top, 0, low, high), 2)
    data = dumps((tuple(map(sub, ids, chain((0,), ids))), mini_weights, mini_values), 2)
    size = len(info) + len(data)
    return pack_int(-size if last else size) + info + data


def _exact_weights(counts: array, boost: float) -> Any:
    """Whoosh's minified weights (count × boost) of a block whose weights are exact as four-byte
    floats: None if all are 1, the weight if all are equal, else every one."""
    first = counts[0] * boost
    if counts.count(counts[0]) == len(counts):
        return None if first == 1.0 else first
    return tuple(map(boost.__mul__, counts) if boost != 1.0 else map(float, counts))


def _length_limits(codes: bytes | None, ids: array) -> tuple[int, int]:
    """The least and the greatest length code among the documents `ids` (whoosh's block
    statistics, which leave out documents without a length)."""
    if codes is None:
        return 0, 0
    found = (codes[ids[0]],) if len(ids) == 1 else itemgetter(*ids)(codes)
    low, high = min(found), max(found)
    if not low:
        found = [code for code in found if code]
        low, high = (min(found), max(found)) if found else (0, 0)
    return low, high


def _mini_weights(weights: array) -> tuple[Any, float]:
    """Whoosh's minified weights of a block (None if all are 1, the weight if all are equal, else
    every one) and their sum, from the four-byte floats whoosh keeps."""
    first = weights[0]
    if weights.count(first) == len(weights):
        return (None if first == 1.0 else first), sum(weights)
    return tuple(weights), sum(weights)


def _extend(grown: GrowableArray, numbers: list[int]) -> None:
    """`GrowableArray.extend`, the array retyped once for the largest number, as appending one by
    one would have."""
    if not numbers:
        return
    try:
        array(grown.typecode, [max(numbers)])
    except OverflowError:
        grown._retype(max(numbers))
    grown.array.extend(numbers)


def close_terms(fieldwriter: Any) -> None:
    """Close the field writer, the term table's hash tables written a bucket at a time rather
    than a slot at a time (`HashWriter._write_hashes`, whose layout they keep)."""
    table = fieldwriter._tindex
    table._write_hashes = lambda: _write_hashes(table)
    fieldwriter.close()


def _write_hashes(table: Any) -> None:
    position = table.dbfile.tell()
    empty = (0, 0)
    written = []
    for entries in table.buckets:
        slots = 2 * len(entries)
        table.directory.append((position, slots))
        hashes = [empty] * slots
        for hashed, at in entries:
            slot = (hashed >> 8) % slots
            while hashes[slot] != empty:
                slot = (slot + 1) % slots
            hashes[slot] = (hashed, at)
        chunk = struct.pack("!" + "Iq" * slots, *chain.from_iterable(hashes))
        written.append(chunk)
        position += len(chunk)
    table.dbfile.write(b"".join(written))


# --- columns -----------------------------------------------------------------------------------


def _growable(numbers: list[int]) -> GrowableArray:
    """A `GrowableArray` holding `numbers` in the type whoosh's appends would have grown it to."""
    grown = GrowableArray(allow_longs=False)
    _extend(grown, numbers)
    return grown


def write_columns(perdoc: Any, schema: Any, values: dict[str, list[Any]], codes: dict[str, bytearray],
                  totals: dict[str, int]) -> None:
    """Each column's values (one per document, None where a document has none) and each scored
    field's length codes, into the per-document writer's column files, before it closes."""
    for name, found in values.items():
        column = schema[name].column_type
        perdoc._create_column(name, column)
        writer = perdoc._get_column(name)
        if type(column) is columns.NumericColumn:
            _numbers(writer, column._typecode, found)
        elif type(column) is columns.VarBytesColumn:
            _bytes(writer, found)
        else:
            raise TypeError(f"no bulk writer for the column of {name!r} ({type(column).__name__})")
    for name, lengths in codes.items():
        perdoc._create_column(_lenfield(name), LENGTHS_COLUMN)
        written = bytes(lengths)  # it ends with the last document that has a length, as whoosh's
        writer = perdoc._get_column(_lenfield(name))
        writer._dbfile.write(written)
        writer._count = len(written)
    for name, total in totals.items():
        perdoc._fieldlengths[name] += total


def _numbers(writer: Any, typecode: str, found: list[Any]) -> None:
    """`NumericColumn.Writer`: big-endian values up to the last that is not the default (gaps
    filled with the default)."""
    default = writer._default
    numbers = [default if v is None else v for v in found]
    count = len(numbers)
    while count and numbers[count - 1] == default:
        count -= 1
    writer._dbfile.write(struct.pack(f"!{count}{typecode}", *numbers[:count]))
    writer._count = count


def _bytes(writer: Any, found: list[bytes | None]) -> None:
    """`VarBytesColumn.Writer`: the values one after another, their lengths and offsets kept for
    `finish`."""
    count = len(found)  # (up to the last document with a value; `finish` fills in the rest)
    kept = [b"" if v is None else v for v in found]
    writer._dbfile.write(b"".join(kept))
    lengths = list(map(len, kept))
    offsets = list(accumulate(lengths, initial=0))
    writer._lengths = _growable(lengths)
    writer._offsets = _growable(offsets[:-1])
    writer._offset_base = offsets[-1]
    writer._count = count


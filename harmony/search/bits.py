"""Sets of document numbers as Python integers, and numbers stored as bit slices.

Bit d of a set is document d. Python's big integers do AND, OR and popcount over 100,000
documents in microseconds, which is what makes facet counts, filters and sums cheap: a facet
count is `(results & value).bit_count()`.

A `BitSlices` column stores a number per document as one set per binary digit (bit-sliced
index, O'Neil & Quass 1997): range filters, sums over a result set and "the k largest" then
take a few dozen set operations instead of a loop over documents.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from itertools import repeat

_ONE_OR_MORE = b"0" + b"1" * 255  # a count byte as the binary digit "present"
_TWO_OR_MORE = b"00" + b"1" * 254  # ... as the digit "twice or more"
_consume = deque(maxlen=0).extend  # runs an iterator of calls
# positions of the set bits of every byte value
_BYTE_BITS = tuple(tuple(i for i in range(8) if value >> i & 1) for value in range(256))


def from_ids(ids: Iterable[int], size: int) -> int:
    """The set of the given document numbers (all below `size`)."""
    buffer = bytearray((size >> 3) + 1)
    for doc in ids:
        buffer[doc >> 3] |= 1 << (doc & 7)
    return int.from_bytes(buffer, "little")


def present_and_repeated(ids: Iterable[int], counts: Sequence[int], size: int) -> tuple[int, int]:
    """The set of the documents `ids` and the set of those whose count is 2 or more, for a term
    in a good share of the documents: a byte per document (its count, at most 255) set in one
    pass of C, then read twice as a binary number, costs less than a loop per document."""
    if not size:
        return 0, 0
    flags = bytearray(size)
    _consume(map(flags.__setitem__, ids, counts if max(counts, default=0) < 256 else map(min, counts, repeat(255))))
    flags.reverse()
    return int(flags.translate(_ONE_OR_MORE), 2), int(flags.translate(_TWO_OR_MORE), 2)


def ids(bits: int, limit: int | None = None) -> list[int]:
    """The document numbers in a set, ascending (at most `limit` of them)."""
    found: list[int] = []
    if bits <= 0:
        return found
    data = bits.to_bytes((bits.bit_length() >> 3) + 1, "little")
    table = _BYTE_BITS
    for index, byte in enumerate(data):
        if byte:
            base = index << 3
            for offset in table[byte]:
                found.append(base + offset)
            if limit is not None and len(found) >= limit:
                return found[:limit]
    return found


def full(size: int) -> int:
    return (1 << size) - 1


def lookup(bits: int, size: int) -> bytes:
    """The set as bytes, for testing many single documents: `data[d >> 3] >> (d & 7) & 1`."""
    return bits.to_bytes((size >> 3) + 1, "little")


class BitSlices:
    """Unsigned numbers (0 = no value), one set per binary digit, least significant first."""

    __slots__ = ("slices", "present")

    def __init__(self, slices: list[int], present: int) -> None:
        self.slices = slices
        self.present = present

    @classmethod
    def build(cls, values: Sequence[int]) -> BitSlices:
        width = max(values, default=0).bit_length()
        size = len(values)
        buffers = [bytearray((size >> 3) + 1) for _ in range(width)]
        present = bytearray((size >> 3) + 1)
        for doc, value in enumerate(values):
            if value:
                byte, mask = doc >> 3, 1 << (doc & 7)
                present[byte] |= mask
                digit = 0
                while value:
                    if value & 1:
                        buffers[digit][byte] |= mask
                    value >>= 1
                    digit += 1
        return cls([int.from_bytes(b, "little") for b in buffers], int.from_bytes(present, "little"))

    @classmethod
    def join(cls, parts: Sequence[tuple[BitSlices, int]]) -> BitSlices:
        """One column from columns of consecutive document ranges, each with its offset."""
        width = max((len(part.slices) for part, _ in parts), default=0)
        slices = [0] * width
        present = 0
        for part, offset in parts:
            present |= part.present << offset
            for digit, bits in enumerate(part.slices):
                slices[digit] |= bits << offset
        return cls(slices, present)

    def at_least(self, value: int) -> int:
        """Documents whose number is >= value."""
        if value <= 1:
            return self.present
        if value.bit_length() > len(self.slices):
            return 0
        greater, equal = 0, self.present
        for digit in range(len(self.slices) - 1, -1, -1):
            bits = self.slices[digit]
            if value >> digit & 1:
                equal &= bits
            else:
                greater |= equal & bits
                equal &= ~bits
        return greater | equal

    def at_most(self, value: int) -> int:
        """Documents with a number that is <= value (and given)."""
        return self.present & ~self.at_least(value + 1)

    def total(self, subset: int) -> int:
        """The sum of the numbers of the documents in `subset`."""
        return sum(((bits & subset).bit_count() << digit) for digit, bits in enumerate(self.slices))

    def value(self, doc: int) -> int:
        return sum(1 << digit for digit, bits in enumerate(self.slices) if bits >> doc & 1)


def top(keys: Sequence[int], subset: int, count: int) -> int:
    """The `count` members of `subset` with the largest keys, where `keys` are bit slices of one
    key, most significant first (ties go to lower document numbers)."""
    if count <= 0 or not subset:
        return 0
    if subset.bit_count() <= count:
        return subset
    chosen, tied = 0, subset
    for bits in keys:
        candidate = chosen | (tied & bits)
        found = candidate.bit_count()
        if found > count:
            tied &= bits
        else:
            chosen = candidate
            tied &= ~bits
            if found == count:
                return chosen
    missing = count - chosen.bit_count()
    return chosen | from_ids(ids(tied, missing), tied.bit_length())


class Accumulator:
    """Adds weighted sets into per-document sums held as bit slices (ripple-carry over sets)."""

    __slots__ = ("slices",)

    def __init__(self) -> None:
        self.slices: list[int] = []

    def add(self, bits: int, weight: int) -> None:
        digit = 0
        while weight and bits:
            if weight & 1:
                self._add_at(bits, digit)
            weight >>= 1
            digit += 1

    def _add_at(self, carry: int, digit: int) -> None:
        slices = self.slices
        while len(slices) < digit:
            slices.append(0)
        while carry:
            if digit == len(slices):
                slices.append(carry)
                return
            current = slices[digit]
            slices[digit] = current ^ carry
            carry &= current
            digit += 1

    def keys(self) -> list[int]:
        """Most significant slice first, for `top`."""
        return self.slices[::-1]

    def value(self, doc: int) -> int:
        return sum(1 << digit for digit, bits in enumerate(self.slices) if bits >> doc & 1)

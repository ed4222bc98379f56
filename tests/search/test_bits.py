"""Bitsets and bit-sliced numbers agree with plain loops over documents."""

from __future__ import annotations

import random

import pytest

from harmony.search import bits


@pytest.fixture
def numbers():
    rnd = random.Random(11)
    return [0 if rnd.random() < 0.2 else rnd.randrange(1, 5000) for _ in range(3000)]


def members(found: int, size: int) -> set[int]:
    return {doc for doc in range(size) if found >> doc & 1}


def test_ids_round_trip():
    rnd = random.Random(3)
    chosen = sorted(rnd.sample(range(10_000), 700))
    found = bits.from_ids(chosen, 10_000)
    assert bits.ids(found) == chosen
    assert bits.ids(found, limit=5) == chosen[:5]
    assert bits.ids(0) == []


def test_ranges_and_sums(numbers):
    column = bits.BitSlices.build(numbers)
    size = len(numbers)
    for low, high in [(1, 10), (100, 2500), (4999, 6000), (0, 0), (2500, 2499)]:
        expected = {d for d, v in enumerate(numbers) if v and low <= v <= high}
        assert members(column.at_least(low) & column.at_most(high), size) == expected
    subset = bits.from_ids(range(0, size, 3), size)
    assert column.total(subset) == sum(numbers[0::3])
    assert all(column.value(d) == numbers[d] for d in range(0, size, 97))


def test_join_keeps_offsets(numbers):
    first, second = numbers[:1000], numbers[1000:]
    joined = bits.BitSlices.join([(bits.BitSlices.build(first), 0), (bits.BitSlices.build(second), 1000)])
    whole = bits.BitSlices.build(numbers)
    assert joined.present == whole.present
    assert joined.at_least(2000) == whole.at_least(2000)


def test_top_takes_the_largest(numbers):
    column = bits.BitSlices.build(numbers)
    subset = bits.from_ids(range(0, len(numbers), 2), len(numbers))
    for count in (1, 10, 333):
        chosen = bits.ids(bits.top(column.slices[::-1], subset, count))
        assert len(chosen) == count
        ranked = sorted(range(0, len(numbers), 2), key=lambda d: -numbers[d])
        assert sorted(numbers[d] for d in chosen) == sorted(numbers[d] for d in ranked[:count])


def test_accumulator_sums_weights():
    rnd = random.Random(5)
    size = 2000
    sums = [0] * size
    scores = bits.Accumulator()
    for _ in range(25):
        docs = rnd.sample(range(size), rnd.randrange(1, size))
        weight = rnd.randrange(1, 300)
        scores.add(bits.from_ids(docs, size), weight)
        for d in docs:
            sums[d] += weight
    assert all(scores.value(d) == sums[d] for d in range(size))

"""The one clock. Deadlines, expiry and reminders read `now()`, so tests can move time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return _source() if _source is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make `now()` answer `at` (UTC) inside the block."""
    global _source
    previous = _source
    fixed = at if at.tzinfo else at.replace(tzinfo=UTC)
    _source = lambda: fixed  # noqa: E731
    try:
        yield
    finally:
        _source = previous

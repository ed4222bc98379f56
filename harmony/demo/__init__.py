"""The demo: what `harmony demo load` puts in an empty database (idempotent)."""

from __future__ import annotations

from collections.abc import Iterator


def load_demo() -> Iterator[str]:
    """Load each part of the demo in turn, reporting what was done."""
    yield "Demo data: nothing to load yet beyond the empty catalog."

"""One way to write dates on every page: "05 March 2024", and "05 March 2024, 14:03 UTC" with the time
(the format of the dates the services write into text, e.g. harmony.access_requests.register).

Templates use the filters `day` and `moment`; both give plain text (wrap in <time datetime> where the
machine-readable value helps). Stored times are UTC.
"""

from __future__ import annotations

from datetime import date, datetime


def day(value: date | datetime | None, missing: str = "") -> str:
    """The date alone: 05 March 2024."""
    if value is None:
        return missing
    return f"{value:%d %B %Y}"


def moment(value: datetime | None, missing: str = "") -> str:
    """The date and the time in UTC: 05 March 2024, 14:03 UTC."""
    if value is None:
        return missing
    return f"{day(value)}, {value:%H:%M} UTC"

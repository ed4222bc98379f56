"""Resumption tokens: the position in an incomplete list, signed, so the server keeps no state.

A token carries the verb, the original arguments, the id of the last record sent (a keyset
cursor), the count sent so far and an expiry read from `harmony.clock`, signed with the app's
SECRET_KEY. Any token that is altered, expired, made for another verb or by another key is
refused as a whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from harmony import clock

SALT = "harmony.oai.resumption-token"
FORMAT = 1  # bump when the payload changes, so old tokens are refused cleanly
DEFAULT_LIFETIME = timedelta(hours=24)


class BadToken(Exception):
    """The token cannot be honoured; the message says why, for the harvester."""


@dataclass(frozen=True)
class Position:
    verb: str
    metadata_prefix: str
    from_: str | None
    until: str | None
    set_spec: str | None
    after_id: int  # the last record id already sent
    cursor: int  # how many records were sent before this page


def lifetime() -> timedelta:
    seconds = current_app.config.get("OAI_TOKEN_LIFETIME_SECONDS")
    return timedelta(seconds=int(seconds)) if seconds else DEFAULT_LIFETIME


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(position: Position) -> tuple[str, datetime]:
    """A token for `position` and the moment it expires (whole seconds, UTC)."""
    expires = (clock.now() + lifetime()).replace(microsecond=0)
    payload = {"format": FORMAT, "expires": int(expires.timestamp()), **asdict(position)}
    return _serializer().dumps(payload), expires


def redeem(token: str, verb: str) -> Position:
    """The position a token stands for, if it is genuine, current and made for `verb`."""
    try:
        payload: Any = _serializer().loads(token)
    except BadData:
        raise BadToken("The resumptionToken is not one this repository issued.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise BadToken("The resumptionToken comes from an older version of this repository; start the list again.")
    if datetime.fromtimestamp(payload["expires"], UTC) <= clock.now():
        raise BadToken("The resumptionToken has expired; start the list again.")
    if payload.get("verb") != verb:
        raise BadToken(f"The resumptionToken was issued for {payload.get('verb')}, not {verb}.")
    fields = {key: payload[key] for key in Position.__dataclass_fields__}
    return Position(**fields)

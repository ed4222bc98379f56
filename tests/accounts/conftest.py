"""What the sign-in tests share: the reasons the app logged for refusing a sign-in."""

from __future__ import annotations

import logging
import re

import pytest

REFUSED = re.compile(r"sign-in refused: reason=(\S+)")


class _Reasons(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = REFUSED.search(record.getMessage())
        if found:
            self.reasons.append(found.group(1))


@pytest.fixture
def refusals():
    """The list of reasons (`claim-nonce`, `state-expired` …) logged by refused sign-ins during the test.
    The "harmony" logger does not propagate to the root, so caplog would not see them."""
    handler = _Reasons()
    logger = logging.getLogger("harmony.accounts.views")
    logger.addHandler(handler)
    yield handler.reasons
    logger.removeHandler(handler)

"""Logging configured once per process: one line per record, key=value, easy to grep."""

from __future__ import annotations

import logging
import sys

_configured = False


class _RequestFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from flask import has_request_context, request

        record.request = f" method={request.method} path={request.path}" if has_request_context() else ""
        return super().format(record)


def configure_logging(level: str) -> None:
    global _configured
    if _configured:
        logging.getLogger("harmony").setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _RequestFormatter("%(asctime)s level=%(levelname)s logger=%(name)s%(request)s msg=%(message)s")
    )
    root = logging.getLogger("harmony")
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    _configured = True

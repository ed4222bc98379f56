"""Query parameters checked against the API's own description before any view runs.

The OpenAPI document says what each operation takes. Reading that same document here means a
query the description refuses (a scalar given twice, a word where a number belongs, a value
outside its list or range) is refused with 422 everywhere alike, and the description cannot
promise what the views do not keep. Views still parse what they read; this check only refuses.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from flask import request
from jsonschema import Draft202012Validator

from harmony.errors import ValidationError

API_PREFIX = "/api/v1/"
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
INTEGER = re.compile(r"[+-]?[0-9]+")
RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _openapi_path(rule: str) -> str:
    """/api/v1/requests/<int:proposal_id> as the description spells it: /api/v1/requests/{proposal_id}."""
    return RULE_VARIABLE.sub(r"{\1}", rule)


@cache
def _query_parameters() -> dict[tuple[str, str], dict[str, Draft202012Validator]]:
    """(path, method) → a validator for each query parameter the description gives that operation
    (made once per process: the description changes only with a release)."""
    from harmony.api.openapi import document

    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for path, item in document("").get("paths", {}).items():
        shared = [p for p in item.get("parameters", []) if p.get("in") == "query"]
        for method, operation in item.items():
            if method == "parameters":
                continue
            own = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            found[(path, method.upper())] = {p["name"]: Draft202012Validator(p["schema"]) for p in [*shared, *own]}
    return found


def _types(schema: dict[str, Any]) -> set[str]:
    """Every JSON type a schema admits, looking into anyOf/oneOf and enum values."""
    kinds = schema.get("type", [])
    found = {kinds} if isinstance(kinds, str) else set(kinds)
    for part in (*schema.get("anyOf", ()), *schema.get("oneOf", ())):
        found |= _types(part)
    for value in schema.get("enum", ()):
        found.add("boolean" if isinstance(value, bool) else "integer" if isinstance(value, int) else "string")
    return found


def _typed(text: str, schema: dict[str, Any]) -> Any:
    """A query string's text as the JSON value it stands for under `schema` (text when nothing fits)."""
    kinds = _types(schema)
    if kinds & {"integer", "number"} and INTEGER.fullmatch(text):
        return int(text)
    if "number" in kinds:
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    if "boolean" in kinds and text.lower() in BOOLEANS:
        return BOOLEANS[text.lower()]
    return text


def _problem(name: str, validator: Draft202012Validator, texts: list[str]) -> str | None:
    """What is wrong with the values given for one parameter, or None."""
    schema = validator.schema
    if schema.get("type") == "array":
        value: Any = [_typed(text, schema.get("items", {})) for text in texts]
    elif len(texts) > 1:
        return f"give {name} once (it was given {len(texts)} times)"
    else:
        value = _typed(texts[0], schema)
    error = next(iter(validator.iter_errors(value)), None)
    return None if error is None else f"{name}: {error.message}"


def check_query_parameters() -> None:
    """Refuse, with 422 and a message per parameter, a query the description of the operation refuses."""
    if request.url_rule is None or not request.path.startswith(API_PREFIX) or not request.args:
        return
    described = _query_parameters().get((_openapi_path(request.url_rule.rule), request.method))
    if not described:
        return
    errors = {}
    for name, validator in described.items():
        texts = request.args.getlist(name)
        if texts and (message := _problem(name, validator, texts)) is not None:
            errors[name] = [message]
    if errors:
        raise ValidationError(fields=errors, detail="Some query parameters need attention.")

"""OAI-PMH 2.0 requests: which arguments each verb takes, their syntax, and protocol errors.

`parse` accepts a request only when every argument is present, single, allowed for the verb and
well-formed (the value patterns of the OAI-PMH schema), so that whatever is echoed back in the
request element is valid; everything else is badVerb or badArgument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from werkzeug.datastructures import MultiDict

from harmony.catalog.oai import envelope


class OaiError(Exception):
    """One or more protocol errors, each a (code, message) pair."""

    def __init__(self, code: str, message: str, *more: tuple[str, str]):
        super().__init__(message)
        self.errors = [(code, message), *more]


@dataclass(frozen=True)
class Grammar:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    exclusive: str | None = None  # an argument that must come alone (resumptionToken)


LIST_GRAMMAR = Grammar(("metadataPrefix",), ("from", "until", "set"), "resumptionToken")
GRAMMARS = {
    "Identify": Grammar(),
    "ListMetadataFormats": Grammar((), ("identifier",)),
    "ListSets": Grammar(exclusive="resumptionToken"),
    "GetRecord": Grammar(("identifier", "metadataPrefix")),
    "ListIdentifiers": LIST_GRAMMAR,
    "ListRecords": LIST_GRAMMAR,
}

# The value patterns of the OAI-PMH schema (metadataPrefixType, setSpecType).
PREFIX_PATTERN = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
SET_PATTERN = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
URI_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
SECOND_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@dataclass(frozen=True)
class Datestamp:
    moment: datetime
    granularity: str  # "day" or "second"

    @property
    def next_after(self) -> datetime:
        """The first moment after the span this datestamp names (until is inclusive)."""
        return self.moment + (timedelta(days=1) if self.granularity == "day" else timedelta(seconds=1))


def parse_datestamp(value: str) -> Datestamp:
    """A from/until value at day or seconds granularity; ValueError for anything else."""
    if DAY_PATTERN.fullmatch(value):
        return Datestamp(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), "day")
    if SECOND_PATTERN.fullmatch(value):
        return Datestamp(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), "second")
    raise ValueError(value)


@dataclass(frozen=True)
class Arguments:
    """A request whose arguments are well-formed for its verb."""

    verb: str
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    @property
    def echo(self) -> dict[str, str]:
        return {"verb": self.verb, **self.values}


def _quoted(value: str) -> str:
    """A value for an error message: printable, short."""
    shown = envelope.clean(value)
    return repr(shown[:60] + ("…" if len(shown) > 60 else ""))


def parse(parameters: MultiDict[str, str]) -> Arguments:
    """Check the verb and the arguments' presence and syntax (badVerb, badArgument)."""
    verbs = parameters.getlist("verb")
    if not verbs:
        raise OaiError("badVerb", "The verb argument is missing.")
    if len(verbs) > 1:
        raise OaiError("badVerb", "The verb argument is repeated.")
    verb = verbs[0]
    if verb not in GRAMMARS:
        raise OaiError("badVerb", f"{_quoted(verb)} is not an OAI-PMH verb.")
    grammar = GRAMMARS[verb]
    allowed = {*grammar.required, *grammar.optional, *([grammar.exclusive] if grammar.exclusive else [])}
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    for name in parameters:
        if name == "verb":
            continue
        given = parameters.getlist(name)
        if name not in allowed:
            problems.append(("badArgument", f"{verb} does not take the argument {_quoted(name)}."))
        elif len(given) > 1:
            problems.append(("badArgument", f"The argument {name} is repeated."))
        elif not given[0] or not envelope.is_xml_text(given[0]):
            problems.append(("badArgument", f"The argument {name} is empty or holds characters XML cannot carry."))
        else:
            values[name] = given[0]
    if not problems:
        problems = _check_grammar(verb, grammar, values) or _check_syntax(values)
    if problems:
        raise OaiError(*problems[0], *problems[1:])
    return Arguments(verb, values)


def _check_grammar(verb: str, grammar: Grammar, values: dict[str, str]) -> list[tuple[str, str]]:
    if grammar.exclusive and grammar.exclusive in values:
        others = sorted(set(values) - {grammar.exclusive})
        if others:
            return [("badArgument", f"{grammar.exclusive} must come alone, without {', '.join(others)}.")]
        return []
    return [("badArgument", f"{verb} needs the argument {name}.") for name in grammar.required if name not in values]


def _check_syntax(values: dict[str, str]) -> list[tuple[str, str]]:
    problems = []
    if "metadataPrefix" in values and not PREFIX_PATTERN.fullmatch(values["metadataPrefix"]):
        problems.append(("badArgument", "The metadataPrefix holds characters a prefix cannot have."))
    if "set" in values and not SET_PATTERN.fullmatch(values["set"]):
        problems.append(("badArgument", "The set is not a well-formed setSpec."))
    if "identifier" in values and not URI_PATTERN.fullmatch(values["identifier"]):
        problems.append(("badArgument", "The identifier is not a URI."))
    stamps = {}
    for name in ("from", "until"):
        if name in values:
            try:
                stamps[name] = parse_datestamp(values[name])
            except ValueError:
                problems.append(("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)."))
    if len(stamps) == 2:
        if stamps["from"].granularity != stamps["until"].granularity:
            problems.append(("badArgument", "from and until must have the same granularity."))
        elif stamps["from"].moment > stamps["until"].moment:
            problems.append(("badArgument", "from is later than until."))
    return problems

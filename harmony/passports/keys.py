"""The keys that sign GA4GH Passport visas, kept in one JSON file and rotated by `harmony keys rotate`.

The file (HARMONY_VISA_KEY_FILE, mode 0600, always written whole: a temporary file, then os.replace) is a
JWK Set of private RSA keys whose entries carry two more members (RFC 7517 section 4 lets a JWK carry
members a reader does not know):

    {"keys": [{"kty": "RSA", "kid": "<RFC 7638 thumbprint>", "alg": "RS256", "use": "sig",
               "n": "…", "e": "AQAB", "d": "…", "p": "…", "q": "…", "dp": "…", "dq": "…", "qi": "…",
               "created_at": "2025-06-01T10:00:00Z", "retired_at": "2025-09-01T10:00:00Z"}]}

The newest key without `retired_at` signs. A rotated-out key stays published in the JWKS until every visa it
signed has expired (`retired_at` + HARMONY_VISA_LIFETIME_SECONDS: a visa never outlives its key's
retirement by more than that), and is dropped from the file after that, at the next rotation or when the
JWKS is served. Every writer holds an exclusive lock on `<file>.lock`, so two rotations, or two web
workers making the demo's first key, never lose a key.

RS256, not ES256: the GA4GH AAI profile the Passport specification builds on says of an Embedded Document
Token (a visa with `jku`) "alg: MUST be RS256"; a data platform that follows it may refuse anything else.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from flask import current_app
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from harmony.errors import HarmonyError

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
KEY_BITS = 2048
DEMO_FILE_NAME = "visa_keys.json"  # in the instance folder, when the variable is empty in debug or demo mode
PUBLIC_MEMBERS = ("kty", "kid", "alg", "use", "n", "e")  # everything a JWKS may show of an RSA key
METADATA = ("created_at", "retired_at")


class KeysUnavailable(HarmonyError):
    """No key can sign or be published: the setting is missing, the file is missing or broken."""

    status, title, type_slug = 503, "Visa signing is not available", "visa-keys-unavailable"


@dataclass(frozen=True, eq=False)
class StoredKey:
    kid: str
    created_at: datetime
    retired_at: datetime | None
    jwk: dict[str, Any] = field(repr=False)  # the private JWK, without the metadata members

    def published_until(self, lifetime: timedelta) -> datetime | None:
        """When the last visa this key signed expires (None: it still signs)."""
        return None if self.retired_at is None else self.retired_at + lifetime

    def is_published(self, now: datetime, lifetime: timedelta) -> bool:
        return self.retired_at is None or self.retired_at + lifetime > now

    def public(self) -> dict[str, Any]:
        """The public JWK: only the members named in PUBLIC_MEMBERS, never d, p, q, dp, dq, qi."""
        return {name: self.jwk[name] for name in PUBLIC_MEMBERS if name in self.jwk}

    @cached_property
    def signer(self) -> RSAKey:
        return RSAKey.import_key(self.jwk)

    def as_entry(self) -> dict[str, Any]:
        entry = {**self.jwk, "created_at": _stamp(self.created_at)}
        if self.retired_at is not None:
            entry["retired_at"] = _stamp(self.retired_at)
        return entry


@dataclass(frozen=True)
class Rotation:
    new: StoredKey
    retired: list[StoredKey]  # the keys that signed until now
    published: list[StoredKey]  # what the JWKS shows from now on, newest first
    dropped: list[StoredKey]  # retired keys whose visas have all expired: gone from the file


# --- where the file is -----------------------------------------------------------------------


def lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["VISA_LIFETIME_SECONDS"])


def key_file() -> tuple[Path, bool]:
    """The key file and whether it may be made on first use (debug and demo mode, no setting)."""
    config = current_app.config
    configured = str(config.get("VISA_KEY_FILE") or "").strip()
    if configured:
        return Path(configured).expanduser(), False
    if config.get("DEBUG") or config.get("DEMO"):
        return Path(current_app.instance_path) / DEMO_FILE_NAME, True
    raise KeysUnavailable("HARMONY_VISA_KEY_FILE is not set, so this Harmony cannot sign GA4GH visas. An operator "
                          "sets it to a file path and runs `harmony keys rotate` to make the first key.")


# --- reading ---------------------------------------------------------------------------------

_cache: dict[str, tuple[tuple[int, int, int], list[StoredKey]]] = {}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _moment(value: Any, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 time: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse(text: str) -> list[StoredKey]:
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('expected a JSON object {"keys": [...]}')
    found: list[StoredKey] = []
    for number, entry in enumerate(document["keys"], start=1):
        if not isinstance(entry, dict) or not entry.get("kid") or "created_at" not in entry:
            raise ValueError(f"key {number} needs a kid and a created_at")
        if entry.get("kty") != "RSA" or entry.get("alg", ALGORITHM) != ALGORITHM or "d" not in entry:
            raise ValueError(f"key {entry['kid']} is not a private RSA key for {ALGORITHM}")
        jwk = {name: value for name, value in entry.items() if name not in METADATA}
        stored = StoredKey(str(entry["kid"]), _moment(entry["created_at"], f"created_at of {entry['kid']}"),
                           _moment(entry["retired_at"], f"retired_at of {entry['kid']}")
                           if entry.get("retired_at") else None, jwk)
        stored.signer  # noqa: B018 - imports the key once: a broken key fails here, not while signing
        found.append(stored)
    if len({key.kid for key in found}) != len(found):
        raise ValueError("two keys have the same kid")
    return found


def read(path: Path) -> list[StoredKey] | None:
    """The keys in the file (None: there is no file yet). Parsed once per version of the file."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    version = (status.st_ino, status.st_mtime_ns, status.st_size)
    cached = _cache.get(str(path))
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        keys = _parse(path.read_text())
    except (OSError, ValueError, JoseError) as error:
        log.error("visa key file %s: %s", path, error)
        raise KeysUnavailable(f"HARMONY_VISA_KEY_FILE does not name a readable visa key file ({error}).") from None
    if status.st_mode & 0o077:
        log.warning("visa key file %s can be read by other users (mode %o); chmod 600 it", path,
                    status.st_mode & 0o777)
    _cache[str(path)] = (version, keys)
    return keys


# --- writing ---------------------------------------------------------------------------------


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise the writers of one key file, across processes."""
    try:
        handle = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        raise KeysUnavailable(f"The folder of HARMONY_VISA_KEY_FILE ({path.parent}) does not exist.") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _write(path: Path, keys: list[StoredKey]) -> None:
    """Replace the file whole: readers see the old or the new file, never half of one."""
    text = json.dumps({"keys": [key.as_entry() for key in keys]}, indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _cache.pop(str(path), None)


def new_key(now: datetime) -> StoredKey:
    made = RSAKey.generate_key(KEY_BITS, parameters={"alg": ALGORITHM, "use": "sig"})
    kid = made.thumbprint()  # RFC 7638: derived from the public key, so unique and checkable
    jwk = {**made.as_dict(private=True), "kid": kid}
    return StoredKey(kid, now.replace(microsecond=0), None, jwk)


def _first_key(path: Path, now: datetime) -> list[StoredKey]:
    """Debug and demo: make the first key (unless another process just did)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        keys = read(path)
        if keys is None:
            keys = [new_key(now)]
            _write(path, keys)
            log.warning("made a visa signing key in %s (debug/demo mode: set HARMONY_VISA_KEY_FILE in production)",
                        path)
    return keys


def _existing(now: datetime) -> tuple[Path, list[StoredKey]]:
    path, may_make = key_file()
    keys = read(path)
    if keys is None:
        if not may_make:
            log.error("HARMONY_VISA_KEY_FILE names %s, which does not exist; run `harmony keys rotate`", path)
            raise KeysUnavailable("The key file HARMONY_VISA_KEY_FILE names does not exist yet. An operator makes "
                                  "the first key with `harmony keys rotate`.")
        keys = _first_key(path, now)
    return path, keys


# --- what the app and the command line use -----------------------------------------------------


def signing_key(now: datetime) -> StoredKey:
    """The key that signs from now on: the newest one not retired."""
    _path, keys = _existing(now)
    active = [key for key in keys if key.retired_at is None]
    if not active:
        raise KeysUnavailable("Every key in HARMONY_VISA_KEY_FILE is retired. An operator adds one with "
                              "`harmony keys rotate`.")
    return max(active, key=lambda key: key.created_at)


def _newest_first(keys: list[StoredKey]) -> list[StoredKey]:
    return sorted(keys, key=lambda key: key.created_at, reverse=True)


def published(now: datetime) -> list[StoredKey]:
    """The keys the JWKS shows: the signing key and the retired keys some unexpired visa may still name.
    Retired keys past that are dropped from the file here (when it can be written)."""
    path, keys = _existing(now)
    span = lifetime()
    shown = [key for key in keys if key.is_published(now, span)]
    if len(shown) < len(keys):
        try:
            with _locked(path):
                current = read(path) or []
                kept = [key for key in current if key.is_published(now, span)]
                if len(kept) < len(current):
                    _write(path, kept)
                    log.info("dropped retired visa keys %s", [k.kid for k in current if k not in kept])
        except (OSError, KeysUnavailable) as error:  # a read-only file: serve the right set all the same
            log.warning("could not drop expired visa keys from %s: %s", path, error)
    return _newest_first(shown)


def rotate(now: datetime) -> tuple[Path, Rotation]:
    """A new signing key; the keys that signed until now are retired (and stay published for a visa
    lifetime); retired keys whose visas have all expired are dropped. Makes the file when there is none."""
    path, _may_make = key_file()
    if not path.parent.is_dir():
        raise KeysUnavailable(f"The folder of HARMONY_VISA_KEY_FILE ({path.parent}) does not exist.")
    span = lifetime()
    with _locked(path):
        current = read(path) or []
        moment = now.replace(microsecond=0)
        retired = [StoredKey(key.kid, key.created_at, moment, key.jwk) for key in current if key.retired_at is None]
        earlier = [key for key in current if key.retired_at is not None]
        kept = [key for key in earlier if key.is_published(now, span)]
        dropped = [key for key in earlier if not key.is_published(now, span)]
        made = new_key(now)
        keys = [made, *retired, *kept]
        _write(path, keys)
    return path, Rotation(made, retired, _newest_first(keys), dropped)


def listing() -> tuple[Path, list[StoredKey] | None]:
    """What the file holds (None: no file yet), newest first; changes nothing."""
    path, _may_make = key_file()
    keys = read(path)
    return path, None if keys is None else _newest_first(keys)

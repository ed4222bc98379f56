"""The OpenID Connect client: discovery, the authorization request, code exchange, ID token checks.

authlib builds the authorization URL (with PKCE S256) and exchanges the code; joserfc checks the
ID token's signature and claims. Provider metadata and keys are cached per process; keys are
fetched again when a token names a key id we have not seen (the provider rotated its keys).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from harmony import clock

METADATA_TTL_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10
SCOPES = "openid profile email"


class SignInError(Exception):
    """A sign-in could not be completed; `reason` is a short code for logs and the message is for people."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Settings:
    metadata_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    token_auth_method: str = "client_secret_basic"


@dataclass
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    # -- provider metadata -----------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL_SECONDS:
                self._metadata = self._fetch_metadata()
                self._metadata_at = time.monotonic()
                self._keys = None
            return self._metadata

    def _fetch_metadata(self) -> dict[str, Any]:
        document = _get_json(self.settings.metadata_url, "provider metadata")
        issuer = document.get("issuer")
        expected = self.settings.metadata_url.removesuffix("/.well-known/openid-configuration")
        if not issuer or issuer.rstrip("/") != expected.rstrip("/"):
            raise SignInError("issuer-mismatch", "The sign-in provider describes itself under another address.")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not document.get(key):
                raise SignInError("bad-metadata", f"The sign-in provider's description lacks {key}.")
        return document

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            self._keys = KeySet.import_key_set(_get_json(self.metadata()["jwks_uri"], "provider keys"))
        return self._keys

    @property
    def issuer(self) -> str:
        return self.metadata()["issuer"]

    @property
    def end_session_endpoint(self) -> str | None:
        return self.metadata().get("end_session_endpoint")

    # -- the flow --------------------------------------------------------------------------

    def _oauth(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            token_endpoint_auth_method=self.settings.token_auth_method,
            redirect_uri=self.settings.redirect_uri,
            scope=SCOPES,
            code_challenge_method="S256",
        )

    def authorization_request(self) -> AuthorizationRequest:
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        url, _ = self._oauth().create_authorization_url(
            self.metadata()["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        session = self._oauth()
        try:
            token = session.fetch_token(
                self.metadata()["token_endpoint"], code=code, code_verifier=code_verifier,
                grant_type="authorization_code", timeout=HTTP_TIMEOUT_SECONDS,
            )
        except requests.RequestException:
            raise SignInError("provider-unreachable", "The sign-in provider could not be reached.") from None
        except Exception as error:  # authlib raises OAuthError with the provider's error code
            code_name = getattr(error, "error", None) or type(error).__name__
            raise SignInError(f"token-{code_name}", "The sign-in provider did not confirm this sign-in.") from None
        finally:
            session.close()
        if not token.get("id_token"):
            raise SignInError("no-id-token", "The sign-in provider did not say who you are (no ID token).")
        return dict(token)

    def validate_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """Check signature, issuer, audience, expiry and nonce; return the claims."""
        try:
            token = jwt.decode(id_token, lambda _obj: self._key_set(), algorithms=["RS256", "ES256", "PS256"])
        except JoseError:
            # maybe the provider rotated its keys since we fetched them
            try:
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=["RS256", "ES256", "PS256"])
            except (JoseError, ValueError):
                raise SignInError("bad-signature", "The sign-in could not be verified.") from None
        except ValueError:
            raise SignInError("bad-token", "The sign-in could not be verified.") from None
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(clock.now().timestamp()),
            leeway=60,
            iss={"essential": True, "value": self.issuer},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise SignInError(f"claim-{getattr(error, 'claim', 'invalid')}", "The sign-in could not be verified.") from None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.client_id not in audiences:
            raise SignInError("claim-aud", "The sign-in could not be verified.")
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise SignInError("claim-azp", "The sign-in could not be verified.")
        return claims


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError):
        raise SignInError("provider-unreachable", f"The sign-in provider could not be reached ({what}).") from None

"""A small OpenID provider on loopback whose ID tokens carry the claims a test chooses.

It serves discovery, its signing key (JWKS), an authorization endpoint that answers at once with a
code (no login page), and a token endpoint that checks the client, the code and PKCE, then returns
an ID token signed with its key. `next_token(...)` changes the claims (or the key) of the next
ID token only, so every check of `OidcClient.validate_id_token` can be shown to refuse what it must,
in pure Python, on every machine. Test use only: it signs anyone in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
import werkzeug.serving
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

REMOVE = object()  # a claim override that leaves the claim out


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    subject: str


@dataclass
class ClaimsProvider:
    client_id: str
    client_secret: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-key-1"}))
    token_lifetime: int = 300
    _server: Any = None
    _thread: Any = None
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _overrides: dict[str, Any] = field(default_factory=dict)
    _signing_key: RSAKey | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what tests use ------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def next_token(self, signed_with: RSAKey | None = None, **claims: Any) -> None:
        """Override claims of the next ID token (REMOVE drops one), or sign it with another key."""
        with self._lock:
            self._overrides = dict(claims)
            self._signing_key = signed_with

    def authorize(self, authorize_url: str, subject: str = "alice") -> str:
        """Play the browser at the authorization endpoint; returns the redirect back to the app."""
        response = requests.get(authorize_url, params={"login_hint": subject}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:300]
        return response.headers["Location"]

    def start(self) -> ClaimsProvider:
        self._server = werkzeug.serving.make_server("127.0.0.1", 0, self._app(), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    # --- the provider --------------------------------------------------------------------------

    def _claims(self, grant: _Grant) -> dict[str, Any]:
        now = int(time.time())  # the provider's own clock, never the app's
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": grant.subject, "aud": grant.client_id, "iat": now,
            "exp": now + self.token_lifetime, "name": f"{grant.subject.title()} Claims",
            "email": f"{grant.subject}@claims.example",
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        with self._lock:
            overrides, self._overrides = self._overrides, {}
        for name, value in overrides.items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def _app(self) -> Flask:
        app = Flask("claims_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(issuer=self.issuer, authorization_endpoint=self.issuer + "/authorize",
                           token_endpoint=self.issuer + "/token", jwks_uri=self.issuer + "/jwks",
                           response_types_supported=["code"], subject_types_supported=["public"],
                           id_token_signing_alg_values_supported=["RS256"],
                           code_challenge_methods_supported=["S256"])

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return "unknown client or response type", 400
            code = secrets.token_urlsafe(24)
            self._codes[code] = _Grant(self.client_id, args["redirect_uri"], args.get("nonce"),
                                       args.get("code_challenge"), args.get("login_hint", "alice"))
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

        @app.post("/token")
        def token():
            if request.authorization is None or (request.authorization.username, request.authorization.password) \
                    != (self.client_id, self.client_secret):
                return jsonify(error="invalid_client"), 401
            grant = self._codes.pop(request.form.get("code", ""), None)  # a code works once
            if grant is None or request.form.get("redirect_uri") != grant.redirect_uri:
                return jsonify(error="invalid_grant"), 400
            verifier = request.form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant.code_challenge is None or challenge != grant.code_challenge:
                return jsonify(error="invalid_grant"), 400
            with self._lock:
                key, self._signing_key = self._signing_key or self.key, None
            id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, self._claims(grant), key)
            return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer", expires_in=300,
                           id_token=id_token)

        return app

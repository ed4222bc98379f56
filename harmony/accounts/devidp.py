"""The development OpenID provider: oidc-provider-mock on loopback, with the demo personas
offered as one-click identities. For demos and tests only; it signs anyone in."""

from __future__ import annotations

import click
import werkzeug.serving

from harmony.demo.personas import PERSONAS


def provider_app(require_nonce: bool = True):
    import oidc_provider_mock

    users = [oidc_provider_mock.User(sub=p.subject, claims={"name": p.name, "email": p.email, "email_verified": True})
             for p in PERSONAS]
    app = oidc_provider_mock.app(require_nonce=require_nonce, user_claims=users)
    app.debug = False  # never the interactive debugger
    return app


def serve(port: int) -> None:
    click.echo(f"Development OpenID provider at http://127.0.0.1:{port} (loopback only; demo use only)")
    werkzeug.serving.run_simple("127.0.0.1", port, provider_app(), threaded=True,
                                use_debugger=False, use_reloader=False)

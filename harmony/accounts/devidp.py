"""The development OpenID provider: oidc-provider-mock on loopback, with the demo personas
offered as one-click identities. For demos and tests only; it signs anyone in."""

from __future__ import annotations

import sys
import threading

import click
import werkzeug.serving

from harmony.demo.personas import PERSONAS

PARENT_GONE = "Development OpenID provider: standard input closed (its parent has gone), stopping"


def provider_app(require_nonce: bool = True):
    import oidc_provider_mock

    users = [oidc_provider_mock.User(sub=p.subject, claims={"name": p.name, "email": p.email, "email_verified": True})
             for p in PERSONAS]
    app = oidc_provider_mock.app(require_nonce=require_nonce, user_claims=users)
    app.debug = False  # never the interactive debugger
    return app


def serve(port: int, until_stdin_closes: bool = False) -> None:
    """Serve until stopped; with `until_stdin_closes`, also stop when standard input reaches its end
    (the parent that holds the other end of the pipe has gone, however it went)."""
    server = werkzeug.serving.make_server("127.0.0.1", port, provider_app(), threaded=True)
    if until_stdin_closes:
        threading.Thread(target=_shutdown_at_end_of_input, args=(server,), daemon=True).start()
    click.echo(f"Development OpenID provider at http://127.0.0.1:{port} (loopback only; demo use only)")
    server.serve_forever()


def _shutdown_at_end_of_input(server: werkzeug.serving.BaseWSGIServer) -> None:
    while sys.stdin.buffer.read(4096):
        pass
    click.echo(PARENT_GONE)  # before the port closes: a test that finds the port free finds this line too
    server.shutdown()

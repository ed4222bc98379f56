"""`harmony demo run`: the development provider in a child process, then the app in this one.

The app it serves is built for the address it listens on: its base URL (and so the address the
provider sends people back to after signing in) is `http://HOST:PORT`, unless HARMONY_BASE_URL says
otherwise (a proxy in front). The child provider stops on every way out of this process: a normal
return, an exception, Ctrl-C, SIGTERM or SIGHUP (a process manager, a closed terminal) all stop it
here, and should this process be killed outright, the child sees its standard input close and stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import requests
import werkzeug.serving
from flask import Flask

from harmony.demo.personas import PERSONAS

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def demo_overrides(host: str, port: int, environ: dict[str, str] | os._Environ = os.environ) -> dict[str, Any]:
    """The settings `harmony demo run` adds to the environment's: demo mode, and the base URL where it
    listens unless HARMONY_BASE_URL is set."""
    overrides: dict[str, Any] = {"DEMO": True}
    if not environ.get("HARMONY_BASE_URL"):
        overrides["BASE_URL"] = f"http://{_browsable(host)}:{port}"
    return overrides


def _browsable(host: str) -> str:
    """The host as a browser reaches it: a wildcard address means this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def demo_app(host: str, port: int) -> Flask:
    from harmony.app import create_app

    return create_app(demo_overrides(host, port))


def run_demo(host: str, port: int) -> None:
    app = demo_app(host, port)
    idp_url = app.config["DEV_IDP_URL"].rstrip("/")
    with _stopped_by_signals(), _provider_process() as provider:
        _wait_for(idp_url + "/.well-known/openid-configuration", provider)
        click.echo("")
        click.echo(f"Harmony demo: open {app.config['BASE_URL']}   (Ctrl-C stops it)")
        click.echo(f"Sign in with 'Sign in', then pick a subject at the development provider ({idp_url}):")
        for persona in PERSONAS:
            click.echo(f"  {persona.subject:<6} {persona.name:<15} {persona.does}")
        click.echo("")
        werkzeug.serving.run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit, so that cleanup runs as it does for Ctrl-C. A signal
    ignored when we start (SIGHUP under nohup) stays ignored."""

    def stop(signum, _frame):
        for number in STOP_SIGNALS:  # a second signal does not interrupt the cleanup
            signal.signal(number, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS
                if signal.getsignal(number) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def _provider_process() -> Iterator[subprocess.Popen]:
    """`harmony dev-idp` as a child that stops when we leave, or when its standard input closes."""
    provider = subprocess.Popen([sys.executable, "-m", "harmony", "dev-idp", "--until-stdin-closes"],
                                env=dict(os.environ), stdin=subprocess.PIPE)
    try:
        yield provider
    finally:
        stop_process(provider)


def stop_process(process: subprocess.Popen, grace: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin:
        process.stdin.close()


def _wait_for(url: str, provider: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if provider.poll() is not None:
            raise click.ClickException(f"the development provider stopped (is port of {url} in use?)")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"the development provider did not answer at {url}")

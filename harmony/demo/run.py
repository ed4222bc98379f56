"""`harmony demo run`: the development provider in a child process, then the app in this one."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click
import requests
import werkzeug.serving
from flask import current_app

from harmony.demo.personas import PERSONAS


def run_demo(host: str, port: int) -> None:
    idp_url = current_app.config["DEV_IDP_URL"].rstrip("/")
    provider = subprocess.Popen([sys.executable, "-m", "harmony", "dev-idp"], env=dict(os.environ))
    try:
        _wait_for(idp_url + "/.well-known/openid-configuration", provider)
        base = f"http://{host}:{port}"
        click.echo("")
        click.echo(f"Harmony demo: open {base}   (Ctrl-C stops it)")
        click.echo(f"Sign in with 'Sign in', then pick a subject at the development provider ({idp_url}):")
        for persona in PERSONAS:
            click.echo(f"  {persona.subject:<6} {persona.name:<15} {persona.does}")
        click.echo("")
        werkzeug.serving.run_simple(host, port, current_app._get_current_object(), threaded=True,
                                    use_reloader=False, use_debugger=False)
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def _wait_for(url: str, provider: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if provider.poll() is not None:
            raise click.ClickException(f"the development provider stopped (is port of {url} in use?)")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise click.ClickException(f"the development provider did not answer at {url}")

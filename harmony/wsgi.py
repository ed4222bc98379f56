"""Entry point for WSGI servers: `gunicorn 'harmony.wsgi:app'`."""

from harmony.app import create_app

app = create_app()

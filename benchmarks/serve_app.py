"""The WSGI module serve_bench.py runs under gunicorn: Harmony's app exactly as harmony/wsgi.py
builds it, plus one bare page, `/_bench/bare`, the benchmark's reference: a request through the same
app (its hooks, session, security headers, error handling) that reads nothing and renders nothing.

The route lives here and not in the product, so nothing in Harmony answers it outside a benchmark.

    gunicorn --pythonpath benchmarks 'serve_app:app'
"""

from __future__ import annotations

from harmony.wsgi import app

BARE_PATH = "/_bench/bare"


@app.get(BARE_PATH)
def bare() -> str:
    return "<!doctype html><title>bare</title><p>ok</p>"

"""Every error becomes an HTML page, or problem+json under /api/; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from harmony.errors import HarmonyError, ValidationError

log = logging.getLogger(__name__)


DESCRIPTIONS = {
    400: "The request could not be understood.",
    403: "You are not allowed to do this.",
    404: "There is nothing at this address. It may have moved, or the link may be mistyped.",
    405: "This address does not accept that kind of request.",
    409: "This cannot be done in the current state; someone may have changed it in the meantime.",
    410: "This page was here once and has been withdrawn.",
    413: "What was sent is larger than this site accepts.",
    422: "Some of what was sent is not valid.",
    500: "Something went wrong on our side. The error has been logged; please try again later.",
}
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "payload-too-large",
    422: "validation-error",
    500: "internal-error",
}


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str, slug: str | None = None, **extra: object) -> Response:
    from flask import current_app

    body = {
        "type": f"{current_app.config['BASE_URL']}/problems/{slug or SLUGS.get(status, 'error')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def render_error(status: int, title: str, description: str, template: str = "errors/error.html", **context: object):
    if wants_problem_json():
        return problem(status, title, description, **context)
    return render_template(template, code=status, title=title, description=description, **context), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return render_error(
            400,
            "The form could not be accepted",
            "The form had expired or did not come from this site. Go back, reload the page and try again.",
        )

    @app.errorhandler(HarmonyError)
    def _domain_error(error: HarmonyError):
        extra = {"errors": error.fields} if isinstance(error, ValidationError) and error.fields else {}
        if wants_problem_json():
            return problem(error.status, error.title, error.detail, error.type_slug, **extra)
        return render_error(error.status, error.title, error.detail)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        description = DESCRIPTIONS.get(status) if status >= 500 else (error.description or DESCRIPTIONS.get(status, ""))
        if status in DESCRIPTIONS and error.description == type(error).description:
            description = DESCRIPTIONS[status]
        response = make_response(render_error(status, error.name, description or error.name))
        if status == 405 and error.response is None:
            valid = error.get_headers()
            for name, value in valid:
                if name.lower() == "allow":
                    response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        status = InternalServerError.code
        return render_error(status, "Internal server error", DESCRIPTIONS[500])

"""Errors as ``application/problem+json`` (RFC 9457), with one ``{path, message}`` per bad field."""

from __future__ import annotations

import json
import logging
from typing import Any

import pydantic
from flask import Flask, Response, g
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ..db.errors import database_gone
from ..errors import OtrsExtError, ValidationError

log = logging.getLogger(__name__)
TYPE_BASE = "https://otrs-ext.invalid/problems/"


def problem_body(status: int, code: str, title: str, detail: str, *, errors: list[dict[str, str]] | None = None,
                 request_id: str | None = None) -> dict[str, Any]:
    """The problem document itself (also written by the gunicorn worker, outside any Flask request)."""
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    return body


def problem(status: int, code: str, title: str, detail: str, *, errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body = problem_body(status, code, title, detail, errors=errors, request_id=getattr(g, "request_id", None))
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def pydantic_errors(error: pydantic.ValidationError, prefix: str = "") -> list[dict[str, str]]:
    out = []
    for e in error.errors():
        path = prefix
        for part in e["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        out.append({"path": path or "body", "message": e["msg"]})
    return out


def install(app: Flask) -> None:
    @app.errorhandler(pydantic.ValidationError)
    def _invalid(error: pydantic.ValidationError) -> Response:
        errors = pydantic_errors(error)
        return problem(422, "validation", "Invalid request", f"{len(errors)} field(s) are invalid", errors=errors)

    @app.errorhandler(ValidationError)
    def _refused(error: ValidationError) -> Response:
        errors = [{"path": path, "message": message} for path, message in error.problems]
        return problem(422, "validation", "Invalid request", error.message, errors=errors)

    @app.errorhandler(OtrsExtError)
    def _domain(error: OtrsExtError) -> Response:
        if error.status >= 500:
            log.error("request failed: %s", error.message, extra={"event": "api_error", "code": error.code})
        return problem(error.status, error.code, error.code.replace("-", " ").capitalize(), error.message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        return problem(status, f"http-{status}", error.name, error.description or error.name)

    @app.errorhandler(RecursionError)
    def _too_deep(error: RecursionError) -> Response:
        # a structure nested past the interpreter's limit (e.g. JSON inside a form field): the client's doing
        log.warning("request too deeply nested", extra={"event": "api_too_deep"})
        return problem(400, "json-too-deep", "Invalid request", "the request nests too deeply")

    @app.errorhandler(DBAPIError)
    def _database(error: DBAPIError) -> Response:
        if not database_gone(error):
            return _crash(error)
        # MariaDB restarting or unreachable: the client should retry, as it would after a 503 from a proxy
        log.warning("database unavailable: %s", error.orig, extra={"event": "api_database_down"})
        return problem(503, "database-unavailable", "Service unavailable",
                       "the database is not reachable; retry shortly", headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _crash(error: Exception) -> Response:
        log.exception("unhandled error", extra={"event": "api_crash"})
        return problem(500, "internal", "Internal error", "the server failed; the request id names it in the logs")

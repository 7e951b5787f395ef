"""GenericInterface-compatible routes: scripts written for Znuny's ``GenericTicketConnectorREST`` keep working.

Served under ``/otrs/nph-genericinterface.pl/Webservice/<name>/``, the same under ``/znuny/``, and
``/api/gi/<name>/``, with Znuny's default REST mapping:

    POST   Session               SessionCreate   {UserLogin, Password} -> {SessionID}
    GET    Session/:SessionID    SessionGet      DELETE Session/:SessionID  SessionDelete
    POST   Ticket                TicketCreate    -> {TicketID, TicketNumber, ArticleID}
    GET    Ticket/:TicketID      TicketGet       -> {Ticket: [...]}
    GET    Ticket, POST TicketSearch             TicketSearch -> {TicketID: [...]}
    PATCH  Ticket/:TicketID (or POST)            TicketUpdate -> {TicketID, TicketNumber, ArticleID?}

Request data is the JSON body merged with the query string and the route's parameters (these win), as
Znuny's REST transport does. Operation errors - failed login, missing or invalid parameters, no access - are
answered as Znuny answers them: **HTTP 200** with ``{"Error": {"ErrorCode": "TicketCreate.MissingParameter",
"ErrorMessage": "..."}}``, so scripts that test for ``Error`` keep working. Transport errors differ on purpose:
Znuny answers a body that is not JSON or an unknown route with HTTP 500; here they are 400 and 404 (with the
same ``Error`` object), so a monitoring system does not count a client's mistake as a server failure.
An unexpected failure is a 500 with ``<Operation>.InternalError``.

Callers authenticate in every request with ``UserLogin`` + ``Password`` (an OTRS agent; see
``otrs_ext.auth.passwords`` for the hash formats), with a ``SessionID`` from SessionCreate, or with an otrs-ext
agent key as ``Authorization: Bearer``. Customer-user logins are not supported.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from redis.exceptions import RedisError

from ...auth.compose import build_agent_auth
from ...auth.service import Agent, AgentAuth, AuthFail
from ...errors import NotFound, OtrsExtError, PermissionDenied, ValidationError
from ..context import ApiContext, context
from ..keys import Unauthorized
from . import tickets as gi_tickets
from .input import GiError

log = logging.getLogger("otrs_ext.api.gi")
bp = Blueprint("gi", __name__)
PREFIXES = ("/otrs/nph-genericinterface.pl/Webservice/<webservice>",
            "/znuny/nph-genericinterface.pl/Webservice/<webservice>", "/api/gi/<webservice>")
API_PREFIX = "/api/gi/"  # paths the app's own Bearer check leaves to this module


class TransportError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def register(app: Flask) -> None:
    """Mount the routes under every prefix and give the app its GI session store."""
    ctx: ApiContext = app.extensions["otrs_ext"]
    app.extensions["otrs_ext_gi"] = build_agent_auth(ctx.runtime, prefix="otrs_ext:gi")
    for i, prefix in enumerate(PREFIXES):
        app.register_blueprint(bp, url_prefix=prefix, name=f"gi{i}")


def _auth() -> AgentAuth:
    return current_app.extensions["otrs_ext_gi"]


# --- transport ----------------------------------------------------------------------------------------------
def _reply(document: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), status=status, mimetype="application/json")


def _error(operation: str, code: str, message: str, status: int = 200) -> Response:
    return _reply({"Error": {"ErrorCode": f"{operation}.{code}", "ErrorMessage": message}}, status)


def _data(route: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    raw = request.get_data(cache=True)
    if raw.strip():
        try:
            body = json.loads(raw)
        except ValueError:
            raise TransportError(400, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise TransportError(400, "the request body must be a JSON object")
        data.update(body)
    for key in request.args:
        values = request.args.getlist(key)
        data[key] = values[0] if len(values) == 1 else values  # a repeated key is a list, as in Znuny
    data.update(route)
    return data


def operation(name: str, *, authenticated: bool = True) -> Callable[..., Callable[..., Response]]:
    """Run a view as GI operation ``name``: webservice check, data, authentication, errors in GI's shape."""
    def decorate(view: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
        @functools.wraps(view)
        def run(webservice: str, **route: Any) -> Response:
            allowed = context().runtime.settings.gi_webservices
            if allowed and webservice not in allowed:
                return _error("Provider", "WebserviceNotFound", f"no web service {webservice!r}", 404)
            try:
                data = _data(route)
                if authenticated:
                    return _reply(view(_agent(name, data), data))
                return _reply(view(data))
            except TransportError as error:
                return _error("Provider", "InvalidRequest", error.message, error.status)
            except GiError as error:
                return _error(name, error.code, error.message)
            except (AuthFail, Unauthorized) as error:
                return _error(name, "AuthFail", f"{name}: Authorization failing! {error.message}")
            except ValidationError as error:
                return _error(name, "InvalidParameter", f"{name}: {error.message}")
            except (PermissionDenied, NotFound) as error:
                return _error(name, "AccessDenied", f"{name}: User does not have access! {error.message}")
            except OtrsExtError as error:
                if error.status < 500:  # e.g. an attachment over the size limit
                    return _error(name, "InvalidParameter", f"{name}: {error.message}")
                log.error("GI %s failed: %s", name, error.message, extra={"event": "gi_error"})
                return _error(name, "InternalError", f"{name}: {error.message}", 500)
            except RedisError as error:
                log.error("GI %s: Redis unavailable: %s", name, error, extra={"event": "gi_error"})
                return _error(name, "InternalError", f"{name}: the session store is unavailable", 503)
        return run
    return decorate


def _agent(op: str, data: dict[str, Any]) -> Agent:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        key = g.api_key = context().keys.authenticate(header[7:].strip())
        agent = _auth().bearer(key)
        verdict = context().limiter.hit(key.key_id, key.rate_per_minute)
        if not verdict.allowed:
            raise GiError("AccessDenied", f"{op}: rate limit of {key.rate_per_minute} requests a minute "
                                          f"reached; retry in {verdict.retry_after} s")
        return agent
    if data.get("SessionID"):
        return _auth().session(str(data["SessionID"]))
    if data.get("CustomerUserLogin"):
        raise AuthFail("customer-user logins are not supported by otrs-ext; use an agent login")
    if data.get("UserLogin") and data.get("Password"):
        return _auth().password(str(data["UserLogin"]), str(data["Password"]))
    raise GiError("MissingParameter", f"{op}: UserLogin, CustomerUserLogin or SessionID is required!")


# --- routes -------------------------------------------------------------------------------------------------
@bp.post("/Session")
@operation("SessionCreate", authenticated=False)
def session_create(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("CustomerUserLogin"):
        raise AuthFail("customer-user logins are not supported by otrs-ext; use an agent login")
    if not data.get("UserLogin") or not data.get("Password"):
        raise GiError("MissingParameter", "SessionCreate: UserLogin or CustomerUserLogin and Password are required!")
    agent = _auth().password(str(data["UserLogin"]), str(data["Password"]))
    return {"SessionID": _auth().create_session(agent)}


@bp.get("/Session/<session_id>")
@operation("SessionGet", authenticated=False)
def session_get(data: dict[str, Any]) -> dict[str, Any]:
    session_id = str(data["session_id"]).removeprefix("SessionID=")  # Znuny's docs show both spellings
    stored = _auth().session_data(session_id)
    _auth().session(session_id)  # refuses an expired session and renews the idle timer
    return {"SessionData": [{"Key": "UserID", "Value": str(stored["user_id"])},
                            {"Key": "UserLogin", "Value": stored.get("login", "")},
                            {"Key": "UserType", "Value": "User"}]}


@bp.delete("/Session/<session_id>")
@operation("SessionDelete", authenticated=False)
def session_delete(data: dict[str, Any]) -> dict[str, Any]:
    if not _auth().delete_session(str(data["session_id"]).removeprefix("SessionID=")):
        raise AuthFail("no such session")
    return {"Success": 1}


@bp.post("/Ticket")
@operation("TicketCreate")
def ticket_create(agent: Agent, data: dict[str, Any]) -> dict[str, Any]:
    return gi_tickets.ticket_create(context(), agent, data)


@bp.get("/Ticket/<TicketID>")
@operation("TicketGet")
def ticket_get(agent: Agent, data: dict[str, Any]) -> dict[str, Any]:
    return gi_tickets.ticket_get(context(), agent, data)


@bp.get("/Ticket")
@bp.post("/TicketSearch")
@bp.get("/TicketSearch")
@operation("TicketSearch")
def ticket_search(agent: Agent, data: dict[str, Any]) -> dict[str, Any]:
    return gi_tickets.ticket_search(context(), agent, data)


@bp.route("/Ticket/<TicketID>", methods=["PATCH", "POST", "PUT"])
@operation("TicketUpdate")
def ticket_update(agent: Agent, data: dict[str, Any]) -> dict[str, Any]:
    return gi_tickets.ticket_update(context(), agent, data)


@bp.route("/<path:rest>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def unknown(webservice: str, rest: str) -> Response:
    return _error("Provider", "NoOperation", f"no operation is mapped to {request.method} {rest}", 404)

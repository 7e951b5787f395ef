"""``/api/v1/pool/*`` and ``/api/v1/points*``: the ticket pool and the points ledger for agent keys. The rules
live in ``otrs_ext.pool``; this module only translates, and guards the routes against bots.

Every route here is for agent keys only (intake keys and customer tokens get 403), limited per *agent* (not per
key: an agent with several keys shares one budget) with 429 and ``Retry-After``, and counted per agent and
minute for the request-rate audit, which logs ``pool_rate_alert`` once a minute for an agent above
``AUDIT_PER_MINUTE``. The pool never answers a list of tickets: only the caller's own ticket, or his place in
line; polling gains nothing, since the order is the agents' line, not the speed of their requests.

The pool session of an API client is named by the ``X-Pool-Session`` header (default: one per API key), so a
second client of the same agent is refused (409) while the first one's session is open.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, request, stream_with_context
from redis.exceptions import RedisError

from ..errors import NotFound, ValidationError
from ..pool.assign import NotInPool
from ..pool.compose import Pool
from ..pool.ledger import month_range
from ..pool.push import HUB_LOCK, event_stream, keep_alive, shared_hub
from ..pool.views import balance_view, entry_view, report_csv, report_view, status_view
from ..tickets import names
from . import problems
from .context import caller, context
from .tickets import _agent, _json

log = logging.getLogger("otrs_ext.api.pool")
bp = Blueprint("pool", __name__)

RATE_PER_MINUTE = 120  # per agent on the pool and points routes: a screen needs a handful a minute
AUDIT_PER_MINUTE = 60  # requests an agent makes to these routes in a minute before the audit logs an alert
STREAM_SECONDS = 300  # an event stream ends after this long; EventSource reconnects by itself


def pool() -> Pool:
    return context().pool


@bp.before_request
def _guard() -> Response | None:
    """Agent keys only; the per-agent limit and the rate audit."""
    agent_id = _agent()
    g.pool_agent = agent_id
    client = context().runtime.redis
    installation = context().runtime.engine.url.database
    try:
        verdict = context().limiter.hit(f"pool-agent:{agent_id}", RATE_PER_MINUTE)
        _audit(client, f"otrs_ext:pool-audit:{installation}:{agent_id}", agent_id)
    except RedisError as error:  # a guard, not a gate: the pool itself needs Redis and will say so
        log.warning("pool rate limiter unavailable: %s", error, extra={"event": "pool_ratelimit_down"})
        return None
    if not verdict.allowed:
        return problems.problem(429, "rate-limited", "Too many requests",
                                f"at most {RATE_PER_MINUTE} pool requests a minute per agent; the pool pushes "
                                "the next ticket (GET /pool/events), there is nothing to gain from polling",
                                headers={"Retry-After": str(verdict.retry_after)})
    return None


def _audit(client: Any, prefix: str, agent_id: int) -> None:
    minute = int(time.time() // 60)
    name = f"{prefix}:{minute}"
    with client.pipeline(transaction=False) as pipe:
        count, _ = pipe.incr(name).expire(name, 3600).execute()
    if count == AUDIT_PER_MINUTE + 1:  # once per agent and minute, not once per request above it
        log.warning("agent %s made more than %s pool requests this minute", agent_id, AUDIT_PER_MINUTE,
                    extra={"event": "pool_rate_alert", "agent_id": agent_id, "minute": minute,
                           "threshold": AUDIT_PER_MINUTE})


def _session_id() -> str:
    given = request.headers.get("X-Pool-Session")
    if given is not None:
        return given
    key = caller()
    return f"key:{key.key_id}" if key is not None else "key"


# --- the pool -------------------------------------------------------------------------------------------
@bp.post("/pool/enter")
def enter() -> Response:
    """Enter the pool (or renew this session): the answer is where the agent stands."""
    return _json(status_view(pool().service.enter(g.pool_agent, _session_id()), context().runtime.settings))


@bp.post("/pool/leave")
def leave() -> Response:
    """Leave the pool; an unanswered pool ticket is unlocked (and the penalty follows)."""
    return _json(status_view(pool().service.leave(g.pool_agent, _session_id()), context().runtime.settings))


@bp.get("/pool/current")
def current() -> Response:
    """The agent's pool ticket, or ``null`` with his place in line; a heartbeat for his session."""
    service = pool().service
    try:
        status = service.heartbeat(g.pool_agent, _session_id())
    except NotInPool:
        status = service.status(g.pool_agent)
    return _json(status_view(status, context().runtime.settings))


@bp.get("/pool/events")
def events() -> Response:
    """Server-Sent Events: ``status`` first, then the agent's pool messages (``assigned``, ``released``,
    ``confirmed``) as they are published, each followed by the new ``status``; comments as keep-alives, which
    are also the session's heartbeats."""
    agent_id, session_id = g.pool_agent, _session_id()
    the_pool, settings = pool(), context().runtime.settings
    beat = max(1, min(settings.pool_heartbeat_seconds, 15))
    hub = shared_hub(current_app.extensions, HUB_LOCK, context().runtime.redis, the_pool)
    inbox = hub.listen(agent_id)  # before the status: a message published meanwhile is not lost
    try:
        first = status_view(the_pool.service.status(agent_id), settings)
    except BaseException:
        hub.stop(agent_id, inbox)
        raise
    stream = event_stream(hub, inbox, agent_id, first,
                          lambda: status_view(the_pool.service.status(agent_id), settings),
                          lambda: keep_alive(the_pool, agent_id, session_id), beat=beat, seconds=STREAM_SECONDS)
    return Response(stream_with_context(stream), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- points ---------------------------------------------------------------------------------------------
@bp.get("/points")
def points() -> Response:
    """Ledger entries of ``agent`` (login or id; default: the caller) in ``month`` (default: this one), with
    the balance. Other agents' entries: heads of support of their departments."""
    me = g.pool_agent
    month = request.args.get("month") or datetime.now().strftime("%Y-%m")
    start, end = month_range(month)
    agent_id = _agent_ref(request.args.get("agent"), me)
    ledger = pool().ledger
    if agent_id != me:
        with context().runtime.engine.connect() as conn:
            ledger.require_head(conn, me, agent_id)
    entries = ledger.entries(agent_id, month)
    return _json({"agent_id": agent_id, "month": month,
                  "balance": balance_view(ledger.balance(agent_id, start, end)),
                  "items": [entry_view(e) for e in entries]})


@bp.post("/points/adjust")
def adjust() -> Response:
    """Heads of support: ``{"agent", "points", "reason"}``; ``Idempotency-Key`` writes a repeat once."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError([("", "send a JSON object: {\"agent\": ..., \"points\": ..., \"reason\": ...}")])
    if body.get("agent") in (None, ""):
        raise ValidationError([("agent", "is required: the agent's login or id")])
    agent_id = _agent_ref(str(body["agent"]), g.pool_agent, path="agent")
    entry = pool().ledger.adjust(g.pool_agent, agent_id, body.get("points"), body.get("reason") or "",
                                 key=request.headers.get("Idempotency-Key"))
    return _json(entry_view(entry), 201)


@bp.get("/points/report")
def report() -> Response:
    """The month's balances per agent and department (heads of support: their departments); CSV with
    ``format=csv``."""
    month = request.args.get("month")
    if not month:
        raise ValidationError([("month", "is required: YYYY-MM")])
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValidationError([("format", "json or csv")])
    found = pool().ledger.report(month, head_id=g.pool_agent)
    if fmt == "csv":
        return Response(report_csv(found), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="points-{month}.csv"'})
    return _json(report_view(found))


def _agent_ref(ref: str | None, default: int, *, path: str = "agent") -> int:
    if ref is None or ref == "":
        return default
    if ref.isdigit():
        return int(ref)
    rt = context().runtime
    try:
        return names.agent_id(rt.engine, rt.schema, ref)
    except NotFound as error:  # the lookup's own message names the login; say which field it came from
        raise ValidationError([(path, error.message)]) from error

"""Routes of the pool section: ``/agent/pool`` (enter, leave, the current ticket, balances, pushed updates
through ``/agent/pool/events``) and ``/agent/points`` (the agent's ledger; heads of support: their departments'
month report). The rules live in ``otrs_ext.pool``; these routes only translate.

The pool session of a browser is bound to its screens session (a hash of the cookie): a second browser of the
same agent is refused while the first one's pool session is open. The page's script (``static/pool.js``) keeps
it alive through the event stream's keep-alives.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import (
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ...errors import OtrsExtError
from ...pool.compose import Pool, build_pool
from ...pool.ledger import month_range
from ...pool.push import HUB_LOCK, event_stream, keep_alive, shared_hub
from ...pool.views import balance_view, entry_view, report_view, status_view
from ..context import screens_context
from ..security import SESSION_COOKIE, csrf_ok, csrf_token, current_agent, section
from ..session import LOGOUT_PURPOSE

bp = section("agent_pool", __name__, template_folder="templates")
POOL_PURPOSE = "pool"
STREAM_SECONDS = 300


def _pool() -> Pool:
    """The app's pool services (the API's when it has them), built on first use."""
    api = current_app.extensions.get("otrs_ext")
    found = getattr(api, "pool", None) or current_app.extensions.get("otrs_ext_screens_pool")
    if found is None:
        found = current_app.extensions["otrs_ext_screens_pool"] = build_pool(screens_context().runtime)
    return found


def _session_id() -> str:
    return "screen:" + hashlib.sha256(request.cookies.get(SESSION_COOKIE, "").encode()).hexdigest()[:32]


@bp.get("/pool")
def pool_page() -> Response:
    agent = current_agent()
    if agent is None:
        return redirect(url_for("agent.login_form", next=request.full_path))
    return _page(agent)


def _page(agent, error: str | None = None, status: int = 200) -> Response:  # noqa: ANN001 - the session's Agent
    the_pool = _pool()
    settings = screens_context().runtime.settings
    now = datetime.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start, month_end = month_range(now.strftime("%Y-%m"))
    cookie = request.cookies[SESSION_COOKIE]
    html = render_template(
        "screens/pool.html", agent=agent, error=error,
        status=status_view(the_pool.service.status(agent.user_id), settings),
        today=balance_view(the_pool.ledger.balance(agent.user_id, today, None)),
        month=balance_view(the_pool.ledger.balance(agent.user_id, month_start, month_end)),
        pool_token=csrf_token(cookie, POOL_PURPOSE), logout_token=csrf_token(cookie, LOGOUT_PURPOSE))
    return make_response(html, status)


@bp.post("/pool/enter")
def enter() -> Response:
    return _change("enter")


@bp.post("/pool/leave")
def leave() -> Response:
    return _change("leave")


def _change(action: str) -> Response:
    agent = current_agent()
    if agent is None:
        return redirect(url_for("agent.login_form"))
    if not csrf_ok(request, SESSION_COOKIE, POOL_PURPOSE):
        return redirect(url_for("agent_pool.pool_page"))  # a forged or stale form changes nothing
    service = _pool().service
    try:
        if action == "enter":
            service.enter(agent.user_id, _session_id())
        else:
            service.leave(agent.user_id, _session_id())
    except OtrsExtError as refused:
        return _page(agent, refused.message, refused.status)
    return redirect(url_for("agent_pool.pool_page"))


@bp.get("/pool/events")
def events() -> Response:
    agent = current_agent()
    if agent is None:
        return Response("log in first\n", status=401, mimetype="text/plain")
    the_pool, settings = _pool(), screens_context().runtime.settings
    agent_id, session_id = agent.user_id, _session_id()
    hub = shared_hub(current_app.extensions, HUB_LOCK, screens_context().runtime.redis, the_pool)
    inbox = hub.listen(agent_id)
    try:
        first = status_view(the_pool.service.status(agent_id), settings)
    except BaseException:
        hub.stop(agent_id, inbox)
        raise
    stream = event_stream(hub, inbox, agent_id, first,
                          lambda: status_view(the_pool.service.status(agent_id), settings),
                          lambda: keep_alive(the_pool, agent_id, session_id),
                          beat=max(1, min(settings.pool_heartbeat_seconds, 15)), seconds=STREAM_SECONDS)
    return Response(stream_with_context(stream), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@bp.get("/points")
def points_page() -> Response:
    agent = current_agent()
    if agent is None:
        return redirect(url_for("agent.login_form", next=request.full_path))
    month = request.args.get("month") or datetime.now().strftime("%Y-%m")
    ledger = _pool().ledger
    try:
        start, end = month_range(month)
    except OtrsExtError as bad:
        month = datetime.now().strftime("%Y-%m")
        start, end = month_range(month)
        error = bad.message
    else:
        error = None
    with screens_context().runtime.engine.connect() as conn:
        head = ledger.is_head(conn, agent.user_id)
    html = render_template(
        "screens/points.html", agent=agent, month=month, error=error,
        entries=[entry_view(e) for e in ledger.entries(agent.user_id, month)],
        balance=balance_view(ledger.balance(agent.user_id, start, end)),
        report=report_view(ledger.report(month, head_id=agent.user_id)) if head else None,
        logout_token=csrf_token(request.cookies[SESSION_COOKIE], LOGOUT_PURPOSE))
    return make_response(html, 422 if error else 200)

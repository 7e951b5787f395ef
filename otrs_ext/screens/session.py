"""The session section of the agent screens: ``/agent/login``, ``/agent/logout`` and ``/agent/`` (to the search).

Its blueprint (``agent``) also serves the shared templates (``templates/screens/base.html``) and static files
(``/agent/static/``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Response, make_response, redirect, render_template, request, url_for
from redis.exceptions import RedisError

from ..auth.service import AuthFail
from .security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    current_agent,
    drop_cookie,
    new_nonce,
    passwords,
    section,
    set_cookie,
    store,
)

log = logging.getLogger("otrs_ext.screens")
bp = section("agent", __name__, template_folder="templates", static_folder="static")
LOGIN_PURPOSE, LOGOUT_PURPOSE = "login", "logout"
LANDING = "agent_search.search"  # where a login ends unless the agent asked for another page of the screens

# --- login / logout -------------------------------------------------------------------------------------
@bp.get("/login")
def login_form() -> Response:
    if current_agent() is not None:
        return redirect(_next_target())
    return _login_page()


@bp.post("/login")
def login() -> Response:
    if not csrf_ok(request, LOGIN_COOKIE, LOGIN_PURPOSE):
        return _login_page("The form has expired; please log in again.", status=400)
    login_name = request.form.get("login", "").strip()
    try:
        agent = passwords().password(login_name, request.form.get("password", ""))
        session_id = store().create_session(agent)
    except AuthFail as error:
        return _login_page(error.message.capitalize() + ".", status=401, login_name=login_name)
    except RedisError as error:
        log.warning("agent login impossible: %s", error, extra={"event": "screens_redis_down"})
        return _login_page("Logins are unavailable right now (session store down).", status=503)
    log.info("agent %s logged in", agent.login, extra={"event": "screens_login", "user_id": agent.user_id})
    response = redirect(_next_target())
    set_cookie(response, SESSION_COOKIE, session_id)
    drop_cookie(response, LOGIN_COOKIE)
    return response


@bp.post("/logout")
def logout() -> Response:
    if not csrf_ok(request, SESSION_COOKIE, LOGOUT_PURPOSE):
        return redirect(url_for(LANDING))  # a forged or stale logout changes nothing
    try:
        store().delete_session(request.cookies[SESSION_COOKIE])
    except RedisError:
        pass  # the cookie goes anyway; the Redis key expires by its TTL
    response = redirect(url_for("agent.login_form"))
    drop_cookie(response, SESSION_COOKIE)
    return response


def _login_page(error: str | None = None, *, status: int = 200, login_name: str = "") -> Response:
    nonce = new_nonce()  # a fresh nonce per form: a token seen once is useless later
    response = make_response(render_template(
        "screens/login.html", error=error, login_name=login_name, next=_next_target(),
        csrf_token=csrf_token(nonce, LOGIN_PURPOSE)), status)
    set_cookie(response, LOGIN_COOKIE, nonce)
    return response


def _next_target() -> str:
    """Where to go after login: a path of these screens only, never another site (open redirect)."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/agent/") or target.startswith("//") \
            or "\\" in target or parts.path.startswith("/agent/log"):
        return url_for(LANDING)
    return target


# --- search -----------------------------------------------------------------------------------------------
@bp.get("/")
def home() -> Response:
    return redirect(url_for(LANDING))


"""Cookies, sessions and CSRF tokens of the agent screens.

The session cookie holds a random id; Redis holds the session under its hash (``GiAuth``'s store, own prefix).
CSRF tokens are HMACs keyed by a cookie the browser holds (the session id once logged in, a random nonce on
the login form): stateless, valid on every worker, and unforgeable by a page that cannot read the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Request, Response, current_app, request
from redis.exceptions import RedisError

from ..api.gi_auth import Agent, AuthFail, GiAuth

SESSION_COOKIE = "otrs_ext_agent"
LOGIN_COOKIE = "otrs_ext_login"  # the login form's CSRF nonce; there is no session yet to bind it to
CSRF_FIELD = "csrf_token"


def store() -> GiAuth:
    return current_app.extensions["otrs_ext_screens"]


def passwords() -> GiAuth:
    """The GI routes' checker: failed logins count against one budget, however the agent logs in."""
    return current_app.extensions["otrs_ext_gi"]


def current_agent() -> Agent | None:
    """The logged-in agent of this request, None without a live session (or when Redis is down)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    try:
        return store().session(session_id)
    except (AuthFail, RedisError):
        return None


def csrf_token(cookie_value: str, purpose: str) -> str:
    return hmac.new(cookie_value.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def csrf_ok(req: Request, cookie_name: str, purpose: str) -> bool:
    cookie = req.cookies.get(cookie_name)
    sent = req.form.get(CSRF_FIELD, "")
    return bool(cookie) and hmac.compare_digest(csrf_token(cookie, purpose), sent)


def new_nonce() -> str:
    return secrets.token_hex(16)


def set_cookie(response: Response, name: str, value: str) -> None:
    # HttpOnly: no script reads it; Lax: sent on top-level navigations only, never on cross-site POSTs
    response.set_cookie(name, value, httponly=True, samesite="Lax", secure=request.is_secure, path="/agent")


def drop_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/agent", httponly=True, samesite="Lax", secure=request.is_secure)

"""What every section of the agent screens shares: security headers, cookies, sessions and CSRF tokens.

The session cookie holds a random id; Redis holds the session under its hash (``AgentAuth``'s store, own prefix).
CSRF tokens are HMACs keyed by a cookie the browser holds (the session id once logged in, a random nonce on
the login form): stateless, valid on every worker, and unforgeable by a page that cannot read the cookie.
A section's form posts carry ``csrf_token(...)`` in ``CSRF_FIELD`` and its route checks it with ``csrf_ok``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, Request, Response, request
from redis.exceptions import RedisError

from ..auth.service import Agent, AgentAuth, AuthFail
from .context import screens_context

SESSION_COOKIE = "otrs_ext_agent"
LOGIN_COOKIE = "otrs_ext_login"  # the login form's CSRF nonce; there is no session yet to bind it to
CSRF_FIELD = "csrf_token"
# frame-ancestors/X-Frame-Options: no clickjacking of the login form; no inline script or style at all
CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"


def section(name: str, import_name: str, *, template_folder: str | None = "templates",
            static_folder: str | None = None) -> Blueprint:
    """The blueprint of one section, with the headers every screen answers with (see ``headers``)."""
    bp = Blueprint(name, import_name, template_folder=template_folder, static_folder=static_folder)
    bp.after_request(headers)
    return bp


def headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # the query string carries the agent's search words
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"  # pages show tickets: keep them out of shared caches
    return response


# --- sessions -----------------------------------------------------------------------------------------------
def store() -> AgentAuth:
    return screens_context().sessions


def passwords() -> AgentAuth:
    """The GI routes' checker: failed logins count against one budget, however the agent logs in."""
    return screens_context().passwords


def current_agent() -> Agent | None:
    """The logged-in agent of this request, None without a live session (or when Redis is down)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    try:
        return store().session(session_id)
    except (AuthFail, RedisError):
        return None


# --- CSRF and cookies ---------------------------------------------------------------------------------------
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

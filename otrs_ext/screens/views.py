"""Routes of the agent screens: ``/agent/login``, ``/agent/logout``, ``/agent/search`` (and its counts)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from redis.exceptions import RedisError

from ..api.gi_auth import AuthFail
from ..api.search import service
from ..errors import ValidationError
from ..search.service import SORTS, SearchFilter, SearchUnavailable
from . import auth
from .options import filter_choices
from .results import facet_views, page

log = logging.getLogger("otrs_ext.screens")
bp = Blueprint("agent", __name__, template_folder="templates", static_folder="static")
PAGE_SIZE = 20
LOGIN_PURPOSE, LOGOUT_PURPOSE = "login", "logout"
# frame-ancestors/X-Frame-Options: no clickjacking of the login form; no inline script or style at all
CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # the query string carries the agent's search words
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"  # pages show tickets: keep them out of shared caches
    return response


# --- login / logout -------------------------------------------------------------------------------------
@bp.get("/login")
def login_form() -> Response:
    if auth.current_agent() is not None:
        return redirect(_next_target())
    return _login_page()


@bp.post("/login")
def login() -> Response:
    if not auth.csrf_ok(request, auth.LOGIN_COOKIE, LOGIN_PURPOSE):
        return _login_page("The form has expired; please log in again.", status=400)
    login_name = request.form.get("login", "").strip()
    try:
        agent = auth.passwords().password(login_name, request.form.get("password", ""))
        session_id = auth.store().create_session(agent)
    except AuthFail as error:
        return _login_page(error.message.capitalize() + ".", status=401, login_name=login_name)
    except RedisError as error:
        log.warning("agent login impossible: %s", error, extra={"event": "screens_redis_down"})
        return _login_page("Logins are unavailable right now (session store down).", status=503)
    log.info("agent %s logged in", agent.login, extra={"event": "screens_login", "user_id": agent.user_id})
    response = redirect(_next_target())
    auth.set_cookie(response, auth.SESSION_COOKIE, session_id)
    auth.drop_cookie(response, auth.LOGIN_COOKIE)
    return response


@bp.post("/logout")
def logout() -> Response:
    if not auth.csrf_ok(request, auth.SESSION_COOKIE, LOGOUT_PURPOSE):
        return redirect(url_for("agent.search"))  # a forged or stale logout changes nothing
    try:
        auth.store().delete_session(request.cookies[auth.SESSION_COOKIE])
    except RedisError:
        pass  # the cookie goes anyway; the Redis key expires by its TTL
    response = redirect(url_for("agent.login_form"))
    auth.drop_cookie(response, auth.SESSION_COOKIE)
    return response


def _login_page(error: str | None = None, *, status: int = 200, login_name: str = "") -> Response:
    nonce = auth.new_nonce()  # a fresh nonce per form: a token seen once is useless later
    response = make_response(render_template(
        "screens/login.html", error=error, login_name=login_name, next=_next_target(),
        csrf_token=auth.csrf_token(nonce, LOGIN_PURPOSE)), status)
    auth.set_cookie(response, auth.LOGIN_COOKIE, nonce)
    return response


def _next_target() -> str:
    """Where to go after login: a path of these screens only, never another site (open redirect)."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/agent/") or target.startswith("//") \
            or "\\" in target or parts.path.startswith("/agent/log"):
        return url_for("agent.search")
    return target


# --- search -----------------------------------------------------------------------------------------------
@bp.get("/")
def home() -> Response:
    return redirect(url_for("agent.search"))


@bp.get("/search")
def search() -> Response:
    """The page of hits at once; the counts by queue and state follow from ``/search/counts`` (search.js), or
    inline with ``facets=1`` (the link a browser without scripts follows)."""
    agent = auth.current_agent()
    if agent is None:
        return redirect(url_for("agent.login_form", next=request.full_path))
    args = request.args
    text = args.get("q", "").strip()
    selected = {"queue": args.get("queue", ""), "state": args.get("state", "")}
    sort = args.get("sort", "relevance")
    cursor = args.get("cursor") or None
    inline_facets = args.get("facets") == "1"
    results, errors, status = None, [], 200
    if text:
        try:
            found = service().search(text, _filter(selected), user_id=agent.user_id, sort=sort, limit=PAGE_SIZE,
                                     cursor=cursor, facets=inline_facets)
            results = page(found, selected, lambda filters: _search_url(text, sort, filters))
        except ValidationError as error:
            errors, status = [message for _, message in error.problems], 422
        except SearchUnavailable as error:
            log.error("agent search failed: %s", error.message, extra={"event": "screens_search_down"})
            errors, status = ["Search is unavailable right now; please try again later."], 503
    next_url = _search_url(text, sort, selected, results.next_cursor) if results and results.next_cursor else None
    html = render_template(
        "screens/search.html", agent=agent, q=text, selected=selected, sort=sort, sorts=SORTS, cursor=cursor,
        results=results, errors=errors, choices=filter_choices(agent.user_id), inline_facets=inline_facets,
        first_url=_search_url(text, sort, selected), next_url=next_url,
        counts_url=url_for("agent.search_counts", **_params(text, sort, selected)),
        facets_url=url_for("agent.search", **_params(text, sort, selected), facets="1"),
        logout_token=auth.csrf_token(request.cookies[auth.SESSION_COOKIE], LOGOUT_PURPOSE))
    return make_response(html, status)


@bp.get("/search/counts")
def search_counts() -> Response:
    """The facet sections of a search, as an HTML fragment for search.js to put in place."""
    agent = auth.current_agent()
    if agent is None:
        return make_response("", 401)
    args = request.args
    text = args.get("q", "").strip()
    selected = {"queue": args.get("queue", ""), "state": args.get("state", "")}
    sort = args.get("sort", "relevance")
    try:
        counts = service().counts(text, _filter(selected), user_id=agent.user_id)
    except ValidationError:
        return make_response("", 422)
    except SearchUnavailable as error:
        log.error("agent search counts failed: %s", error.message, extra={"event": "screens_search_down"})
        return make_response("", 503)
    views = facet_views(counts.facets, selected, lambda filters: _search_url(text, sort, filters))
    return make_response(render_template("screens/counts.html", facets=views))


def _filter(selected: dict[str, str]) -> SearchFilter:
    return SearchFilter(queues=(selected["queue"],) if selected["queue"] else (),
                        states=(selected["state"],) if selected["state"] else ())


def _params(text: str, sort: str, filters: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in {"q": text, "sort": sort, **filters}.items() if v}


def _search_url(text: str, sort: str, filters: dict[str, str], cursor: str | None = None) -> str:
    """A search URL without empty parameters, so links stay short and readable."""
    params = {"q": text, "sort": sort, **filters, "cursor": cursor}
    return url_for("agent.search", **{k: v for k, v in params.items() if v})

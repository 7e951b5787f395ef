"""Routes of the search section: ``/agent/search`` (the page of hits) and ``/agent/search/counts``.

Filters: ``queue``, ``state``, ``tag`` (repeated: tag refs that must all be on the ticket, as the form's
multi-select submits them) and ``tag_kind`` (any tag of that kind)."""

from __future__ import annotations

import logging

from flask import Response, make_response, redirect, render_template, request, url_for

from ...errors import ValidationError
from ...search.service import SORTS, SearchFilter, SearchUnavailable
from ..context import screens_context
from ..security import SESSION_COOKIE, csrf_token, current_agent, section
from ..session import LOGOUT_PURPOSE
from .options import filter_choices
from .results import Filters, facet_views, page

log = logging.getLogger("otrs_ext.screens")
bp = section("agent_search", __name__, template_folder="templates")
PAGE_SIZE = 20


@bp.get("/search")
def search() -> Response:
    """The page of hits at once; the counts by queue, state and tag follow from ``/search/counts`` (search.js), or
    inline with ``facets=1`` (the link a browser without scripts follows)."""
    agent = current_agent()
    if agent is None:
        return redirect(url_for("agent.login_form", next=request.full_path))
    args = request.args
    text = args.get("q", "").strip()
    selected = _selected()
    sort = args.get("sort", "relevance")
    cursor = args.get("cursor") or None
    inline_facets = args.get("facets") == "1"
    results, errors, status = None, [], 200
    if text:
        try:
            found = screens_context().search().search(
                text, _filter(selected), user_id=agent.user_id, sort=sort, limit=PAGE_SIZE, cursor=cursor,
                facets=inline_facets)
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
        counts_url=url_for("agent_search.search_counts", **_params(text, sort, selected)),
        facets_url=url_for("agent_search.search", **_params(text, sort, selected), facets="1"),
        logout_token=csrf_token(request.cookies[SESSION_COOKIE], LOGOUT_PURPOSE))
    return make_response(html, status)


@bp.get("/search/counts")
def search_counts() -> Response:
    """The facet sections of a search, as an HTML fragment for search.js to put in place."""
    agent = current_agent()
    if agent is None:
        return make_response("", 401)
    args = request.args
    text = args.get("q", "").strip()
    selected = _selected()
    sort = args.get("sort", "relevance")
    try:
        counts = screens_context().search().counts(text, _filter(selected), user_id=agent.user_id)
    except ValidationError:
        return make_response("", 422)
    except SearchUnavailable as error:
        log.error("agent search counts failed: %s", error.message, extra={"event": "screens_search_down"})
        return make_response("", 503)
    views = facet_views(counts.facets, selected, lambda filters: _search_url(text, sort, filters))
    return make_response(render_template("screens/counts.html", facets=views))


def _selected() -> Filters:
    args = request.args
    return {"queue": args.get("queue", ""), "state": args.get("state", ""),
            "tag": [ref for ref in dict.fromkeys(args.getlist("tag")) if ref], "tag_kind": args.get("tag_kind", "")}


def _filter(selected: Filters) -> SearchFilter:
    """The search's filter; unknown tags or kinds are a ValidationError naming them (shown on the page)."""
    tags = screens_context().tags().filter(selected["tag"], [selected["tag_kind"]] if selected["tag_kind"] else [])
    return SearchFilter(queues=(selected["queue"],) if selected["queue"] else (),
                        states=(selected["state"],) if selected["state"] else (),
                        tag_ids=tags.all_of, tag_any=tags.any_of)


def _params(text: str, sort: str, filters: Filters) -> dict[str, str | list[str]]:
    return {k: v for k, v in {"q": text, "sort": sort, **filters}.items() if v}


def _search_url(text: str, sort: str, filters: Filters, cursor: str | None = None) -> str:
    """A search URL without empty parameters, so links stay short and readable."""
    params = {"q": text, "sort": sort, **filters, "cursor": cursor}
    return url_for("agent_search.search", **{k: v for k, v in params.items() if v})

"""``GET /api/v1/search``: full-text search for agent keys and customer tokens. The rules live in
``otrs_ext.search``; this module only reads the query string and writes JSON."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..errors import ValidationError
from ..jsonable import jsonable
from ..search.compose import build_search_service
from ..search.service import SearchFilter, SearchResult, SearchService
from ..tickets import names
from .context import context, customer_login
from .tickets import _agent, _int, _time

bp = Blueprint("search", __name__)


def service() -> SearchService:
    """One service per app, built on first use from the app's runtime and permission rules."""
    found = current_app.extensions.get("otrs_ext_search")
    if found is None:
        ctx = context()
        found = current_app.extensions["otrs_ext_search"] = build_search_service(ctx.runtime, ctx.core.permissions)
    return found


@bp.get("/search")
def search() -> Response:
    """One page of hits; ``facets`` (default on) adds counts that cost a pass over every match."""
    text, viewer, flt = _request()
    result = service().search(text, flt, **viewer, group=request.args.get("group", "ticket"),
                              sort=request.args.get("sort", "relevance"), limit=_int("limit", 20),
                              cursor=request.args.get("cursor"),
                              facets=request.args.get("facets", "1").lower() not in ("0", "false", "no"))
    return Response(json.dumps(answer(result), ensure_ascii=False), mimetype="application/json")


@bp.get("/search/counts")
def search_counts() -> Response:
    """The exact total and the facets of a search, without its page: for a client that showed the page first
    (``/search?facets=false``) and fills in the counts when they arrive."""
    text, viewer, flt = _request()
    counts = service().counts(text, flt, **viewer, group=request.args.get("group", "ticket"))
    body = {"total": counts.total, "facets": jsonable(counts.facets),
            "indexed_as_of": jsonable(counts.indexed_as_of), "took_ms": counts.took_ms}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _request() -> tuple[str, dict[str, Any], SearchFilter]:
    """What both routes read from the query string: the words, the viewer and the filters."""
    args = request.args
    text = args.get("q", "")
    if not text.strip():
        raise ValidationError([("q", "is required: the words to search for")])
    login = customer_login()
    viewer: dict[str, Any] = {"customer_login": login} if login is not None else {"user_id": _agent()}
    # refs (source:email; a bare name is a manual tag) to ids, unknown ones named as tag[i] / tag_kind[i]
    tags = context().tags.filter(args.getlist("tag"), args.getlist("tag_kind"), customer=login is not None)
    owner = args.get("owner")
    rt = context().runtime
    flt = SearchFilter(
        queues=tuple(args.getlist("queue")), states=tuple(args.getlist("state")),
        state_types=tuple(args.getlist("state_type")),
        owner_id=names.agent_id(rt.engine, rt.schema, owner) if owner else None,
        customer_id=args.get("customer_id"), customer_user=args.get("customer_user"),
        created_from=_time("created_from"), created_to=_time("created_to"), tag_ids=tags.all_of,
        tag_any=tags.any_of,
    )
    return text, viewer, flt


def answer(result: SearchResult) -> dict[str, Any]:
    """The response body (also what ``otrs-ext search query`` prints)."""
    return {"total": result.total, "hits": jsonable(result.hits), "facets": jsonable(result.facets),
            "next_cursor": result.next_cursor,
            "indexed_as_of": jsonable(result.indexed_as_of), "took_ms": result.took_ms}

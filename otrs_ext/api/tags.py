"""``/api/v1/tags`` and ``/api/v1/tickets/{id}/tags``: the tag catalogue, a ticket's tags, manual tags added and
removed. The rules (who may, which tags) live in ``otrs_ext.tags``; this module only translates.

Adding answers 201 when the tag was put on the ticket and 200 when it was already there; removing answers 200
either way (removing a tag the ticket does not carry changes nothing). Both answer the ticket's tags after the
change, as ``GET`` does.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..errors import ValidationError
from ..jsonable import jsonable
from ..tags.store import check_kind
from ..tags.views import tag_view, ticket_tag_views
from .context import context
from .schemas import TagAdd
from .tickets import _agent, _flag, _json, _reader_args, _visible

bp = Blueprint("tags", __name__)


@bp.get("/tags")
def catalogue() -> Response:
    """The tags to choose from: valid ones (``all=1``: those taken out of use too), of one ``kind`` if given."""
    _agent()
    kind = request.args.get("kind")
    if kind is not None:
        check_kind(kind, "kind")
    tags = context().tags.catalogue(kind=kind, valid_only=not _flag("all", False))
    return _json({"items": jsonable([tag_view(tag) for tag in tags])})


@bp.get("/tickets/<int:ticket_id>/tags")
def ticket_tags(ticket_id: int) -> Response:
    """The ticket's tags, with who set each and when (agents; a customer of the ticket gets an empty list)."""
    viewer = _reader_args()
    links = context().tags.ticket_tags(ticket_id, **viewer)
    return _answer(links, who="user_id" in viewer)


@bp.post("/tickets/<int:ticket_id>/tags")
def add_tag(ticket_id: int) -> Response:
    user_id = _agent()
    _visible(ticket_id, user_id)
    data = TagAdd.model_validate(request.get_json(silent=True) or {})
    change = context().tags.add(ticket_id, data.tag, agent_id=user_id)
    return _answer(change.links, who=True, status=201 if change.changed else 200)


@bp.delete("/tickets/<int:ticket_id>/tags")
def remove_tag(ticket_id: int) -> Response:
    """``?tag=manual:vip`` (or ``vip``); the audit keeps who removed it."""
    user_id = _agent()
    _visible(ticket_id, user_id)
    ref = request.args.get("tag")
    if not ref:
        raise ValidationError([("tag", "is required: the tag to remove, e.g. ?tag=manual:vip")])
    return _remove(ticket_id, ref, user_id)


@bp.delete("/tickets/<int:ticket_id>/tags/<path:ref>")
def remove_tag_by_path(ticket_id: int, ref: str) -> Response:
    user_id = _agent()
    _visible(ticket_id, user_id)
    return _remove(ticket_id, ref, user_id)


def _remove(ticket_id: int, ref: str, user_id: int) -> Response:
    change = context().tags.remove(ticket_id, ref, agent_id=user_id)
    return _answer(change.links, who=True)


def _answer(links: list, *, who: bool, status: int = 200) -> Response:
    rt = context().runtime
    with rt.engine.connect() as conn:
        items = ticket_tag_views(conn, rt.schema, links, who=who)
    return _json({"items": jsonable(items)}, status)

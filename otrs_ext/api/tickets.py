"""``/api/v1/tickets``: HTTP in, ticket services called, JSON out. No SQL and no rules of its own here."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pydantic
from flask import Blueprint, Response, g, request, url_for

from ..errors import NotFound, PermissionDenied, ValidationError
from ..jsonable import jsonable
from ..tickets import names
from ..tickets.inputs import Attachment, NewArticle, NewTicket
from ..tickets.intake import SYSTEM_USER_ID, article_kind
from ..tickets.listing import TicketFilter
from .attachments import from_json, from_multipart
from .context import caller, context, customer_login
from .idempotency import Stored, request_hash
from .schemas import (
    ArticleCreate,
    CustomerSet,
    DynamicFieldSet,
    MergeInto,
    OwnerSet,
    PendingTimeSet,
    PrioritySet,
    QueueSet,
    ResponsibleSet,
    StateSet,
    TicketCreate,
    TitleSet,
    TypeSet,
)

bp = Blueprint("tickets", __name__)


# --- who may do what --------------------------------------------------------------------------------------
def _agent() -> int:
    key = caller()
    if key is None:
        raise PermissionDenied("customers may not do this; it needs an agent key")
    if key.scope != "agent" or key.agent_id is None:
        raise PermissionDenied("this API key may only create tickets (scope intake); use an agent key")
    return key.agent_id


def _reader_args() -> dict[str, Any]:
    """Who reads: the customer of a customer token, else the agent of an agent key."""
    login = customer_login()
    return {"customer_login": login} if login is not None else {"user_id": _agent()}


def _customer_sees(ticket_id: int, login: str) -> None:
    ctx = context()
    with ctx.runtime.engine.connect() as conn:
        try:
            allowed = ctx.core.permissions.can_customer(conn, login, ticket_id)
        except NotFound:
            allowed = False
    if not allowed:
        raise NotFound(f"ticket {ticket_id} not found")


def _visible(ticket_id: int, user_id: int) -> None:
    """A ticket the agent may not read does not exist for him (404, not 403: no existence leak)."""
    ctx = context()
    with ctx.runtime.engine.connect() as conn:
        try:
            allowed = ctx.core.permissions.can_agent(conn, user_id, ticket_id, "ro")
        except NotFound:
            allowed = False
    if not allowed:
        raise NotFound(f"ticket {ticket_id} not found")


# --- bodies -------------------------------------------------------------------------------------------------
def _body(model: type[pydantic.BaseModel]) -> tuple[pydantic.BaseModel, list[Attachment]]:
    """The request as ``model`` plus its attachments: JSON with base64 files, or multipart/form-data."""
    limit = context().runtime.settings.attachment_max_bytes
    if request.mimetype == "multipart/form-data":
        fields, files = from_multipart(request, limit)
        return model.model_validate(fields), files
    if not request.is_json:
        raise ValidationError([("body", "send application/json or multipart/form-data")])
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError([("body", "is not a JSON object")])
    parsed = model.model_validate(data)
    return parsed, from_json(getattr(parsed, "attachments", []), limit)


def _article(data: Any, files: list[Attachment], *, intake: bool, first: bool) -> NewArticle:
    kind = article_kind(channel=data.channel, sender_type=data.sender_type,
                        visible_for_customer=data.visible_for_customer, intake=intake, first=first)
    return NewArticle(body=data.body, subject=data.subject, channel=kind.channel, sender_type=kind.sender_type,
                      visible_for_customer=kind.visible_for_customer, mime_type=data.content_type, from_=data.from_,
                      to=data.to, cc=data.cc, history_type=kind.history_type, history_comment=kind.history_comment,
                      attachments=files, time_units=data.time_units)


def _idempotent(run: Callable[[], tuple[int, dict[str, Any], str | None]], *, atomic: bool = False) -> Response:
    """Run a create at most once per ``Idempotency-Key`` (per API key); replay the stored answer.

    ``atomic``: ``run`` stores its answer with ``complete_within`` in its own transaction, which lets a retry
    take over a claim its crashed first attempt left behind (see idempotency.py)."""
    key = request.headers.get("Idempotency-Key")
    store = context().idempotency
    if key is None:
        status, body, location = run()
        return _created(status, json.dumps(body, ensure_ascii=False), location)
    digest = request_hash(request.method, request.path, request.get_data(cache=True))
    key_id, key = _idempotency_scope(key)
    claimed = store.claim(key_id, key, digest, atomic=atomic)
    if isinstance(claimed, Stored):
        response = _created(claimed.status_code, claimed.body, claimed.location)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    g.idempotency_claim = claimed
    try:
        status, body, location = run()
    except (ValidationError, PermissionDenied, NotFound) as error:
        store.release(claimed)  # refused input wrote nothing: the client may fix it and retry
        raise error
    except BaseException:
        store.release(claimed)
        raise
    text = json.dumps(body, ensure_ascii=False)
    store.complete(claimed, status, text, location)  # a no-op when run() completed it in its transaction
    return _created(status, text, location)


def complete_within(conn: Any, status: int, body: dict[str, Any], location: str | None) -> None:
    """Store this request's Idempotency-Key answer in ``conn``'s transaction (the one writing the ticket)."""
    claim = g.get("idempotency_claim")
    if claim is not None:
        context().idempotency.complete_in(conn, claim, status, json.dumps(body, ensure_ascii=False), location)


def _idempotency_scope(idem_key: str) -> tuple[int, str]:
    """Keys are per API key; customers (no API key) get their own namespace under key id 0."""
    key = caller()
    if key is not None:
        return key.key_id, idem_key
    return 0, f"c:{customer_login()}:{idem_key}"[:191]


def _created(status: int, body: str, location: str | None) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    if location:
        response.headers["Location"] = location
    return response


# --- resources ----------------------------------------------------------------------------------------------
@bp.post("/tickets")
def create_ticket() -> Response:
    ctx = context()
    key = caller()
    data, files = _body(TicketCreate)
    login = customer_login()
    if login is not None:  # the portal: the ticket is the token's customer's, whatever the body says
        customer = ctx.core.directory.customer(login)
        data = data.model_copy(update={"customer_user": customer.login, "customer_id": customer.customer_id,
                                       "source": "site-authorized"})
    intake = key is None or key.scope == "intake"
    creator = ctx.core.intake.creator(agent_id=None if intake else _agent(), queue=data.queue, owner=data.owner)

    def run() -> tuple[int, dict[str, Any], str | None]:
        article = _article(data.article, files, intake=intake, first=True) if data.article else None
        if article is None and files:
            raise ValidationError([("attachments", "attachments need an article to belong to")])
        created = ctx.core.service.create_ticket(
            creator.user_id,
            NewTicket(title=data.title, queue=data.queue, state=data.state, priority=data.priority, type=data.type,
                      customer_id=data.customer_id, customer_user=data.customer_user,
                      owner_id=creator.owner_id, responsible_id=creator.owner_id, dynamic_fields=data.dynamic_fields),
            article, as_system=creator.as_system, also=also,
        )
        return 201, answer(created), location(created.ticket_id)

    def answer(created: Any) -> dict[str, Any]:
        return {"id": created.ticket_id, "number": created.tn, "article_id": created.article_id}

    locations: dict[int, str] = {}

    def location(ticket_id: int) -> str:
        if ticket_id not in locations:  # asked twice per create (the stored answer, the response)
            locations[ticket_id] = url_for("tickets.get_ticket", ticket_id=ticket_id)
        return locations[ticket_id]

    def also(conn: Any, created: Any) -> None:
        ctx.core.intake.record_source(conn, created.ticket_id, data.source, key.key_id if key else None)
        complete_within(conn, 201, answer(created), location(created.ticket_id))

    return _idempotent(run, atomic=True)


@bp.get("/tickets/<int:ticket_id>")
def get_ticket(ticket_id: int) -> Response:
    view = context().core.reader.get(ticket_id=ticket_id, **_reader_args(), articles=_flag("articles", True),
                                     history=_flag("history", False))
    return _json(jsonable(view))


@bp.get("/tickets/by-number/<tn>")
def get_ticket_by_number(tn: str) -> Response:
    view = context().core.reader.get(tn=tn, **_reader_args(), articles=_flag("articles", True),
                                     history=_flag("history", False))
    return _json(jsonable(view))


@bp.get("/tickets")
def list_tickets() -> Response:
    viewer = _reader_args()
    args = request.args
    tags = context().tags.filter(args.getlist("tag"), args.getlist("tag_kind"), customer="customer_login" in viewer)
    flt = TicketFilter(
        queues=tuple(args.getlist("queue")), states=tuple(args.getlist("state")),
        state_types=tuple(args.getlist("state_type")), customer_id=args.get("customer_id"),
        customer_user=args.get("customer_user"),
        owner_id=names.agent_id(context().runtime.engine, context().runtime.schema, args["owner"])
        if "owner" in args else None,
        created_from=_time("created_from"), created_to=_time("created_to"),
        changed_from=_time("changed_from"), changed_to=_time("changed_to"),
        tag_ids=tags.all_of, tag_any=tags.any_of,
    )
    page = context().lister.list(flt, **viewer, limit=_int("limit", 50), cursor=args.get("cursor"))
    return _json({"items": jsonable(page.items), "total": page.total, "next_cursor": page.next_cursor})


@bp.get("/tickets/<int:ticket_id>/history")
def ticket_history(ticket_id: int) -> Response:
    view = context().core.reader.get(ticket_id=ticket_id, user_id=_agent(), articles=False, history=True)
    return _json({"items": jsonable(view.history)})


@bp.post("/tickets/<int:ticket_id>/articles")
def add_article(ticket_id: int) -> Response:
    login = customer_login()
    if login is not None:
        _customer_sees(ticket_id, login)
        user_id = SYSTEM_USER_ID  # OTRS writes customer follow-ups as CustomerPanelUserID (1)
    else:
        user_id = _agent()
        _visible(ticket_id, user_id)
    data, files = _body(ArticleCreate)
    if login is not None:
        if data.move_to is not None or data.sender_type not in (None, "customer"):
            raise PermissionDenied("customers may only add their own replies")
        data = data.model_copy(update={"sender_type": "customer", "visible_for_customer": True})

    def run() -> tuple[int, dict[str, Any], str | None]:
        article_id = context().core.service.add_article(
            user_id, ticket_id, _article(data, files, intake=login is not None, first=False), move_to=data.move_to,
            as_system=login is not None)
        return 201, {"id": article_id, "ticket_id": ticket_id}, url_for("tickets.get_ticket", ticket_id=ticket_id)

    return _idempotent(run)


@bp.get("/tickets/<int:ticket_id>/articles/<int:article_id>/attachments/<int:file_id>")
def download(ticket_id: int, article_id: int, file_id: int) -> Response:
    viewer = _reader_args()
    if "user_id" in viewer:
        _visible(ticket_id, viewer["user_id"])
    else:
        _customer_sees(ticket_id, viewer["customer_login"])
    meta, content = context().core.reader.attachment(article_id, file_id, **viewer, ticket_id=ticket_id)
    response = Response(content, mimetype=meta.content_type.split(";")[0] or "application/octet-stream")
    # Served as a download, never rendered: an HTML or SVG attachment must not run in the API's origin.
    response.headers["Content-Disposition"] = _disposition(meta.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def _change(ticket_id: int, model: type[pydantic.BaseModel] | None,
            apply: Callable[[int, Any], None]) -> Response:
    user_id = _agent()
    _visible(ticket_id, user_id)
    data = model.model_validate(request.get_json(silent=True) or {}) if model is not None else None
    apply(user_id, data)
    view = context().core.reader.get(ticket_id=ticket_id, user_id=user_id, articles=False)
    return _json(jsonable(view))


@bp.post("/tickets/<int:ticket_id>/lock")
def lock(ticket_id: int) -> Response:
    return _change(ticket_id, None, lambda u, _: context().core.service.lock(u, ticket_id))


@bp.post("/tickets/<int:ticket_id>/unlock")
def unlock(ticket_id: int) -> Response:
    return _change(ticket_id, None, lambda u, _: context().core.service.unlock(u, ticket_id))


@bp.put("/tickets/<int:ticket_id>/owner")
def set_owner(ticket_id: int) -> Response:
    ctx = context()
    return _change(ticket_id, OwnerSet, lambda u, d: ctx.core.service.set_owner(
        u, ticket_id, names.agent_id(ctx.runtime.engine, ctx.runtime.schema, d.owner)))


@bp.put("/tickets/<int:ticket_id>/queue")
def move(ticket_id: int) -> Response:
    return _change(ticket_id, QueueSet, lambda u, d: context().core.service.move(u, ticket_id, d.queue))


@bp.put("/tickets/<int:ticket_id>/state")
def set_state(ticket_id: int) -> Response:
    return _change(ticket_id, StateSet, lambda u, d: context().core.service.set_state(
        u, ticket_id, d.state, pending_until=_otrs_time(d.pending_until)))


@bp.put("/tickets/<int:ticket_id>/priority")
def set_priority(ticket_id: int) -> Response:
    return _change(ticket_id, PrioritySet, lambda u, d: context().core.service.set_priority(u, ticket_id, d.priority))


@bp.put("/tickets/<int:ticket_id>/title")
def set_title(ticket_id: int) -> Response:
    return _change(ticket_id, TitleSet, lambda u, d: context().core.service.set_title(u, ticket_id, d.title))


@bp.put("/tickets/<int:ticket_id>/type")
def set_type(ticket_id: int) -> Response:
    return _change(ticket_id, TypeSet, lambda u, d: context().core.service.set_type(u, ticket_id, d.type))


@bp.put("/tickets/<int:ticket_id>/responsible")
def set_responsible(ticket_id: int) -> Response:
    ctx = context()

    def apply(user_id: int, data: ResponsibleSet) -> None:
        ctx.core.permissions.require_responsible_feature()
        responsible_id = names.agent_id(ctx.runtime.engine, ctx.runtime.schema, data.responsible)
        ctx.core.service.set_responsible(user_id, ticket_id, responsible_id)

    return _change(ticket_id, ResponsibleSet, apply)


@bp.put("/tickets/<int:ticket_id>/customer")
def set_customer(ticket_id: int) -> Response:
    ctx = context()

    def apply(user_id: int, data: CustomerSet) -> None:
        company = data.customer_id
        if company is None and data.customer_user is not None:
            company = ctx.core.directory.company_of(data.customer_user)  # as OTRS's customer screen fills it in
        ctx.core.service.set_customer(user_id, ticket_id, company, data.customer_user)

    return _change(ticket_id, CustomerSet, apply)


@bp.put("/tickets/<int:ticket_id>/pending-until")
def set_pending_until(ticket_id: int) -> Response:
    return _change(ticket_id, PendingTimeSet, lambda u, d: context().core.service.set_pending_time(
        u, ticket_id, _otrs_time(d.pending_until), pending_state_only=True))


@bp.put("/tickets/<int:ticket_id>/dynamic-fields/<name>")
def set_dynamic_field(ticket_id: int, name: str) -> Response:
    return _change(ticket_id, DynamicFieldSet, lambda u, d: context().core.service.set_dynamic_field(
        u, ticket_id, name, d.value, path="value", name_path="name"))


@bp.delete("/tickets/<int:ticket_id>/dynamic-fields/<name>")
def clear_dynamic_field(ticket_id: int, name: str) -> Response:
    return _change(ticket_id, None, lambda u, _: context().core.service.set_dynamic_field(
        u, ticket_id, name, None, path="value", name_path="name"))


@bp.post("/tickets/<int:ticket_id>/merge")
def merge(ticket_id: int) -> Response:
    """Merge (OTRS's AgentTicketMerge): rw on both tickets. It writes an article, history and a link, so an
    Idempotency-Key makes a retried merge answer as the first did instead of merging again."""
    ctx = context()
    user_id = _agent()
    _visible(ticket_id, user_id)
    data = MergeInto.model_validate(request.get_json(silent=True) or {})
    main_id = data.main_ticket_id

    def run() -> tuple[int, dict[str, Any], str | None]:
        if main_id != ticket_id:  # into itself: the service's refusal, with its reason
            try:
                _visible(main_id, user_id)
            except NotFound:
                raise ValidationError([("main_ticket_id", f"no ticket with id {main_id} that this agent may "
                                                          "see")]) from None
        ctx.core.service.merge(user_id, ticket_id, main_id)
        view = ctx.core.reader.get(ticket_id=ticket_id, user_id=user_id, articles=False)
        return 200, jsonable(view), url_for("tickets.get_ticket", ticket_id=main_id)

    return _idempotent(run)


# --- small translations -----------------------------------------------------------------------------------
def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), status=status, mimetype="application/json")


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes")


def _int(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise ValidationError([(name, "must be a whole number")])
    return int(value)


def _otrs_time(moment: datetime | None) -> datetime | None:
    """A request's time as OTRS stores it: naive, in OTRS's time zone (a given offset converted to it)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(context().runtime.settings.otrs_timezone)).replace(tzinfo=None)


def _time(name: str) -> datetime | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise ValidationError([(name, "must be an ISO 8601 time such as 2026-11-26T10:00:00")]) from None


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"



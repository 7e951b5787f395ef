"""GenericInterface ticket operations (TicketCreate, TicketGet, TicketSearch, TicketUpdate) on the ticket core.

Permissions are the core's (OTRS's model): ``create`` on the queue to create, ``ro`` to read and search, the
setter's own key for each change. TicketUpdate writes its parts in Znuny's order (``tickets/gi_update``), in one
transaction whose permissions are all checked before the first change, so bad input or a refused part
changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...auth.service import Agent
from ...db.lookups import Lookups
from ...errors import NotFound
from ...tickets import names
from ...tickets.gi_create import GiTicketCreate
from ...tickets.gi_update import GiTicketUpdate
from ...tickets.inputs import NewTicket
from ...tickets.listing import TicketFilter
from ..context import ApiContext
from . import views as gi_views
from .input import (
    GiError,
    article,
    attachments,
    dynamic_fields,
    flag,
    ids,
    invalid,
    items,
    missing,
    name_or_id,
    pending_time,
    strings,
    text,
    trimmed,
)

SEARCH_DEFAULT_LIMIT = 500
SEARCH_MAX_LIMIT = 10_000
PAGE = 200
# TicketSearch parameters that are not filters; every other unknown key is refused rather than ignored, because
# a script that closes "the tickets found" must not get every ticket when a filter it relies on is unsupported.
NOT_FILTERS = {"UserLogin", "Password", "SessionID", "CustomerUserLogin", "Limit", "SortBy", "OrderBy",
               "Result", "TwoFactorToken"}


def _lookups(ctx: ApiContext, *names_needed: tuple[str, str]) -> Lookups:
    """The service's cached lookups, re-read once when a name is unknown (an admin may just have added it)."""
    lookups = ctx.core.service.lookups()
    if any(name not in lookups.names(table) for table, name in names_needed):
        lookups = ctx.core.service.lookups(refresh=True)
    return lookups


def _now(ctx: ApiContext) -> datetime:
    return datetime.now(ZoneInfo(ctx.runtime.settings.otrs_timezone)).replace(tzinfo=None)


def _user(op: str, data: Mapping[str, Any], lookups: Lookups, login_key: str, id_key: str) -> int | None:
    users = lookups.names("users")
    if data.get(login_key) not in (None, ""):
        login = text(op, data[login_key], f"Ticket->{login_key}")
        if login not in users:
            raise invalid(op, f"Ticket->{login_key}", f"no agent {login!r}")
        return users[login]
    if data.get(id_key) not in (None, ""):
        [user_id] = ids(op, data[id_key], f"Ticket->{id_key}")[:1]
        if user_id not in users.values():
            raise invalid(op, f"Ticket->{id_key}")
        return user_id
    return None


def _customer_id(ctx: ApiContext, customer_user: str) -> str:
    """The company of a known customer user; '' for an unknown one, as Znuny writes it."""
    try:
        return ctx.core.directory.customer(customer_user).customer_id or ""
    except NotFound:
        return ""


# --- TicketCreate -------------------------------------------------------------------------------------------
def ticket_create(ctx: ApiContext, agent: Agent, data: Mapping[str, Any]) -> dict[str, Any]:
    """Znuny's GenericTicketConnector TicketCreate: its defaults, and its rows through ``gi_create``."""
    op = "TicketCreate"
    raw = data.get("Ticket")
    if not isinstance(raw, dict):
        raise missing(op, "Ticket")
    raw = trimmed(raw)
    raw_articles = [trimmed(a) for a in items(op, data.get("Article"), "Article")]
    if not raw_articles:
        raise GiError("MissingParameter", f"{op}: Article parameter is missing or not valid!")
    for key in ("Title", "CustomerUser"):
        if raw.get(key) in (None, ""):
            raise missing(op, f"Ticket->{key}")
    lookups = _lookups(ctx)
    resolved = {}
    for table, key in (("queue", "Queue"), ("ticket_state", "State"), ("ticket_priority", "Priority")):
        resolved[key] = name_or_id(op, raw, lookups, table, key, f"{key}ID", "Ticket")
        if resolved[key] is None:
            raise missing(op, f"Ticket->{key}ID or Ticket->{key}")
    _unsupported(op, raw, ("Service", "ServiceID", "SLA", "SLAID"))
    lock = name_or_id(op, raw, lookups, "ticket_lock_type", "Lock", "LockID", "Ticket")
    type_name = name_or_id(op, raw, lookups, "ticket_type", "Type", "TypeID", "Ticket")
    # OTRS looks the customer user up by login, then by email address; a stranger stays as sent
    given_customer = text(op, raw["CustomerUser"], "Ticket->CustomerUser")
    customer = ctx.core.directory.customer_by_address(given_customer)
    customer_user = customer.login if customer is not None else given_customer
    company = (customer.customer_id or "") if customer is not None else ""
    if raw.get("CustomerID") not in (None, ""):
        company = text(op, raw["CustomerID"], "Ticket->CustomerID")
    # an article's default From: the customer as OTRS writes a known one, else the customer user as given
    from_ = f'"{customer.full_name}" <{customer.email}>' if customer is not None else customer_user
    settings = ctx.runtime.settings
    files = attachments(op, [trimmed(a) for a in items(op, data.get("Attachment"), "Attachment")],
                        settings.attachment_max_bytes)
    articles = [article(op, a, "Article", agent=agent, customer_user=customer_user, first=True, files=files,
                        from_=from_, to=resolved["Queue"], history=("NewTicket", "%%GenericInterface Create"))
                for a in raw_articles]
    pending = pending_time(op, raw.get("PendingTime"), settings.otrs_timezone, diff_from_now=False)
    fields = dynamic_fields(op, [trimmed(f) if isinstance(f, dict) else f
                                 for f in items(op, data.get("DynamicField"), "DynamicField")])
    new = NewTicket(title=text(op, raw["Title"], "Ticket->Title"), queue=resolved["Queue"], state=resolved["State"],
                    priority=resolved["Priority"], type=type_name, customer_id=company, customer_user=customer_user,
                    dynamic_fields=fields)
    created = ctx.core.service.create_ticket_gi(agent.user_id, GiTicketCreate(
        ticket=new, articles=articles, lock=lock, pending=pending,
        owner_id=_user(op, raw, lookups, "Owner", "OwnerID"),
        responsible_id=_user(op, raw, lookups, "Responsible", "ResponsibleID")))
    ids = [str(i) for i in created.article_ids]
    # one article: its id; several: the list of them, as Znuny answers
    return {"TicketID": str(created.ticket_id), "TicketNumber": created.tn,
            "ArticleID": ids[0] if len(ids) == 1 else ids}


# --- TicketGet ----------------------------------------------------------------------------------------------
def ticket_get(ctx: ApiContext, agent: Agent, data: Mapping[str, Any]) -> dict[str, Any]:
    op = "TicketGet"
    if data.get("TicketID") in (None, ""):
        raise missing(op, "TicketID")
    limit = data.get("ArticleLimit")
    options = gi_views.GetOptions(
        dynamic_fields=flag(data.get("DynamicFields")), all_articles=flag(data.get("AllArticles")),
        sender_types=strings(op, data.get("ArticleSenderType"), "ArticleSenderType"),
        order_desc=str(data.get("ArticleOrder") or "ASC").upper() == "DESC",
        limit=ids(op, limit, "ArticleLimit")[0] if limit not in (None, "", 0, "0") else None,
        attachments=flag(data.get("Attachments")), contents=flag(data.get("GetAttachmentContents"), default=True),
        html_as_attachment=flag(data.get("HTMLBodyAsAttachment")),
    )
    reader = ctx.core.reader
    lookups = _lookups(ctx)
    tickets = []
    for ticket_id in ids(op, data["TicketID"], "TicketID"):
        try:
            view = reader.get(ticket_id=ticket_id, user_id=agent.user_id, articles=options.all_articles)
        except NotFound:
            # Znuny answers a missing ticket like a forbidden one, so neither leaks whether a ticket exists
            raise GiError("AccessDenied", f"{op}: User does not have access to the ticket!") from None
        out = gi_views.ticket(view, lookups, _now(ctx))
        if options.dynamic_fields:
            out["DynamicField"] = gi_views.dynamic_field_list(view.dynamic_fields)
        if options.all_articles:
            out["Article"] = _articles(ctx, agent, view, lookups, options)
        tickets.append(out)
    return {"Ticket": tickets}


def _articles(ctx: ApiContext, agent: Agent, view: Any, lookups: Lookups,
              options: gi_views.GetOptions) -> list[dict[str, Any]]:
    numbered = list(enumerate(view.articles, start=1))
    if options.sender_types:
        numbered = [(n, a) for n, a in numbered if a.sender_type in options.sender_types]
    if options.order_desc:
        numbered.reverse()
    if options.limit:
        numbered = numbered[:options.limit]
    out = []
    for number, a in numbered:
        files = ctx.core.reader.attachments(a.article_id, user_id=agent.user_id) if options.attachments else None
        out.append(gi_views.article(a, number, view.ticket_id, lookups, files, options))
    return out


# --- TicketSearch -------------------------------------------------------------------------------------------
def ticket_search(ctx: ApiContext, agent: Agent, data: Mapping[str, Any]) -> dict[str, Any]:
    op = "TicketSearch"
    lookups = _lookups(ctx)
    known = {"TicketNumber", "Title", "Queues", "QueueIDs", "States", "StateIDs", "StateType", "StateTypeIDs",
             "Priorities", "PriorityIDs", "Locks", "LockIDs", "Types", "TypeIDs", "OwnerIDs", "ResponsibleIDs",
             "CustomerID", "CustomerUserLogin", "TicketCreateTimeNewerDate", "TicketCreateTimeOlderDate",
             "TicketChangeTimeNewerDate", "TicketChangeTimeOlderDate", "TicketCreateTimeNewerMinutes",
             "TicketCreateTimeOlderMinutes", "TicketChangeTimeNewerMinutes", "TicketChangeTimeOlderMinutes"}
    unknown = sorted(k for k in data if k not in known and k not in NOT_FILTERS and data[k] not in (None, "", []))
    if unknown:
        raise invalid(op, ", ".join(unknown), "not supported by otrs-ext; leave it out and filter the result")
    limit = ids(op, data["Limit"], "Limit")[0] if data.get("Limit") not in (None, "") else SEARCH_DEFAULT_LIMIT
    now = _now(ctx)
    created_from, created_to = _range(op, data, "Create", now)
    changed_from, changed_to = _range(op, data, "Change", now)
    flt = TicketFilter(
        queues=_names(op, data, lookups, "queue", "Queues", "QueueIDs"),
        states=_names(op, data, lookups, "ticket_state", "States", "StateIDs"),
        state_types=_state_types(op, data, lookups),
        priorities=_names(op, data, lookups, "ticket_priority", "Priorities", "PriorityIDs"),
        locks=_names(op, data, lookups, "ticket_lock_type", "Locks", "LockIDs"),
        types=_names(op, data, lookups, "ticket_type", "Types", "TypeIDs"),
        owner_ids=tuple(ids(op, data["OwnerIDs"], "OwnerIDs")) if data.get("OwnerIDs") else (),
        responsible_ids=tuple(ids(op, data["ResponsibleIDs"], "ResponsibleIDs")) if data.get("ResponsibleIDs") else (),
        customer_id=_single(op, data, "CustomerID"), customer_user=_single(op, data, "CustomerUserLogin"),
        numbers=strings(op, data.get("TicketNumber"), "TicketNumber"),
        title=text(op, data["Title"], "Title") if data.get("Title") not in (None, "") else None,
        created_from=created_from, created_to=created_to, changed_from=changed_from, changed_to=changed_to,
    )
    found: list[int] = []
    cursor = None
    while len(found) < min(limit, SEARCH_MAX_LIMIT):
        page = ctx.lister.list(flt, user_id=agent.user_id, limit=min(PAGE, limit - len(found)), cursor=cursor)
        found.extend(item.ticket_id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    if str(data.get("OrderBy") or "Down").lower() == "up":
        found.reverse()
    return {"TicketID": [str(i) for i in found]} if found else {}


def _names(op: str, data: Mapping[str, Any], lookups: Lookups, table: str, names_key: str,
           ids_key: str) -> tuple[str, ...]:
    wanted = list(strings(op, data.get(names_key), names_key))
    known = lookups.names(table)
    for name in wanted:
        if name not in known:
            raise invalid(op, names_key, f"unknown {name!r}")
    if data.get(ids_key) not in (None, ""):
        by_id = {ident: name for name, ident in known.items()}
        for ident in ids(op, data[ids_key], ids_key):
            if ident not in by_id:
                raise invalid(op, ids_key, f"unknown ID {ident}")
            wanted.append(by_id[ident])
    return tuple(wanted)


def _state_types(op: str, data: Mapping[str, Any], lookups: Lookups) -> tuple[str, ...]:
    """OTRS's StateType, with its two shorthands: Open (every viewable non-closed type) and Closed."""
    types = set(lookups.state_types.values())
    out: list[str] = []
    for name in strings(op, data.get("StateType"), "StateType"):
        if name == "Open":
            out.extend(t for t in types if t not in ("closed", "merged", "removed"))
        elif name == "Closed":
            out.append("closed")
        elif name in types:
            out.append(name)
        else:
            raise invalid(op, "StateType", f"unknown {name!r}")
    if data.get("StateTypeIDs"):
        raise invalid(op, "StateTypeIDs", "not supported by otrs-ext; use StateType names")
    return tuple(out)


def _single(op: str, data: Mapping[str, Any], key: str) -> str | None:
    values = strings(op, data.get(key), key)
    if len(values) > 1:
        raise invalid(op, key, "otrs-ext takes one value here")
    return values[0] if values else None


def _range(op: str, data: Mapping[str, Any], kind: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(from, to) of TicketCreateTime/TicketChangeTime: Newer = after, Older = before (dates or minutes ago)."""
    bounds: list[datetime | None] = []
    for side in ("Newer", "Older"):
        date_key, minutes_key = f"Ticket{kind}Time{side}Date", f"Ticket{kind}Time{side}Minutes"
        value: datetime | None = None
        if data.get(date_key) not in (None, ""):
            try:
                value = datetime.fromisoformat(text(op, data[date_key], date_key))
            except ValueError:
                raise invalid(op, date_key, "use YYYY-MM-DD HH:MM:SS") from None
        elif data.get(minutes_key) not in (None, ""):
            value = now - timedelta(minutes=ids(op, data[minutes_key], minutes_key)[0])
        bounds.append(value)
    return bounds[0], bounds[1]


# --- TicketUpdate -------------------------------------------------------------------------------------------
def ticket_update(ctx: ApiContext, agent: Agent, data: Mapping[str, Any]) -> dict[str, Any]:
    op = "TicketUpdate"
    engine, schema = ctx.runtime.engine, ctx.runtime.schema
    if data.get("TicketID") not in (None, ""):
        ticket_id = ids(op, data["TicketID"], "TicketID")[0]
    elif data.get("TicketNumber") not in (None, ""):
        try:
            ticket_id = names.ticket_id(engine, schema, text(op, data["TicketNumber"], "TicketNumber"))
        except NotFound:
            raise GiError("AccessDenied", f"{op}: User does not have access to the ticket!") from None
    else:
        raise missing(op, "TicketID or TicketNumber")
    try:
        view = ctx.core.reader.get(ticket_id=ticket_id, user_id=agent.user_id, articles=False)
    except NotFound:
        raise GiError("AccessDenied", f"{op}: User does not have access to the ticket!") from None
    raw = data.get("Ticket") or {}
    if not isinstance(raw, dict):
        raise invalid(op, "Ticket")
    raw = trimmed(raw)  # Znuny trims every value of Ticket, Article, DynamicField and Attachment
    _unsupported(op, raw, ("Service", "ServiceID", "SLA", "SLAID"))
    lookups = _lookups(ctx)
    # every input is resolved before the first change
    queue = name_or_id(op, raw, lookups, "queue", "Queue", "QueueID", "Ticket")
    lock = name_or_id(op, raw, lookups, "ticket_lock_type", "Lock", "LockID", "Ticket")
    type_name = name_or_id(op, raw, lookups, "ticket_type", "Type", "TypeID", "Ticket")
    state = name_or_id(op, raw, lookups, "ticket_state", "State", "StateID", "Ticket")
    priority = name_or_id(op, raw, lookups, "ticket_priority", "Priority", "PriorityID", "Ticket")
    owner_id = _user(op, raw, lookups, "Owner", "OwnerID")
    responsible_id = _user(op, raw, lookups, "Responsible", "ResponsibleID")
    settings = ctx.runtime.settings
    until = pending_time(op, raw.get("PendingTime"), settings.otrs_timezone, diff_from_now=False)
    if state is not None and until is None and \
            lookups.state_types.get(lookups.names("ticket_state")[state], "").startswith("pending"):
        # Znuny's message; it refuses only after the earlier parts are written, otrs-ext before any
        raise GiError("MissingParameter", "Can't set a ticket on a pending state without pendig time!")
    title = text(op, raw["Title"], "Ticket->Title") if raw.get("Title") not in (None, "") else None
    customer_user = text(op, raw["CustomerUser"], "Ticket->CustomerUser") if raw.get("CustomerUser") else None
    customer_id = text(op, raw["CustomerID"], "Ticket->CustomerID") if raw.get("CustomerID") else None
    if customer_user is not None and customer_id is None:
        customer_id = _customer_id(ctx, customer_user)
    fields = dynamic_fields(op, [trimmed(f) if isinstance(f, dict) else f
                                 for f in items(op, data.get("DynamicField"), "DynamicField")])
    raw_articles = [trimmed(a) for a in items(op, data.get("Article"), "Article")]
    files = attachments(op, [trimmed(a) for a in items(op, data.get("Attachment"), "Attachment")],
                        settings.attachment_max_bytes)
    if files and not raw_articles:
        raise missing(op, "Article")
    # From: the agent's full name alone; To: only when sent, or the customer for an Email article
    notes = [article(op, a, "Article", agent=agent, customer_user="", first=False, files=files if i == 0 else [],
                     from_=agent.full_name, to=_email_to(ctx, a, customer_user or view.customer_user or ""))
             for i, a in enumerate(raw_articles)]
    article_ids = ctx.core.service.update_ticket_gi(agent.user_id, ticket_id, GiTicketUpdate(
        title=title, queue=queue, lock=lock, type=type_name, state=state, pending=until, customer_id=customer_id,
        customer_user=customer_user, priority=priority, owner_id=owner_id, responsible_id=responsible_id,
        articles=notes, dynamic_fields=fields))
    out: dict[str, Any] = {"TicketID": str(ticket_id), "TicketNumber": view.tn}
    if article_ids:
        out["ArticleID"] = str(article_ids[0])
    return out


def _email_to(ctx: ApiContext, raw: Mapping[str, Any], customer_user: str) -> str:
    """The To of an Email article sent without one: the customer user as OTRS writes a known one, else as
    given; other channels have none."""
    if (raw.get("CommunicationChannel") or "Internal") != "Email" or not customer_user:
        return ""
    try:
        customer = ctx.core.directory.customer(customer_user)
    except NotFound:
        return customer_user
    return f'"{customer.full_name}" <{customer.email}>'


def _unsupported(op: str, raw: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    given = [k for k in keys if raw.get(k) not in (None, "")]
    if given:
        raise invalid(op, "Ticket->" + given[0], "services and SLAs are not supported by otrs-ext")

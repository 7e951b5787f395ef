"""The ticket setters, each one UPDATE naming only its columns, the history row of OTRS_INTERNALS §4.4 and
OTRS's default automatics (unlock on move, pending reset on a non-pending state, timeout reset on lock).

Every setter is a no-op, writing nothing, when the value does not change, as in OTRS (except the pending
time, which OTRS writes unconditionally). Each returns the ticket as it now is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from ..errors import ValidationError
from . import dynamic_fields, links, otrs_cache
from .clock import epoch
from .history import name
from .write import Row, Write

PENDING_TYPES = ("pending reminder", "pending auto")
TITLE_IN_HISTORY = 50


def set_lock(w: Write, ticket: Row, lock: str, *, user_id: int | None = None) -> Row:
    lock_id = w.lookups.id("ticket_lock_type", lock)
    if lock_id == ticket["ticket_lock_id"]:
        return ticket
    ticket = w.update_ticket(ticket, ticket_lock_id=lock_id, by=user_id)
    history_type = {"lock": "Lock", "unlock": "Unlock"}.get(lock, "Misc")
    w.history(ticket, history_type, name(lock), user_id=user_id)
    if lock == "lock":
        ticket = w.reset_unlock_timeout(ticket)
    return ticket


def set_owner(w: Write, ticket: Row, owner_id: int) -> Row:
    if owner_id == ticket["user_id"]:
        return ticket
    ticket = w.update_ticket(ticket, user_id=owner_id)
    w.history(ticket, "OwnerUpdate", name(w.login_of(owner_id), owner_id))
    return ticket


def set_responsible(w: Write, ticket: Row, responsible_id: int) -> Row:
    if responsible_id == ticket["responsible_user_id"]:
        return ticket
    ticket = w.update_ticket(ticket, responsible_user_id=responsible_id)
    w.history(ticket, "ResponsibleUpdate", name(w.login_of(responsible_id), responsible_id))
    return ticket


def move(w: Write, ticket: Row, queue: str) -> Row:
    """TicketQueueSet, then ForceUnlock, which OTRS runs as the system user 1 (golden row 10)."""
    queue_id = w.lookups.id("queue", queue)
    if queue_id == ticket["queue_id"]:
        return ticket
    old_id = ticket["queue_id"]
    ticket = w.update_ticket(ticket, queue_id=queue_id)
    w.history(ticket, "Move", name(queue, queue_id, w.name_of("queue", old_id), old_id))
    return set_lock(w, ticket, "unlock", user_id=1)


def set_state(w: Write, ticket: Row, state: str, *, pending_until: datetime | None = None) -> Row:
    state_id = w.lookups.id("ticket_state", state)
    if state_id != ticket["ticket_state_id"]:
        old = w.name_of("ticket_state", ticket["ticket_state_id"])
        ticket = w.update_ticket(ticket, ticket_state_id=state_id)
        w.history(ticket, "StateUpdate", name(old, state, ""))
        if w.lookups.state_types[state_id] not in PENDING_TYPES:
            # TicketPendingTimeReset writes its row even when until_time already is 0 (golden row 14).
            ticket = set_pending_time(w, ticket, None)
    if pending_until is not None and w.lookups.state_types[state_id] in PENDING_TYPES:
        ticket = set_pending_time(w, ticket, pending_until)
    return ticket


def set_pending_time(w: Write, ticket: Row, until: datetime | None) -> Row:
    """``until_time`` as epoch, 0 to reset; OTRS writes this one without a no-op check."""
    value = 0 if until is None else _pending_epoch(until, w.timezone)
    ticket = w.update_ticket(ticket, until_time=value)
    w.history(ticket, "SetPendingTime", name("00-00-00 00:00" if until is None else until.strftime("%Y-%m-%d %H:%M")))
    return ticket


# ticket.until_time is a signed 32-bit INTEGER in every OTRS schema, and 0 means "no pending time"
UNTIL_TIME_MAX = 2**31 - 1


def _pending_epoch(until: datetime, timezone: str) -> int:
    try:
        value = epoch(until, timezone)
    except (OverflowError, ValueError):
        value = -1
    if not 0 < value <= UNTIL_TIME_MAX:
        raise ValidationError([("pending_until", f"{until:%Y-%m-%d %H:%M} is outside what OTRS can store as a "
                                                 "pending time (after 1970-01-01, before 2038-01-19 03:14 UTC)")])
    return value


def set_priority(w: Write, ticket: Row, priority: str) -> Row:
    priority_id = w.lookups.id("ticket_priority", priority)
    if priority_id == ticket["ticket_priority_id"]:
        return ticket
    old_id = ticket["ticket_priority_id"]
    ticket = w.update_ticket(ticket, ticket_priority_id=priority_id)
    w.history(ticket, "PriorityUpdate", name(w.name_of("ticket_priority", old_id), old_id, priority, priority_id))
    return ticket


def set_title(w: Write, ticket: Row, title: str) -> Row:
    title = title[: w.schema.tables.ticket.c.title.type.length]
    if title == ticket["title"]:
        return ticket
    old = ticket["title"] or ""
    ticket = w.update_ticket(ticket, title=title)
    # TicketTitleUpdate appends "..." whenever the cut title is 50 characters long, so also to an uncut 50.
    shown = title if len(title) < TITLE_IN_HISTORY else title[:TITLE_IN_HISTORY] + "..."
    w.history(ticket, "TitleUpdate", name(old, shown))
    return ticket


def set_type(w: Write, ticket: Row, type_name: str) -> Row:
    type_id = w.lookups.id("ticket_type", type_name)
    if type_id == ticket["type_id"]:
        return ticket
    old_id = ticket["type_id"]
    ticket = w.update_ticket(ticket, type_id=type_id)
    w.history(ticket, "TypeUpdate", name(type_name, type_id, w.name_of("ticket_type", old_id), old_id))
    return ticket


def set_dynamic_field(w: Write, ticket: Row, field_name: str, value: Any) -> Row:
    """The field's value rows, ``ticket.change_time`` and the history row, type by type as OTRS's field
    backends write them (``dynamic_fields``)."""
    return dynamic_fields.set_value(w, ticket, field_name, value)


def merge(w: Write, merged: Row, main: Row, add_note: Callable[[Row, str, str], Row]) -> tuple[Row, Row]:
    """TicketMerge, in OTRS's order: the merged ticket's articles, their history rows and its time accounting
    move to the main ticket (stamped with this change); the merged ticket gets OTRS's automatic note
    (``add_note(ticket, subject, body)``); both tickets get a ``Merged`` row; watchers and links move over; a
    ParentChild link main -> merged is added (``TicketLinkAdd`` on both); the merged ticket goes to the
    ``merged`` state, unlocked; everyone's ``Seen`` flag of the main ticket is removed."""
    t = w.schema.tables
    stamp = {"change_time": w.now, "change_by": w.user_id}
    moved_articles = w.conn.execute(update(t.article).where(t.article.c.ticket_id == merged["id"])
                                    .values(ticket_id=main["id"], **stamp)).rowcount
    if w.schema.traits.article_search_index:
        w.conn.execute(update(t.article_search_index).where(t.article_search_index.c.ticket_id == merged["id"])
                       .values(ticket_id=main["id"]))
    h = t.ticket_history
    w.flush()  # the history rows this write holds back are to move too
    w.conn.execute(update(h).where(h.c.ticket_id == merged["id"], h.c.article_id.is_not(None))
                   .values(ticket_id=main["id"], **stamp))
    w.conn.execute(update(t.time_accounting).where(t.time_accounting.c.ticket_id == merged["id"])
                   .values(ticket_id=main["id"], **stamp))
    # Ticket::Frontend::AutomaticMergeSubject / AutomaticMergeText, OTRS's defaults
    merged = add_note(merged, "Ticket Merged", f"Merged Ticket {merged['tn']} to {main['tn']}.")
    text = name(merged["tn"], merged["id"], main["tn"], main["id"])
    w.history(merged, "Merged", text)
    w.history(main, "Merged", text)
    _move_watchers(w, merged["id"], main["id"])
    links.move_ticket_links(w, merged["id"], main["id"])
    links.add_ticket_link(w, main, merged, "ParentChild")
    main = w.update_ticket(main)
    merged_state = next(n for n, i in w.lookups.names("ticket_state").items() if w.lookups.state_types[i] == "merged")
    merged = set_state(w, merged, merged_state)
    merged = set_lock(w, merged, "unlock")
    # TicketFlagDelete(AllUsers): the main ticket shows as unread to everyone, whatever they had seen
    tf = t.ticket_flag
    w.conn.execute(delete(tf).where(tf.c.ticket_id == main["id"], tf.c.ticket_key == "Seen"))
    w.stale.extend(otrs_cache.ticket_flag_keys(main["id"]))
    if moved_articles:
        w.stale.extend(otrs_cache.article_list_keys(main["id"]))
    w.stale.extend(otrs_cache.article_list_keys(merged["id"]))
    return merged, main


def _move_watchers(w: Write, merged_id: int, main_id: int) -> None:
    """Watchers of the merged ticket watch the main ticket from now on (once each)."""
    watcher = w.schema.tables.ticket_watcher
    on_main = select(watcher.c.user_id).where(watcher.c.ticket_id == main_id)
    already = {r[0] for r in w.conn.execute(on_main)}
    w.conn.execute(update(watcher).where(watcher.c.ticket_id == merged_id, watcher.c.user_id.not_in(already))
                   .values(ticket_id=main_id))
    w.conn.execute(delete(watcher).where(watcher.c.ticket_id == merged_id))

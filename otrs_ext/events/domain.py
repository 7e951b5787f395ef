"""Domain events: what happened to a ticket, whoever did it, with no trace of where it was read from.

Every event has an ``event_id`` that stays the same when the event is produced again (a replay after a
crash, a backfill, the polling source): handlers deduplicate on it. Objects that are created once are named
by their id (``ticket-created:42``); changes are named by the database row change that made them.

Values are the OTRS column values under their uniform names (ids, not names: handlers resolve names with
``Lookups`` when they need them, so a renamed queue never makes an old event lie).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# ticket columns whose changes are domain changes, by the name events use; the rest (change_time,
# escalation_* that OTRS's daemon recomputes, timeout) changes too often to mean anything to handlers
TICKET_FIELDS: dict[str, str] = {
    "queue_id": "queue_id",
    "ticket_lock_id": "lock_id",
    "user_id": "owner_id",
    "responsible_user_id": "responsible_id",
    "ticket_state_id": "state_id",
    "ticket_priority_id": "priority_id",
    "title": "title",
    "type_id": "type_id",
    "service_id": "service_id",
    "sla_id": "sla_id",
    "customer_id": "customer_id",
    "customer_user_id": "customer_user",
    "until_time": "pending_until",
    "archive_flag": "archived",
    "tn": "tn",
}


@dataclass(frozen=True)
class DomainEvent:
    event_id: str
    ticket_id: int
    occurred_at: datetime  # commit time on the database server (second precision)
    backfill: bool = field(default=False, kw_only=True)  # produced by a snapshot, not by a live change


@dataclass(frozen=True)
class TicketCreated(DomainEvent):
    ticket: Mapping[str, Any]  # the ticket row as it was when its creation was complete


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    disposition: str
    content_id: str | None = None


@dataclass(frozen=True)
class ArticleCreated(DomainEvent):
    article_id: int
    # article meta and MIME fields under uniform names: sender_type_id, channel (OTRS 6+), is_visible_for_customer,
    # a_from, a_to, a_cc, a_subject, a_body, a_content_type, a_message_id, incoming_time, create_by ...
    article: Mapping[str, Any]
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class TicketChanged(DomainEvent):
    changes: Mapping[str, tuple[Any, Any]]  # field (see TICKET_FIELDS) -> (before, after)
    changed_by: int | None = None

    def moved(self) -> bool:
        return "queue_id" in self.changes


@dataclass(frozen=True)
class DynamicFieldChanged(DomainEvent):
    field_id: int
    object_type: str  # Ticket or Article
    object_id: int
    before: Mapping[str, Any] | None  # value_text / value_date / value_int of the row, None when it was added
    after: Mapping[str, Any] | None  # None when the value was removed


@dataclass(frozen=True)
class TicketMerged(DomainEvent):
    main_ticket_id: int  # ``ticket_id`` is the ticket merged away into this one


@dataclass(frozen=True)
class TicketDeleted(DomainEvent):
    tn: str


@dataclass(frozen=True)
class HistoryAdded(DomainEvent):
    history_id: int
    history_type: str
    name: str
    article_id: int | None
    created_by: int


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    TicketCreated, ArticleCreated, TicketChanged, DynamicFieldChanged, TicketMerged, TicketDeleted, HistoryAdded,
)

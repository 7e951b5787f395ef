"""``event_log``: one row per domain event in ``otrs_ext_event_log``, with how often it was delivered.

An audit trail of what the tailer saw (``SELECT * FROM otrs_ext_event_log WHERE ticket_id = ...``), and the
proof of its delivery guarantees: every event at least once (``deliveries >= 1``), its effect exactly once
(one row per event id).
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects.mysql import insert

from ...db.own_tables import own_table
from ..dispatch import Services
from ..domain import DomainEvent
from ..hookspecs import hookimpl


def record(event: DomainEvent, services: Services) -> None:
    table = own_table("event_log", services.own_schema)
    with services.engine.begin() as conn:
        conn.execute(insert(table).values(
            event_id=event.event_id, event_type=type(event).__name__, ticket_id=event.ticket_id,
            backfill=event.backfill, occurred_at=event.occurred_at, first_seen=func.now(6), deliveries=1,
        ).on_duplicate_key_update(deliveries=table.c.deliveries + 1))


@hookimpl
def on_ticket_created(event, services):  # noqa: ANN001, ANN201
    record(event, services)


@hookimpl
def on_article_created(event, services):  # noqa: ANN001, ANN201
    record(event, services)


@hookimpl
def on_ticket_changed(event, services):  # noqa: ANN001, ANN201
    record(event, services)


@hookimpl
def on_dynamic_field_changed(event, services):  # noqa: ANN001, ANN201
    record(event, services)


@hookimpl
def on_ticket_merged(event, services):  # noqa: ANN001, ANN201
    record(event, services)


@hookimpl
def on_ticket_deleted(event, services):  # noqa: ANN001, ANN201
    record(event, services)


@hookimpl
def on_history_added(event, services):  # noqa: ANN001, ANN201
    record(event, services)

"""``event_log``: one row per domain event in ``otrs_ext_event_log``, with how often it was delivered.

An audit trail of what the tailer saw (``SELECT * FROM otrs_ext_event_log WHERE ticket_id = ...``), and the
proof of its delivery guarantees: every event at least once (``deliveries >= 1``), its effect exactly once
(one row per event id).

It takes events by batch (``on_batch``): one transaction and one multi-row statement per batch the tailer
delivers. A commit per event capped the tailer at about 1,900 events/s; a crash before the batch's commit
leaves none of its rows, and the checkpoint, stored after the handlers returned, has not passed them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import TextClause, func, select, text

from ...db.own_tables import own_table
from ..dispatch import Services
from ..domain import DomainEvent
from ..hookspecs import hookimpl


@functools.cache
def _upsert(own_schema: str | None, *, many: bool) -> TextClause:
    """The statement, built once (building ``insert().on_duplicate_key_update()`` per call cost more than its
    round trips). For many rows only placeholders in VALUES, so that pymysql's ``executemany`` sends one
    multi-row INSERT; for one (a live transaction) the server's clock inline, saving a round trip."""
    table = own_table("event_log", own_schema)
    name = ".".join(f"`{part}`" for part in (table.schema, table.name) if part)
    first_seen, deliveries = (":first_seen", ":deliveries") if many else ("NOW(6)", "1")
    return text(f"INSERT INTO {name} (event_id, event_type, ticket_id, backfill, occurred_at, first_seen, deliveries) "
                f"VALUES (:event_id, :event_type, :ticket_id, :backfill, :occurred_at, {first_seen}, {deliveries}) "
                "ON DUPLICATE KEY UPDATE deliveries = deliveries + 1")


def record(events: Sequence[DomainEvent], services: Services) -> None:
    """Log ``events`` in one transaction: all of them or, after a crash, none."""
    if not events:
        return
    rows = [{"event_id": event.event_id, "event_type": type(event).__name__, "ticket_id": event.ticket_id,
             "backfill": event.backfill, "occurred_at": event.occurred_at} for event in events]
    with services.engine.begin() as conn:
        if len(rows) == 1:
            conn.execute(_upsert(services.own_schema, many=False), rows[0])
            return
        now = conn.execute(select(func.now(6))).scalar_one()
        conn.execute(_upsert(services.own_schema, many=True),
                     [{**row, "first_seen": now, "deliveries": 1} for row in rows])


@hookimpl
def on_batch(events: Sequence[DomainEvent], services: Services) -> None:
    record(events, services)

"""Choices of the search form's filters: the queues the agent may read and the ticket states."""

from __future__ import annotations

from ...db.lookups import Lookups
from ..context import screens_context


def filter_choices(user_id: int) -> dict[str, list[str]]:
    ctx = screens_context()
    with ctx.runtime.engine.connect() as conn:
        lookups = Lookups.load(conn, ctx.runtime.schema)
        readable = ctx.permissions.agent_queue_ids(conn, user_id, "ro", valid_only=True)
    queues = sorted(name for name, ident in lookups.names("queue").items() if ident in readable)
    return {"queue": queues, "state": sorted(lookups.names("ticket_state"))}

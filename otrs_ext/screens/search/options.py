"""Choices of the search form's filters: the queues the agent may read, the ticket states, the catalogue's tags
and their kinds."""

from __future__ import annotations

from typing import Any

from ...db.lookups import Lookups
from ...tags.store import KINDS
from ..context import screens_context


def filter_choices(user_id: int) -> dict[str, list[Any]]:
    ctx = screens_context()
    with ctx.runtime.engine.connect() as conn:
        lookups = Lookups.load(conn, ctx.runtime.schema)
        readable = ctx.permissions.agent_queue_ids(conn, user_id, "ro", valid_only=True)
    queues = sorted(name for name, ident in lookups.names("queue").items() if ident in readable)
    return {"queue": queues, "state": sorted(lookups.names("ticket_state")), "tag": ctx.tags().catalogue(),
            "tag_kind": list(KINDS)}

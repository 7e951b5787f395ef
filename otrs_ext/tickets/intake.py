"""The intake policy of API-created tickets, and where each came from (``ticket_source``).

An intake key (or a customer token) creates tickets as the system user (OTRS's CustomerPanelUserID, 1), only
in the configured intake queues (``api_intake_queues``; empty: any queue) and without choosing an owner; its
articles default to a customer's, visible to the customer, with the history of a web request. An agent key
creates as its agent. The API route only parses the request and answers; the rules are here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func

from schema_maps import OtrsSchema

from ..db.own_tables import own_table
from ..errors import ValidationError
from . import names
from .inputs import history_for

SYSTEM_USER_ID = 1


@dataclass(frozen=True)
class Creator:
    """Who writes a new ticket: ``user_id`` (the change_by of its rows), its owner and responsible, and
    whether it is written as the system (``create_ticket(as_system=...)``)."""

    user_id: int
    owner_id: int
    as_system: bool


@dataclass(frozen=True)
class ArticleKind:
    """An API article's channel, sender, visibility and history row, with the intake defaults applied."""

    channel: str
    sender_type: str
    visible_for_customer: bool
    history_type: str
    history_comment: str


class IntakePolicy:
    def __init__(self, engine: Engine, schema: OtrsSchema, *, queues: tuple[str, ...],
                 own_schema: str | None) -> None:
        self.engine = engine
        self.schema = schema
        self.queues = queues
        self.own_schema = own_schema

    def creator(self, *, agent_id: int | None, queue: str | None, owner: str | None) -> Creator:
        """``agent_id`` None: an intake key or a customer token; else the agent of an agent key."""
        if agent_id is None:
            if self.queues and queue not in self.queues:
                raise ValidationError([("queue", f"intake keys may create tickets only in {', '.join(self.queues)}")])
            if owner is not None:
                raise ValidationError([("owner", "intake keys cannot choose an owner")])
        user_id = SYSTEM_USER_ID if agent_id is None else agent_id
        owner_id = names.agent_id(self.engine, self.schema, owner) if owner else user_id
        return Creator(user_id=user_id, owner_id=owner_id, as_system=agent_id is None)

    def record_source(self, conn: Any, ticket_id: int, source: str, key_id: int | None) -> None:
        """The ``ticket_source`` row of a created ticket, in the transaction that writes the ticket."""
        conn.execute(_source_insert(self.own_schema), {"ticket_id": ticket_id, "source": source, "api_key_id": key_id})


def article_kind(*, channel: str | None, sender_type: str | None, visible_for_customer: bool | None,
                 intake: bool, first: bool) -> ArticleKind:
    """``intake``: written for an intake key or a customer (not an agent); ``first``: the ticket's first."""
    channel = channel or "Internal"
    sender = sender_type or ("customer" if intake else "agent")
    visible = visible_for_customer if visible_for_customer is not None else (intake or sender == "customer")
    history_type, comment = history_for(channel, sender, web=intake, first=first)
    return ArticleKind(channel=channel, sender_type=sender, visible_for_customer=visible,
                       history_type=history_type, history_comment=comment)


@functools.cache
def _source_insert(own_schema: str | None) -> Any:
    """Built once: every create runs it."""
    return own_table("ticket_source", own_schema).insert().values(created_at=func.now())

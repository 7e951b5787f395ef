"""One write to the OTRS tables: the connection of its transaction, the moment, the acting user, and the
few row operations every ticket change is made of (lock the row, update columns, add history).

OTRS writes without transactions; otrs-ext does every operation in one, and locks the ticket row first so
that a concurrent OTRS request and otrs-ext never overwrite each other's column changes: each UPDATE names
only the columns it changes. Inside the transaction nobody else sees the rows, so a write saves round trips
where the committed rows stay the same: its history rows go in one INSERT at the end (``flush``), and an
UPDATE of a row it inserted that would store what the row holds already is not sent (``update_ticket``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..errors import NotFound
from . import otrs_cache, statements
from .clock import epoch
from .history import HistoryWriter
from .otrs_events import EventRecorder
from .search_index import ArticleSearchIndex

Row = dict[str, Any]


@dataclass
class Write:
    conn: Connection
    schema: OtrsSchema
    lookups: Lookups
    now: datetime
    user_id: int
    timezone: str = "UTC"
    # (cache type, key) pairs of OTRS's cache made stale by this write, deleted after the commit
    stale: list[tuple[str, str]] = field(default_factory=list)
    # undo steps for effects outside the database (FS attachment files), run when the transaction fails
    on_rollback: list[Callable[[], None]] = field(default_factory=list)
    # the OTRS events this write raises (one per history row and more), for OTRS's event modules
    recorder: EventRecorder | None = None
    # OTRS's DB full-text index, written with each new article; None = no index rows
    search_index: ArticleSearchIndex | None = None
    # Tickets this write inserted: whatever hangs off them (flags, links, field values, articles) can only be
    # what this write added, so later steps need not read it back.
    new_tickets: set[int] = field(default_factory=set)
    # The articles this write inserted (id -> the values written), in order.
    new_articles: dict[int, Row] = field(default_factory=dict)
    # (ticket id, field name) of every dynamic field value this write changed.
    fields_written: set[tuple[int, str]] = field(default_factory=set)
    # Tickets this write inserted -> their columns as the database holds them now. Nobody else sees such a
    # row before the commit, so an UPDATE that would store what it already holds changes nothing and is left
    # out: a create INSERTs the customer (and the unlock-timeout reset) its next steps set, one statement
    # instead of three (``create.insert_ticket``).
    stored_tickets: dict[int, Row] = field(default_factory=dict)
    # ticket_history rows not sent yet: ``flush`` inserts them together, before the commit
    pending_history: list[Row] = field(default_factory=list)
    _history: HistoryWriter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._history = HistoryWriter(self.schema, self.lookups)

    def written_article(self, article_id: int) -> Row | None:
        """The values of an article this write inserted, where reading it back would give the same: OTRS 6+'s
        article tables hold them as given (OTRS 5's article type folds channel and visibility into one)."""
        return self.new_articles.get(article_id) if self.schema.traits.article_split else None

    def first_article_of_new(self, ticket_id: int, article_id: int) -> bool:
        """Whether ``article_id`` is the first article of a ticket this write inserted."""
        return ticket_id in self.new_tickets and next(
            (i for i, a in self.new_articles.items() if a["ticket_id"] == ticket_id), None) == article_id

    @functools.cached_property
    def epoch_now(self) -> int:
        """``now`` in epoch seconds (the write's moment never changes: worked out once)."""
        return epoch(self.now, self.timezone)

    def ticket(self, ticket_id: int, *, for_update: bool = True) -> Row:
        t = self.schema.tables.ticket
        query = select(t).where(t.c.id == ticket_id)
        row = self.conn.execute(query.with_for_update() if for_update else query).mappings().first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return dict(row)

    def inserted_ticket(self, ticket_id: int, values: Row) -> None:
        """Note a ticket row this write has just inserted with ``values``."""
        self.new_tickets.add(ticket_id)
        self.stored_tickets[ticket_id] = dict(values)

    def update_ticket(self, ticket: Row, *, by: int | None = None, **values: Any) -> Row:
        """UPDATE only ``values`` plus change_time/change_by; return the ticket as it is now."""
        by = self.user_id if by is None else by
        values = {**values, "change_time": self.now, "change_by": by}
        stored = self.stored_tickets.get(ticket["id"])
        # Same Python values, same stored values: an UPDATE a row of this write already matches is a no-op.
        if stored is None or any(k not in stored or stored[k] != v for k, v in values.items()):
            self.conn.execute(statements.update_by_id(self.schema.tables.ticket),
                              {**values, statements.WHERE_ID: ticket["id"]})
            if stored is not None:
                stored.update(values)
        self.stale.extend(otrs_cache.ticket_keys(ticket["id"]))
        return {**ticket, **values}

    def settle(self, ticket: Row) -> Row:
        """Make the row of a ticket this write inserted hold ``ticket``'s columns. Its INSERT may carry values
        the create's later steps were to set (``create.insert_ticket``); should a step not have set one after
        all, this UPDATE puts it back. Normally there is nothing to send."""
        stored = self.stored_tickets.get(ticket["id"])
        if stored is None:
            return ticket
        differing = {k: ticket[k] for k, v in stored.items() if k in ticket and ticket[k] != v}
        if differing:
            self.conn.execute(statements.update_by_id(self.schema.tables.ticket),
                              {**differing, statements.WHERE_ID: ticket["id"]})
            stored.update(differing)
        return ticket

    def history(self, ticket: Row, history_type: str, name: str, *, article_id: int | None = None,
                user_id: int | None = None) -> None:
        """A ``ticket_history`` row (sent by ``flush``) and the OTRS events it stands for, in order."""
        user_id = self.user_id if user_id is None else user_id
        self.pending_history.append(self._history.row(ticket, history_type, name, user_id=user_id, now=self.now,
                                                      article_id=article_id))
        if self.recorder is not None:
            self.recorder.history(self, ticket, history_type, name, article_id=article_id, user_id=user_id)

    def flush(self) -> None:
        """Send the history rows held back, as one INSERT. ``TicketService`` calls it when the operation is
        done, before the commit; code that touches ticket_history in SQL within a write calls it first. The
        rows are OTRS's as they were (their ids ascend in the order written); only the round trips go."""
        rows, self.pending_history = self.pending_history, []
        self._history.insert(self.conn, rows)

    def reset_unlock_timeout(self, ticket: Row) -> Row:
        """``timeout`` = now and the ``Misc`` row OTRS writes after a lock or an agent's article."""
        if ticket["timeout"] == self.epoch_now:
            # TicketUnlockTimeoutUpdate returns early when the value is unchanged (a lock right after an article).
            return ticket
        ticket = self.update_ticket(ticket, timeout=self.epoch_now)
        self.history(ticket, "Misc", "Reset of unlock time.")
        return ticket

    def name_of(self, table: str, ident: int | None) -> str:
        for name, i in self.lookups.names(table).items():
            if i == ident:
                return name
        return ""

    def login_of(self, user_id: int) -> str:
        users = self.schema.tables.users
        return self.conn.execute(select(users.c.login).where(users.c.id == user_id)).scalar() or ""

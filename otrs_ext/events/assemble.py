"""Row changes → domain events, holding back what OTRS has not finished writing.

OTRS writes without transactions (OTRS_INTERNALS §3): a new ticket is an INSERT of ``ticket`` and then its
``NewTicket`` history row; a new article is ``article``, ``article_data_mime`` (and an UPDATE of its message
id), attachments, and last the history row that names the article. Each is its own commit, so a tailer sees
the halves. A ticket or article is therefore held until its closing history row arrives, or until it has
waited ``debounce`` seconds (a writer that writes no history row), and only then emitted, whole.

Changes of a ticket that is already complete are emitted at once: one UPDATE carries its before and after.
While anything is held, ``resume_position()`` stays at the start of the oldest transaction it came from, so
a restart reads those rows again and nothing held is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .domain import (
    TICKET_FIELDS,
    ArticleCreated,
    AttachmentInfo,
    DomainEvent,
    DynamicFieldChanged,
    HistoryAdded,
    TicketChanged,
    TicketCreated,
    TicketDeleted,
    TicketMerged,
)
from .rows import Position, RowChange, Transaction

ATTACHMENT_TABLES = ("article_data_mime_attachment", "article_attachment")
# bulky columns no handler needs from the event (attachment content is read from storage on demand)
DROPPED_COLUMNS = ("content",)


class Resolver(Protocol):
    """Lookups the assembler needs from the database (cached by the implementation)."""

    def history_type(self, type_id: int) -> str: ...

    def dynamic_field_object(self, field_id: int) -> str: ...

    def ticket_of_article(self, article_id: int) -> int | None: ...

    def uniform_article(self, row: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class _Held:
    ticket_id: int
    start: Position
    seen_at: float
    occurred_at: Any
    row: dict[str, Any] = field(default_factory=dict)
    attachments: list[AttachmentInfo] = field(default_factory=list)


class Assembler:
    def __init__(self, resolver: Resolver, *, debounce: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.resolver = resolver
        self.debounce = debounce
        self.clock = clock
        self._tickets: dict[int, _Held] = {}
        self._articles: dict[int, _Held] = {}
        self._last_end: Position | None = None
        self._closing: list[tuple[str, int]] = []

    # --- input ------------------------------------------------------------------------------------------
    def feed(self, txn: Transaction) -> list[DomainEvent]:
        """The events this transaction completes: creations first, then the changes in row order."""
        out: list[DomainEvent] = []
        self._closing: list[tuple[str, int]] = []
        for index, change in enumerate(txn.changes):
            handle = getattr(self, f"_on_{change.table}", None)
            if handle is None and change.table in ATTACHMENT_TABLES:
                handle = self._on_attachment
            if handle is not None:
                handle(txn, index, change, out)
        # Closed items are completed only now, so that rows the same transaction wrote after the closing
        # history row (otrs-ext writes a whole ticket in one) are part of them.
        created: list[DomainEvent] = []
        for kind, ident in self._closing:
            (self._complete_article if kind == "article" else self._complete_ticket)(ident, created)
        self._last_end = txn.end
        return created + out

    def flush_due(self) -> list[DomainEvent]:
        """Emit what has waited ``debounce`` seconds without its closing history row."""
        now = self.clock()
        out: list[DomainEvent] = []
        for article_id, held in sorted(self._articles.items()):
            if now - held.seen_at >= self.debounce:
                self._complete_article(article_id, out)
        for ticket_id, held in sorted(self._tickets.items()):
            if now - held.seen_at >= self.debounce:
                self._complete_ticket(ticket_id, out)
        return out

    def resume_position(self) -> Position | None:
        """Where a restart must begin so that everything held is read again."""
        held = [h.start for h in (*self._tickets.values(), *self._articles.values())]
        if held:
            return min(held, key=Position.key)
        return self._last_end

    @property
    def holding(self) -> int:
        return len(self._tickets) + len(self._articles)

    # --- tickets ----------------------------------------------------------------------------------------
    def _on_ticket(self, txn: Transaction, index: int, change: RowChange, out: list[DomainEvent]) -> None:
        row = change.row
        ticket_id = row["id"]
        if change.kind == "insert":
            self._tickets[ticket_id] = _Held(ticket_id, txn.start, self.clock(), txn.timestamp, dict(row))
        elif change.kind == "update":
            held = self._tickets.get(ticket_id)
            if held is not None:
                held.row.update(row)  # still being created: the event shows the ticket as completed
                return
            changes = {name: (change.before.get(column), row.get(column))
                       for column, name in TICKET_FIELDS.items()
                       if column in row and change.before.get(column) != row.get(column)}
            if changes:
                out.append(TicketChanged(f"{txn.txid}/{index}", ticket_id, txn.timestamp, changes=changes,
                                         changed_by=row.get("change_by")))
        else:
            self._tickets.pop(ticket_id, None)
            for article_id in [a for a, h in self._articles.items() if h.ticket_id == ticket_id]:
                del self._articles[article_id]
            out.append(TicketDeleted(f"ticket-deleted:{ticket_id}", ticket_id, txn.timestamp, tn=row.get("tn", "")))

    def _complete_ticket(self, ticket_id: int, out: list[DomainEvent]) -> None:
        held = self._tickets.pop(ticket_id, None)
        if held is not None:
            out.append(TicketCreated(f"ticket-created:{ticket_id}", ticket_id, held.occurred_at, ticket=held.row))

    # --- articles ---------------------------------------------------------------------------------------
    def _on_article(self, txn: Transaction, index: int, change: RowChange, out: list[DomainEvent]) -> None:
        row = change.row
        if change.kind == "insert":
            self._articles[row["id"]] = _Held(row["ticket_id"], txn.start, self.clock(), txn.timestamp,
                                              {k: v for k, v in row.items() if k not in DROPPED_COLUMNS})
        elif change.kind == "update" and row["id"] in self._articles:
            self._articles[row["id"]].row.update(row)
        elif change.kind == "delete":
            self._articles.pop(row["id"], None)

    def _on_article_data_mime(self, txn: Transaction, index: int, change: RowChange,
                              out: list[DomainEvent]) -> None:
        held = self._articles.get(change.row.get("article_id"))
        if held is not None and change.kind != "delete":
            held.row.update({k: v for k, v in change.row.items() if k not in ("id", "article_id", "create_time",
                                                                              "create_by", "change_time",
                                                                              "change_by")})

    def _on_attachment(self, txn: Transaction, index: int, change: RowChange, out: list[DomainEvent]) -> None:
        row = change.row
        held = self._articles.get(row.get("article_id"))
        if held is None or change.kind != "insert":
            return
        size = row.get("content_size")
        held.attachments.append(AttachmentInfo(
            filename=row.get("filename") or "", content_type=row.get("content_type") or "",
            size=int(size) if size not in (None, "") else len(row.get("content") or b""),
            disposition=row.get("disposition") or "", content_id=row.get("content_id") or None,
        ))

    def _complete_article(self, article_id: int, out: list[DomainEvent]) -> None:
        held = self._articles.pop(article_id, None)
        if held is None:
            return
        self._complete_ticket(held.ticket_id, out)  # a ticket is always announced before its articles
        article = self.resolver.uniform_article(held.row)
        out.append(ArticleCreated(f"article-created:{article_id}", held.ticket_id, held.occurred_at,
                                  article_id=article_id, article=article, attachments=tuple(held.attachments)))

    # --- history: closes what is held ---------------------------------------------------------------------
    def _on_ticket_history(self, txn: Transaction, index: int, change: RowChange, out: list[DomainEvent]) -> None:
        if change.kind != "insert":
            return
        row = change.row
        ticket_id, article_id = row["ticket_id"], row.get("article_id")
        history_type = self.resolver.history_type(row["history_type_id"])
        if article_id and article_id in self._articles:
            self._closing.append(("article", article_id))
        if ticket_id in self._tickets:
            self._closing.append(("ticket", ticket_id))  # NewTicket, or any later row: the ticket is written
        name = row.get("name") or ""
        if history_type == "Merged":
            main_id = _merged_into(name)
            if main_id is not None and main_id != ticket_id:
                out.append(TicketMerged(f"ticket-merged:{row['id']}", ticket_id, txn.timestamp,
                                        main_ticket_id=main_id))
        out.append(HistoryAdded(f"history:{row['id']}", ticket_id, txn.timestamp, history_id=row["id"],
                                history_type=history_type, name=name, article_id=article_id or None,
                                created_by=row.get("create_by") or 0))

    # --- dynamic fields ---------------------------------------------------------------------------------
    def _on_dynamic_field_value(self, txn: Transaction, index: int, change: RowChange,
                                out: list[DomainEvent]) -> None:
        row = change.row
        object_type = self.resolver.dynamic_field_object(row["field_id"])
        object_id = row["object_id"]
        ticket_id = object_id if object_type == "Ticket" else self.resolver.ticket_of_article(object_id)
        if ticket_id is None:
            return
        values = ("value_text", "value_date", "value_int")
        before = {k: change.before.get(k) for k in values} if change.before is not None else None
        after = {k: change.after.get(k) for k in values} if change.after is not None else None
        if before == after:
            return
        out.append(DynamicFieldChanged(f"{txn.txid}/{index}", ticket_id, txn.timestamp, field_id=row["field_id"],
                                       object_type=object_type, object_id=object_id, before=before, after=after))


def _merged_into(name: str) -> int | None:
    """The main ticket id of OTRS's ``Merged`` history name ``%%MergedTN%%MergedID%%MainTN%%MainID``."""
    parts = name.split("%%")
    try:
        return int(parts[4])
    except (IndexError, ValueError):
        return None

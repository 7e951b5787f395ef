"""The polling source: the same domain events as the binlog path, for servers without a usable binlog.

It reads ``ticket_history`` and ``article`` by id watermarks and turns each history row back into the row
changes the binlog would have carried for it, as one ``Transaction``: the ``ticket`` INSERT before a
``NewTicket`` row, the article's rows (meta, MIME, attachments) before the first history row naming it, a
``ticket`` UPDATE rebuilt from a setter's history row (see ``history_changes``), and the history INSERT
itself. The tailer's ``Assembler`` then makes the events exactly as from the binlog: ``ticket-created:<id>``,
``article-created:<id>``, ``history:<id>``, ``ticket-merged:<history id>``. Only ``TicketChanged`` is named
differently (``poll-history:<id>/<n>``: there is no binlog transaction to name it by), and one history row
is one change (the binlog has two for the customer's two UPDATEs). Deletions and dynamic field values leave
no history row that could be read back, so ``TicketDeleted`` and ``DynamicFieldChanged`` are binlog-only.

Positions: ``Position("poll.<history watermark>", <article watermark>)``; everything at or below both
watermarks has been handed on. Both only grow, so ``Position.key()`` orders them.

OTRS writes without transactions and auto-increment ids are handed out before the commit: history row 11 can
become visible after row 12. The source never steps over a missing id until it is sure the id will not come:
the row after the gap was written ``gap_grace`` seconds ago (database clock), or it has waited that long
itself (rolled-back inserts, deleted tickets and ``innodb_autoinc_lock_mode=2`` leave ids that never come).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from .assemble import ATTACHMENT_TABLES, DROPPED_COLUMNS
from .binlog import Idle, Item
from .checkpoint import Checkpoint
from .dispatch import Dispatcher
from .history_changes import CHANGE_TYPES, UNKNOWN, decode
from .metrics import TailMetrics
from .resolver import DatabaseResolver
from .rows import Position, RowChange, Transaction
from .snapshot import Snapshot
from .tailer import TailConfig, Tailer

log = logging.getLogger(__name__)
PREFIX = "poll."
KNOWN_TICKETS = 50_000  # tickets whose last seen column values are kept, for the before of the next change
SNAPSHOT_COLUMNS = {"queue_id": "queue_id", "user_id": "owner_id", "ticket_priority_id": "priority_id",
                    "ticket_state_id": "state_id", "type_id": "type_id"}  # ticket column -> history column
TITLE_SHOWN = 50  # TicketTitleUpdate cuts the new title to 50 characters and appends "..."


def poll_position(history_id: int, article_id: int) -> Position:
    return Position(f"{PREFIX}{history_id}", article_id)


def is_poll(position: Position) -> bool:
    return position.log_file.startswith(PREFIX)


def watermarks(position: Position) -> tuple[int, int]:
    return int(position.log_file[len(PREFIX):]), position.log_pos


def newest_position(conn: Connection, schema: OtrsSchema) -> Position:
    """The watermarks of everything ``conn`` sees (called inside the snapshot's transaction)."""
    history, article = schema.tables.ticket_history, schema.tables.article
    return poll_position(conn.execute(select(func.coalesce(func.max(history.c.id), 0))).scalar_one(),
                         conn.execute(select(func.coalesce(func.max(article.c.id), 0))).scalar_one())


@dataclass(frozen=True)
class PollConfig:
    interval: float = 0.5  # seconds between polls when caught up
    gap_grace: float = 10.0  # how long a missing id may still be committed
    batch: int = 500  # history rows read per query
    timezone: str = "UTC"  # OTRSTimeZone: SetPendingTime names are local times


class PollSource:
    def __init__(self, engine: Engine, schema: OtrsSchema, start: Position, *, config: PollConfig = PollConfig(),
                 debounce: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.schema = schema
        self.config = config
        self.debounce = debounce
        self.clock = clock
        self.history_mark, self.article_mark = watermarks(start) if is_poll(start) else (0, 0)
        self.resolver = DatabaseResolver(engine, schema)
        self._closed = threading.Event()
        self._gaps: dict[tuple[str, int], float] = {}  # (table, missing id) -> when first missed
        self._lonely: dict[int, float] = {}  # article id -> when first seen without a history row
        self._known: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._names: dict[str, dict[str, int]] = {}
        self._history_types: dict[str, int] = {}
        attachments = {schema.tables[n].name: n for n in ATTACHMENT_TABLES if n in schema.tables}
        self._attachment_table = attachments[schema.articles.attachments.name]

    @property
    def position(self) -> Position:
        return poll_position(self.history_mark, self.article_mark)

    def close(self) -> None:
        self._closed.set()

    def __iter__(self) -> Iterator[Item]:
        while not self._closed.is_set():
            with self.engine.connect() as conn:  # one consistent read per round (REPEATABLE READ)
                self._load_names(conn)
                items = self._history(conn) + self._articles(conn)
            yield from items
            if len(items) < self.config.batch:  # caught up: report it and wait
                yield Idle(self.position)
                self._closed.wait(self.config.interval)

    # --- history -----------------------------------------------------------------------------------------
    def _history(self, conn: Connection) -> list[Transaction]:
        h = self.schema.tables.ticket_history
        rows = [dict(r) for r in conn.execute(select(h).where(h.c.id > self.history_mark).order_by(h.c.id)
                                              .limit(self.config.batch)).mappings()]
        if not rows:
            return []
        now = _db_now(conn)
        first = self._first_history_rows(conn, {r["article_id"] for r in rows if r.get("article_id")})
        out: list[Transaction] = []
        for row in rows:
            if row["id"] != self.history_mark + 1 and not self._gap_over("history", self.history_mark + 1, row, now):
                break
            start = self.position
            changes = self._history_changes(conn, row, first)
            self.history_mark = row["id"]
            out.append(Transaction(f"poll-history:{row['id']}", start, self.position, row["create_time"],
                                   tuple(changes)))
        self._gaps = {k: v for k, v in self._gaps.items() if k[0] != "history" or k[1] > self.history_mark}
        return out

    def _history_changes(self, conn: Connection, row: dict[str, Any], first: dict[int, int]) -> list[RowChange]:
        kind = self.resolver.history_type(row["history_type_id"])
        changes: list[RowChange] = []
        if kind == "NewTicket":
            ticket = self._ticket_at_creation(conn, row)
            if ticket is not None:
                changes.append(RowChange("ticket", "insert", None, ticket))
        article_id = row.get("article_id")
        if article_id and first.get(article_id) == row["id"]:
            changes.extend(self._article_rows(conn, article_id))
        if kind in CHANGE_TYPES:
            update = self._ticket_update(conn, kind, row)
            if update is not None:
                changes.append(update)
        changes.append(RowChange("ticket_history", "insert", None, row))
        return changes

    def _gap_over(self, table: str, missing: int, after: dict[str, Any], now: datetime | None) -> bool:
        """True when id ``missing`` will not be committed any more (see the module docstring)."""
        since = self._gaps.setdefault((table, missing), self.clock())
        written = after.get("create_time")
        old = now is not None and written is not None and (now - written).total_seconds() > self.config.gap_grace + 1
        if old or self.clock() - since >= self.config.gap_grace:
            log.info("%s ids %d..%d never arrived; going on", table, missing, after["id"] - 1,
                     extra={"event": "tail_poll_gap", "table": table, "missing": missing})
            return True
        return False

    def _first_history_rows(self, conn: Connection, article_ids: set[int]) -> dict[int, int]:
        """article id -> the id of the first history row naming it (that row announces the article)."""
        if not article_ids:
            return {}
        h = self.schema.tables.ticket_history
        return dict(conn.execute(select(h.c.article_id, func.min(h.c.id)).where(h.c.article_id.in_(article_ids))
                                 .group_by(h.c.article_id)).all())

    # --- tickets -----------------------------------------------------------------------------------------
    def _ticket_at_creation(self, conn: Connection, new_ticket: dict[str, Any]) -> dict[str, Any] | None:
        """The ticket row as it was when its ``NewTicket`` row was written: the row now, with the columns
        changed since put back from the creation snapshot and the later history rows."""
        t = self.schema.tables.ticket
        found = conn.execute(select(t).where(t.c.id == new_ticket["ticket_id"])).mappings().first()
        if found is None:
            return None  # deleted since: nothing to announce (the binlog would say created, then deleted)
        ticket = dict(found)
        ticket.update({column: new_ticket[h] for column, h in SNAPSHOT_COLUMNS.items()},
                      change_time=ticket["create_time"], change_by=ticket["create_by"])
        h = self.schema.tables.ticket_history
        later = conn.execute(select(h).where(h.c.ticket_id == ticket["id"], h.c.id > new_ticket["id"])
                             .order_by(h.c.id).limit(1000)).mappings()
        rewound: set[str] = set(SNAPSHOT_COLUMNS)
        for row in later:
            for column, (before, after) in self._decode(row).items():
                if column in rewound:
                    continue
                rewound.add(column)
                if before is UNKNOWN:
                    before = self._default_before(column, after, ticket.get(column))
                ticket[column] = before
        self._remember(ticket["id"], ticket)
        return ticket

    def _ticket_update(self, conn: Connection, kind: str, row: dict[str, Any]) -> RowChange | None:
        decoded = self._decode(row, kind)
        if not decoded:
            return None
        ticket_id = row["ticket_id"]
        known = self._known.get(ticket_id, {})
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for column, (old, new) in decoded.items():
            if column == "title":
                new = self._full_title(conn, row, new)
            elif column == "until_time":
                new = self._exact_pending(conn, ticket_id, new)
            if old is UNKNOWN:
                old = known.get(column, UNKNOWN)
            if old is UNKNOWN:
                old = self._before_from_history(conn, row, column, new)
            before[column], after[column] = old, new
        self._remember(ticket_id, after)
        return RowChange("ticket", "update", before, {"id": ticket_id, "change_by": row.get("create_by"), **after})

    def _before_from_history(self, conn: Connection, row: dict[str, Any], column: str, after: Any) -> Any:
        """A before value the row does not carry: the ticket's earlier history rows say what it was."""
        h = self.schema.tables.ticket_history
        earlier = conn.execute(select(h).where(h.c.ticket_id == row["ticket_id"], h.c.id < row["id"])
                               .order_by(h.c.id.desc()).limit(200)).mappings()
        for previous in earlier:
            if column in SNAPSHOT_COLUMNS:
                return previous[SNAPSHOT_COLUMNS[column]]  # every row holds the ticket as it was after it
            if column in (decoded := self._decode(previous)):
                return decoded[column][1]
        return self._default_before(column, after, None)

    def _default_before(self, column: str, after: Any, current: Any) -> Any:
        """What a column held at creation when no history row says: OTRS's TicketCreate values."""
        if column == "ticket_lock_id":
            locks = self._names.get("ticket_lock_type", {})
            return locks.get("unlock") if after != locks.get("unlock") else locks.get("lock")
        if column == "until_time":
            return 0  # TicketCreate writes no pending time
        if column == "archive_flag":
            return 0 if after else 1
        if column in ("customer_id", "customer_user_id", "service_id", "sla_id"):
            return None
        return current  # responsible: not in any history row before its first change; keep what is known

    def _full_title(self, conn: Connection, row: dict[str, Any], shown: str | None) -> str | None:
        """TitleUpdate names hold the new title cut to 50 characters + "...": the next TitleUpdate names it
        in full as its old title, else the ticket holds it still."""
        if shown is None or not (shown.endswith("...") and len(shown) == TITLE_SHOWN + 3):
            return shown
        h, t = self.schema.tables.ticket_history, self.schema.tables.ticket
        type_id = self._history_types.get("TitleUpdate")
        following = conn.execute(select(h.c.name).where(h.c.ticket_id == row["ticket_id"], h.c.id > row["id"],
                                                        h.c.history_type_id == type_id)
                                 .order_by(h.c.id).limit(1)).scalar()
        if following is not None and following.startswith("%%"):
            return following[2:].split("%%")[0]
        current = conn.execute(select(t.c.title).where(t.c.id == row["ticket_id"])).scalar()
        return current if current and current.startswith(shown[:-3]) else shown

    def _exact_pending(self, conn: Connection, ticket_id: int, shown: int) -> int:
        """SetPendingTime names are to the minute; the ticket has the seconds while it still holds it."""
        t = self.schema.tables.ticket
        current = conn.execute(select(t.c.until_time).where(t.c.id == ticket_id)).scalar()
        return current if current and shown and current // 60 * 60 == shown else shown

    def _decode(self, row: Any, kind: str | None = None) -> dict[str, tuple[Any, Any]]:
        kind = kind or self.resolver.history_type(row["history_type_id"])
        return decode(kind, row, self._names, self.config.timezone) if kind in CHANGE_TYPES else {}

    def _remember(self, ticket_id: int, values: dict[str, Any]) -> None:
        self._known.setdefault(ticket_id, {}).update(values)
        self._known.move_to_end(ticket_id)
        while len(self._known) > KNOWN_TICKETS:
            self._known.popitem(last=False)

    # --- articles ----------------------------------------------------------------------------------------
    def _article_rows(self, conn: Connection, article_id: int) -> list[RowChange]:
        """The rows of an article as its INSERTs wrote them (no attachment content: events never carry it)."""
        tables = self.schema.tables
        meta = conn.execute(select(tables.article).where(tables.article.c.id == article_id)).mappings().first()
        if meta is None:
            return []  # deleted since
        changes = [RowChange("article", "insert", None,
                             {k: v for k, v in meta.items() if k not in DROPPED_COLUMNS})]
        if self.schema.traits.article_split:  # OTRS 6+: the MIME columns have their own table
            m = tables.article_data_mime
            for mime in conn.execute(select(m).where(m.c.article_id == article_id)).mappings():
                changes.append(RowChange("article_data_mime", "insert", None, dict(mime)))
        a = self.schema.articles.attachments
        columns = [c for c in a.c if c.name not in DROPPED_COLUMNS]
        for attachment in conn.execute(select(*columns).where(a.c.article_id == article_id).order_by(a.c.id)
                                       ).mappings():
            changes.append(RowChange(self._attachment_table, "insert", None, dict(attachment)))
        return changes

    def _articles(self, conn: Connection) -> list[Transaction]:
        """Move the article watermark over articles announced by their history row; hand on those that
        have had no history row for ``debounce`` seconds (a writer that writes none), as the binlog path
        would after its debounce."""
        a, h = self.schema.tables.article, self.schema.tables.ticket_history
        first = select(func.min(h.c.id)).where(h.c.article_id == a.c.id).scalar_subquery()
        rows = conn.execute(select(a.c.id, a.c.create_time, first.label("first_history"))
                            .where(a.c.id > self.article_mark).order_by(a.c.id).limit(self.config.batch)).mappings()
        out: list[Transaction] = []
        now: datetime | None = None
        for row in rows:
            if row["id"] != self.article_mark + 1:
                now = now or _db_now(conn)
                if not self._gap_over("article", self.article_mark + 1, dict(row), now):
                    break
            if row["first_history"] is not None:
                if row["first_history"] > self.history_mark:
                    break  # the history stream announces it; wait for it
                self.article_mark = row["id"]
                continue
            since = self._lonely.setdefault(row["id"], self.clock())
            now = now or _db_now(conn)
            quiet = (now - row["create_time"]).total_seconds() if row["create_time"] and now else 0.0
            if max(quiet, self.clock() - since) < self.debounce:
                break
            start = self.position
            self.article_mark = row["id"]
            self._lonely.pop(row["id"], None)
            out.append(Transaction(f"poll-article:{row['id']}", start, self.position, row["create_time"],
                                   tuple(self._article_rows(conn, row["id"]))))
        self._gaps = {k: v for k, v in self._gaps.items() if k[0] != "article" or k[1] > self.article_mark}
        return out

    def _load_names(self, conn: Connection) -> None:
        if not self._names:
            lookups = Lookups.load(conn, self.schema)
            self._names = {table: dict(lookups.names(table)) for table in ("ticket_state", "ticket_lock_type")}
            self._history_types = dict(lookups.names("ticket_history_type"))


def _db_now(conn: Connection) -> datetime:
    return conn.execute(select(func.now())).scalar_one()


class PollTailer(Tailer):
    """The tailer with the polling source: same loop, lock, checkpoints and handlers as with the binlog."""

    def __init__(self, engine: Engine, schema: OtrsSchema, dispatcher: Dispatcher, *,
                 own_schema: str | None = None, config: TailConfig | None = None,
                 metrics: TailMetrics | None = None, poll: PollConfig = PollConfig()) -> None:
        super().__init__(engine, schema, dispatcher, own_schema=own_schema, config=config or TailConfig(),
                         metrics=metrics, source_factory=self._poll_source)
        self.poll = poll

    def _poll_source(self, schema: OtrsSchema, start: Position) -> PollSource:
        return PollSource(self.engine, schema, start, config=self.poll, debounce=self.config.debounce)

    def _purged(self, position: Position) -> bool:
        return not is_poll(position)  # a binlog checkpoint names no watermark: start from a snapshot

    def _source_position(self) -> Position:
        with self.engine.connect() as conn:
            return newest_position(conn, self.schema)

    def _snapshot_reason(self, previous: Checkpoint) -> str:
        return f"the checkpoint {previous.resume} is no poll watermark"

    def _snapshot_reader(self) -> Snapshot:
        """Positioned by the watermarks its consistent read sees."""
        return Snapshot(self.engine, self.schema, position=lambda conn: newest_position(conn, self.schema))

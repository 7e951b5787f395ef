"""The backfill: every ticket and article as it is now, and the binlog position that state belongs to.

Used on a first start and when the binlog a checkpoint needs has been purged. The rows are read in one
consistent-snapshot transaction; MariaDB reports the binlog position of that snapshot
(``binlog_snapshot_file``/``_position``), so streaming from there neither misses nor repeats a change.
MySQL has no such status: there the position is taken under a brief ``FLUSH TABLES WITH READ LOCK``.

Events carry ``backfill=True`` and the same ids live events would have (``ticket-created:<id>``), so a
handler that has seen a ticket already ignores it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, text

from schema_maps import OtrsSchema

from .domain import ArticleCreated, AttachmentInfo, DomainEvent, TicketCreated
from .rows import Position

log = logging.getLogger(__name__)
CHUNK = 500


@dataclass(frozen=True)
class SnapshotReport:
    position: Position
    tickets: int
    articles: int


class Snapshot:
    def __init__(self, engine: Engine, schema: OtrsSchema, *, chunk: int = CHUNK,
                 position: Callable[[Connection], Position] | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.chunk = chunk
        # where the snapshot's state ends when it is not a binlog position (the polling source's watermarks),
        # read inside the snapshot's transaction
        self.position = position

    def run(self, dispatch: Callable[[list[DomainEvent]], object],
            progress: Callable[[int, int], None] | None = None) -> SnapshotReport:
        """Hand every ticket and article to ``dispatch`` in batches; return the position to stream from."""
        tickets = articles = 0
        with self.engine.connect() as conn:
            if self.position is None:
                position = _consistent_snapshot(conn)
            else:
                conn.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                position = self.position(conn)
            total = conn.execute(text(f"SELECT COUNT(*) FROM {self.schema.tables.ticket.name}")).scalar_one()
            log.info("snapshot of %d tickets at %s", total, position,
                     extra={"event": "tail_snapshot_start", "tickets": total, "position": str(position)})
            for batch in self._batches(conn):
                dispatch(batch)
                tickets += sum(isinstance(e, TicketCreated) for e in batch)
                articles += sum(isinstance(e, ArticleCreated) for e in batch)
                if progress is not None:
                    progress(tickets, total)
            conn.rollback()
        log.info("snapshot done: %d tickets, %d articles", tickets, articles,
                 extra={"event": "tail_snapshot_done", "tickets": tickets, "articles": articles})
        return SnapshotReport(position, tickets, articles)

    def _batches(self, conn: Connection) -> Iterator[list[DomainEvent]]:
        ticket = self.schema.tables.ticket
        layout = self.schema.articles
        last = 0
        while True:
            rows = conn.execute(select(ticket).where(ticket.c.id > last).order_by(ticket.c.id)
                                .limit(self.chunk)).mappings().all()
            if not rows:
                return
            last = rows[-1]["id"]
            ids = [r["id"] for r in rows]
            by_ticket: dict[int, list[dict]] = {}
            for article in conn.execute(layout.select().where(layout.meta.c.ticket_id.in_(ids))
                                        .order_by(layout.meta.c.id)).mappings():
                by_ticket.setdefault(article["ticket_id"], []).append(dict(article))
            attachments = self._attachments(conn, [a["id"] for group in by_ticket.values() for a in group])
            batch: list[DomainEvent] = []
            for row in rows:
                batch.append(TicketCreated(f"ticket-created:{row['id']}", row["id"], row["create_time"],
                                           ticket=dict(row), backfill=True))
                for article in by_ticket.get(row["id"], []):
                    article_id = article.pop("id")
                    batch.append(ArticleCreated(f"article-created:{article_id}", row["id"], article["create_time"],
                                                article_id=article_id, article=article,
                                                attachments=tuple(attachments.get(article_id, ())),
                                                backfill=True))
            yield batch

    def _attachments(self, conn: Connection, article_ids: list[int]) -> dict[int, list[AttachmentInfo]]:
        if not article_ids:
            return {}
        t = self.schema.articles.attachments
        found: dict[int, list[AttachmentInfo]] = {}
        query = (select(t.c.article_id, t.c.filename, t.c.content_type, t.c.content_size, t.c.disposition,
                        t.c.content_id).where(t.c.article_id.in_(article_ids)).order_by(t.c.id))
        for r in conn.execute(query).mappings():
            found.setdefault(r["article_id"], []).append(AttachmentInfo(
                filename=r["filename"] or "", content_type=r["content_type"] or "",
                size=int(r["content_size"] or 0), disposition=r["disposition"] or "",
                content_id=r["content_id"] or None))
        return found


def consistent_position(engine: Engine) -> Position:
    """The binlog position of a consistent read begun now: every transaction before it is visible to any read
    that begins later, none after it was (a reindex records it before it reads anything). ``SHOW MASTER
    STATUS`` alone is not enough: a transaction is in the binlog a moment before InnoDB shows it."""
    with engine.connect() as conn:
        position = _consistent_snapshot(conn)
        conn.rollback()
    return position


def _consistent_snapshot(conn: Connection) -> Position:
    """Open a consistent-snapshot transaction on ``conn`` and return the binlog position it reflects."""
    conn.exec_driver_sql("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    status = _snapshot_status(conn)
    if "binlog_snapshot_file" in status:  # MariaDB: the position comes with the snapshot, no lock needed
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        status = _snapshot_status(conn)
        file, pos = status["binlog_snapshot_file"], int(status["binlog_snapshot_position"])
        gtid = conn.execute(text("SELECT BINLOG_GTID_POS(:f, :p)"), {"f": file, "p": pos}).scalar() or None
        return Position(file, pos, gtid if gtid and "," not in gtid else None)
    conn.exec_driver_sql("FLUSH TABLES WITH READ LOCK")
    try:
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        file, pos = conn.exec_driver_sql("SHOW MASTER STATUS").first()[:2]
    finally:
        conn.exec_driver_sql("UNLOCK TABLES")
    return Position(file, int(pos))


def _snapshot_status(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(text("SHOW STATUS LIKE :name"), {"name": "binlog_snapshot_%"}).all())

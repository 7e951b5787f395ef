"""Writes to the ``articles`` RT index over SphinxQL: whole documents, ticket attribute updates, deletes.

``RtIndex`` is the index side alone (statements on one SphinxQL connection); ``Indexer`` pairs it with the
OTRS database and is what the live handler, the reindex and reconcile call. Every operation is idempotent:
it makes the index say what the database says now, so replays and repeats are harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pymysql
from sqlalchemy import Connection, Engine

from schema_maps import OtrsSchema

from ..db.sphinxql import SphinxQL
from .documents import Document, DocumentSource
from .indexdef import COLUMNS, FIELDS, INDEX_NAME

#: flush a multi-row REPLACE at this many bytes of SQL. searchd's cost per document grows with the statement's
#: size once a statement holds many distinct keywords (mail full of addresses, hosts and IPs: 0.8 ms of searchd CPU
#: per article in 128 KB statements, 10 ms in 4 MB ones); on plain prose the size hardly matters (0.26 vs 0.29 ms)
BATCH_BYTES = 128 * 1024
#: rows per SELECT page when reading ids back (SphinxQL answers at most max_matches rows)
PAGE = 1000

# control characters only separate words for the tokenizer; as spaces they need no escaping. Chained
# str.replace rather than str.translate: 30x faster on Cyrillic text, where translate takes its slow path.
_TEXT = (("\\", "\\\\"), ("'", "\\'"), ("\0", " "), ("\n", " "), ("\r", " "), ("\t", " "), ("\x1a", " "))
_ATTRIBUTES_START = 1 + len(FIELDS)  # a document is the id, the fields, then the attributes (COLUMNS)
_INSERT_HEAD = f"REPLACE INTO {INDEX_NAME} ({', '.join(COLUMNS)}) VALUES "


def sql_value(value: Any) -> str:
    """A SphinxQL literal. Hand-rolled rather than pymysql's escaping: the reindex renders ~30 values per article
    and this is most of its Python time."""
    if isinstance(value, str):
        return "'" + _escaped(value) + "'"
    if isinstance(value, tuple):  # MVA
        return "(" + ",".join(str(int(v)) for v in value) + ")"
    return str(int(value))


def _escaped(text: str) -> str:
    for char, replacement in _TEXT:
        text = text.replace(char, replacement)
    return text


def render_row(document: Document) -> str:
    # the id and the full-text fields (always strings) first, without sql_value's type dispatch per value
    texts = "','".join(map(_escaped, document[1:_ATTRIBUTES_START]))
    return f"({int(document[0])},'{texts}'," + ",".join(map(sql_value, document[_ATTRIBUTES_START:])) + ")"


class RtIndex:
    """Statements against the RT index on one open SphinxQL connection."""

    def __init__(self, conn: pymysql.connections.Connection, index: str = INDEX_NAME) -> None:
        self.conn = conn
        self.index = index

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> int:
        with self.conn.cursor() as cursor:
            return cursor.execute(sql, args)

    def query(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def replace(self, documents: Iterable[Document]) -> int:
        """REPLACE whole documents, as few multi-row statements as ``BATCH_BYTES`` allows; returns the count."""
        count, size, rows = 0, 0, []
        for document in documents:
            row = render_row(document)
            rows.append(row)
            size += len(row)
            count += 1
            if size >= BATCH_BYTES:
                self.execute(_INSERT_HEAD + ",".join(rows))
                size, rows = 0, []
        if rows:
            self.execute(_INSERT_HEAD + ",".join(rows))
        return count

    def delete_ids(self, ids: Sequence[int]) -> int:
        deleted = 0
        for start in range(0, len(ids), PAGE):
            chunk = ids[start:start + PAGE]
            deleted += self.execute(f"DELETE FROM {self.index} WHERE id IN ({','.join(str(int(i)) for i in chunk)})")
        return deleted

    def delete_ticket(self, ticket_id: int) -> int:
        return self.execute(f"DELETE FROM {self.index} WHERE ticket_id = {int(ticket_id)}")

    def update_ticket(self, ticket_id: int, attributes: dict[str, int | tuple[int, ...]]) -> int:
        """UPDATE numeric/MVA attributes of every document of a ticket (strings and fields cannot be UPDATEd)."""
        assignments = ", ".join(f"{name} = {sql_value(value)}" for name, value in attributes.items())
        return self.execute(f"UPDATE {self.index} SET {assignments} WHERE ticket_id = {int(ticket_id)}")

    def ids(self, where: str) -> list[int]:
        """Every document id matching an attribute filter, paged by id (SphinxQL caps a result at max_matches)."""
        found: list[int] = []
        last = 0
        while True:
            rows = self.query(f"SELECT id FROM {self.index} WHERE {where} AND id > {last} ORDER BY id ASC "
                              f"LIMIT {PAGE} OPTION max_matches={PAGE}")
            found.extend(int(r[0]) for r in rows)
            if len(rows) < PAGE:
                return found
            last = found[-1]

    def count_range(self, low: int, high: int) -> int:
        return int(self.query(f"SELECT COUNT(*) FROM {self.index} WHERE id >= {int(low)} AND id <= {int(high)}")[0][0])

    def max_id(self) -> int:
        rows = self.query(f"SELECT MAX(id) FROM {self.index}")
        return int(rows[0][0] or 0) if rows else 0

    def optimize(self) -> None:
        """Write the RAM chunk to disk and have searchd merge the disk chunks into one, in the background.

        A bulk load leaves several disk chunks, and every query searches each of them. Searches and writes go on
        meanwhile; merging 1M articles takes searchd about 80 s of one core."""
        self.execute(f"FLUSH RAMCHUNK {self.index}")
        self.execute(f"OPTIMIZE INDEX {self.index}")

    def truncate(self) -> None:
        self.execute(f"TRUNCATE RTINDEX {self.index}")


class Indexer:
    """Makes the index agree with the OTRS database for given articles, tickets or id ranges.
    ``own_schema``: where otrs-ext's own tables are (the tickets' tags), None for the OTRS database."""

    def __init__(self, engine: Engine, schema: OtrsSchema, search: SphinxQL, *, index: str = INDEX_NAME,
                 own_schema: str | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self.search = search
        self.index_name = index
        self.own_schema = own_schema
        self.source = DocumentSource(schema, own_schema)

    @contextmanager
    def index(self) -> Iterator[RtIndex]:
        with self.search.connection() as conn:
            yield RtIndex(conn, self.index_name)

    def index_articles(self, article_ids: Sequence[int]) -> int:
        """(Re)index these articles from the database; an article that no longer exists is deleted."""
        with self.engine.connect() as db:
            documents = self.source.by_articles(db, article_ids)
        with self.index() as rt:
            rt.replace(documents)
            missing = sorted(set(article_ids) - {d[0] for d in documents})
            if missing:
                rt.delete_ids(missing)
        return len(documents)

    def sync_tickets(self, ticket_ids: Iterable[int]) -> int:
        """Re-REPLACE every article of these tickets and delete documents that no longer belong to them.

        For what UPDATE cannot do: a new title, ticket number or customer (fields and strings), and merges
        (OTRS moves the articles to the main ticket)."""
        ids = sorted(set(ticket_ids))
        with self.engine.connect() as db:
            documents = self.source.by_tickets(db, ids)
        with self.index() as rt:
            rt.replace(documents)
            current = {d[0] for d in documents}
            stale = [i for ticket_id in ids for i in rt.ids(f"ticket_id = {int(ticket_id)}") if i not in current]
            if stale:
                rt.delete_ids(stale)
        return len(documents)

    def refresh_ticket(self, ticket_id: int) -> int:
        """UPDATE the ticket attributes of all its documents to the ticket's current row (queue move, state...)
        and its current tags."""
        with self.engine.connect() as db:
            attributes = self.source.ticket_attributes(db, ticket_id)
        with self.index() as rt:
            if attributes is None:  # deleted meanwhile: its TicketDeleted event follows, this is the same effect
                return rt.delete_ticket(ticket_id)
            return rt.update_ticket(ticket_id, attributes)

    def delete_ticket(self, ticket_id: int) -> int:
        with self.index() as rt:
            return rt.delete_ticket(ticket_id)

    def update_tags(self, ticket_id: int, tag_ids: Iterable[int]) -> int:
        """Set the ticket's tags on all its documents (an MVA, UPDATE-able in place); documents written later
        read them from the link table themselves."""
        with self.index() as rt:
            return rt.update_ticket(ticket_id, {"tag_ids": tuple(sorted(set(tag_ids)))})

    def index_range(self, db: Connection, rt: RtIndex, low: int, high: int) -> tuple[int, int]:
        """REPLACE the articles with ids in [low, high] and delete index documents in that range the database
        lacks; returns (replaced, deleted). The caller holds both connections (the reindex keeps them open)."""
        documents = self.source.by_range(db, low, high)
        replaced = rt.replace(documents)
        # after the REPLACE the index holds at least the database's documents: more means leftovers
        return replaced, self.prune_range(db, rt, low, high, expected=len(documents))

    def prune_range(self, db: Connection, rt: RtIndex, low: int, high: int, *, expected: int | None = None) -> int:
        """Delete index documents in [low, high] whose article the database does not have; returns how many.
        Counting first keeps the common case (nothing to delete) to one cheap query on each side."""
        if expected is None:
            expected = len(self.source.article_ids_in(db, low, high))
        if rt.count_range(low, high) <= expected:
            return 0
        present = set(self.source.article_ids_in(db, low, high))
        extra = [i for i in rt.ids(f"id >= {int(low)} AND id <= {int(high)}") if i not in present]
        return rt.delete_ids(extra)

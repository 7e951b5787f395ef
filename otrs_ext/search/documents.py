"""Index documents read from the OTRS tables: one row per article with its ticket's current state.

Every writer (the live handler, the reindex, reconcile) builds documents here from what the database holds
*now*, never from an event's before/after values: a replayed or late event then still converges to the
current state, and a document is always complete (REPLACE overwrites every column, COMPONENTS.md §2).

A document's ``tag_ids`` are its ticket's tags, from otrs-ext's own link table (``otrs_ext_ticket_tag``, in
``own_schema`` when the own tables live in a database of their own): one read per batch of documents.
"""

from __future__ import annotations

import calendar
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, select

from schema_maps import OtrsSchema
from schema_maps._articles import STANDARD_CHANNEL_IDS

from ..db.own_tables import own_table
from .blends import runs
from .indexdef import COLUMNS, RUN_SOURCES, TEXT_FIELDS

#: the body text indexed per article; the rest of a long mail is mostly quoted history, and a cap keeps every
#: multi-row REPLACE far below searchd's max_packet_size
BODY_LIMIT = 100_000
#: OTRS 6's standard channel ids, used for OTRS 5 whose article types folded channel and visibility together
STANDARD_CHANNELS = STANDARD_CHANNEL_IDS
#: OTRS stores an HTML body as an attachment named file-1, file-2...: not a name anybody searches for
_BODY_PART = re.compile(r"^file-\d+$")

Document = tuple[Any, ...]  # values in indexdef.COLUMNS order
_RUN_POSITIONS = tuple(TEXT_FIELDS.index(name) for name in RUN_SOURCES)


def timestamp(value: datetime | None) -> int:
    """OTRS datetimes are naive, in OTRSTimeZone (UTC by default since OTRS 6): read as UTC seconds."""
    return calendar.timegm(value.timetuple()) if value is not None else 0


def crc32(value: str | None) -> int:
    """The same number as MariaDB's ``CRC32(value)`` on a utf8mb4 column (reconcile compares the two)."""
    return zlib.crc32(value.encode("utf-8")) if value else 0


class DocumentSource:
    """Reads documents by article id range, article ids or ticket ids, for any schema generation.
    ``own_schema``: the database of otrs-ext's own tables (the tag links), None for the OTRS database."""

    def __init__(self, schema: OtrsSchema, own_schema: str | None = None) -> None:
        self.schema = schema
        tables = schema.tables
        self.ticket, self.state = tables.ticket, tables.ticket_state
        self.article = tables.article
        self.attachments = schema.articles.attachments
        self.ticket_tag: Table = own_table("ticket_tag", own_schema)
        self._select = self._build_select()

    def _build_select(self) -> Select:
        a, t, s = self.article, self.ticket, self.state
        # the layout knows where the MIME columns live and how OTRS 5 encoded channel and visibility
        source, m, channel, visible = self.schema.articles.meta_source()
        source = source.join(t, t.c.id == a.c.ticket_id).join(s, s.c.id == t.c.ticket_state_id)
        self.joined = source
        self.channel, self.visible = channel, visible
        # the column order is the order _document() unpacks
        return select(
            a.c.id, m.c.a_subject, m.c.a_body, m.c.a_from, m.c.a_to, m.c.a_cc, t.c.tn, t.c.title,
            a.c.ticket_id, t.c.queue_id, t.c.ticket_state_id, s.c.type_id, t.c.ticket_lock_id, t.c.user_id,
            t.c.responsible_user_id, t.c.ticket_priority_id, a.c.article_sender_type_id, channel, visible,
            t.c.create_time, t.c.change_time, a.c.create_time, t.c.customer_id, t.c.customer_user_id,
        ).select_from(source)

    # -- reads ---------------------------------------------------------------------------------------------
    def by_range(self, conn: Connection, low: int, high: int) -> list[Document]:
        """Documents of the articles with ``low <= id <= high`` (a primary key range scan)."""
        a = self.article
        rows = conn.execute(self._select.where(a.c.id.between(low, high)).order_by(a.c.id)).all()
        names = self._attachment_names(conn, self.attachments.c.article_id.between(low, high))
        tags = self.tag_ids(conn, {row[8] for row in rows})
        return [self._document(row, names, tags) for row in rows]

    def by_articles(self, conn: Connection, article_ids: Sequence[int]) -> list[Document]:
        if not article_ids:
            return []
        a = self.article
        rows = conn.execute(self._select.where(a.c.id.in_(list(article_ids))).order_by(a.c.id)).all()
        names = self._attachment_names(conn, self.attachments.c.article_id.in_(list(article_ids)))
        tags = self.tag_ids(conn, {row[8] for row in rows})
        return [self._document(row, names, tags) for row in rows]

    def by_tickets(self, conn: Connection, ticket_ids: Iterable[int]) -> list[Document]:
        ids = sorted(set(ticket_ids))
        if not ids:
            return []
        a = self.article
        rows = conn.execute(self._select.where(a.c.ticket_id.in_(ids)).order_by(a.c.id)).all()
        article_ids = [row[0] for row in rows]
        names = self._attachment_names(conn, self.attachments.c.article_id.in_(article_ids)) if article_ids else {}
        tags = self.tag_ids(conn, ids)
        return [self._document(row, names, tags) for row in rows]

    def tag_ids(self, conn: Connection, ticket_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
        """Each ticket's tag ids, ascending (tickets without tags are left out): one primary-key read."""
        ids = sorted(set(ticket_ids))
        if not ids:
            return {}
        link = self.ticket_tag
        found: dict[int, list[int]] = defaultdict(list)
        for ticket_id, tag_id in conn.execute(select(link.c.ticket_id, link.c.tag_id)
                                              .where(link.c.ticket_id.in_(ids)).order_by(link.c.ticket_id,
                                                                                         link.c.tag_id)):
            found[ticket_id].append(tag_id)
        return {ticket_id: tuple(tags) for ticket_id, tags in found.items()}

    def ticket_attributes(self, conn: Connection, ticket_id: int) -> dict[str, int | tuple[int, ...]] | None:
        """The UPDATE-able attributes of a ticket as they are now (its tags too); None when the ticket is gone."""
        t, s = self.ticket, self.state
        row = conn.execute(
            select(t.c.queue_id, t.c.ticket_state_id, s.c.type_id, t.c.ticket_lock_id, t.c.user_id,
                   t.c.responsible_user_id, t.c.ticket_priority_id, t.c.change_time)
            .select_from(t.join(s, s.c.id == t.c.ticket_state_id)).where(t.c.id == ticket_id)
        ).first()
        if row is None:
            return None
        names = ("queue_id", "state_id", "state_type_id", "lock_id", "owner_id", "responsible_id", "priority_id")
        attributes: dict[str, int | tuple[int, ...]] = dict(zip(names, (int(v or 0) for v in row[:7]), strict=True))
        attributes["ticket_changed"] = timestamp(row[7])
        # every later event on the ticket thereby also repairs tag ids the index missed
        attributes["tag_ids"] = self.tag_ids(conn, [ticket_id]).get(ticket_id, ())
        return attributes

    def article_ids_in(self, conn: Connection, low: int, high: int) -> list[int]:
        a = self.article
        return list(conn.execute(select(a.c.id).where(a.c.id.between(low, high)).order_by(a.c.id)).scalars())

    def changed_since(self, conn: Connection, low: int, high: int, since: datetime) -> list[int]:
        """Articles in [low, high] whose ticket or own row changed at or after ``since`` (OTRS sets change_time
        on every ticket update; a merge moves articles to a ticket it also updates)."""
        a, t = self.article, self.ticket
        return list(conn.execute(
            select(a.c.id).select_from(a.join(t, t.c.id == a.c.ticket_id))
            .where(a.c.id.between(low, high), (t.c.change_time >= since) | (a.c.change_time >= since))
            .order_by(a.c.id)
        ).scalars())

    # -- building ------------------------------------------------------------------------------------------
    def _attachment_names(self, conn: Connection, where: Any) -> dict[int, list[str]]:
        att = self.attachments
        names: dict[int, list[str]] = defaultdict(list)
        for article_id, filename in conn.execute(select(att.c.article_id, att.c.filename).where(where)
                                                 .order_by(att.c.article_id, att.c.id)):
            if filename and not _BODY_PART.match(filename):
                names[article_id].append(filename)
        return names

    @staticmethod
    def _document(row: Any, names: dict[int, list[str]], tags: dict[int, tuple[int, ...]]) -> Document:
        (article_id, subject, body, a_from, a_to, a_cc, tn, title, ticket_id, queue_id, state_id, state_type_id,
         lock_id, owner_id, responsible_id, priority_id, sender_type_id, channel_id, visible, ticket_created,
         ticket_changed, article_created, customer_id, customer_user) = row
        if isinstance(body, bytes):  # OTRS 5 keeps a_body as a BLOB-ish column on some installations
            body = body.decode("utf-8", "replace")
        texts = (subject or "", (body or "")[:BODY_LIMIT], a_from or "", a_to or "", a_cc or "",
                 " ".join(names.get(article_id, ())), tn or "", title or "")
        return (
            article_id, *texts, *(runs(texts[i]) for i in _RUN_POSITIONS),
            ticket_id, article_id, queue_id or 0, state_id or 0, state_type_id or 0, lock_id or 0, owner_id or 0,
            responsible_id or 0, priority_id or 0, sender_type_id or 0, int(channel_id or 0), int(visible or 0),
            timestamp(ticket_created), timestamp(ticket_changed), timestamp(article_created),
            customer_id or "", customer_user or "", tags.get(ticket_id, ()),
            crc32(customer_id), crc32(customer_user), crc32(title),
        )


def as_dict(document: Document) -> dict[str, Any]:
    """A document with its column names (tests, debugging)."""
    return dict(zip(COLUMNS, document, strict=True))

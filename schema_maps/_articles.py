"""Where an article's rows live: split over article + article_data_mime (OTRS 6+) or one row (OTRS 5).

Callers speak one vocabulary, a flat mapping with the OTRS 6 names (``article_sender_type_id``,
``channel`` by name, ``is_visible_for_customer``, the ``a_*`` MIME columns, create/change columns), and the
layout turns it into the rows of its generation. Reads get the same vocabulary back from ``select()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Connection, FromClause, Select, Table, case, literal, select

MIME_COLUMNS = (
    "a_from", "a_reply_to", "a_to", "a_cc", "a_bcc", "a_subject", "a_message_id", "a_message_id_md5",
    "a_in_reply_to", "a_references", "a_content_type", "a_body", "incoming_time", "content_path",
)
AUDIT_COLUMNS = ("create_time", "create_by", "change_time", "change_by")

Lookups = Mapping[str, Mapping[str, int]]  # uniform lookup table -> name -> id
# sends one INSERT of ``row`` into ``table`` and returns the new row's id (the caller's way of sending SQL)
InsertRow = Callable[[Connection, Table, dict[str, Any]], int]
# the name of the row with ``id`` in a lookup table: (uniform table name, id) -> name ("" when unknown)
NameOf = Callable[[str, int], str]
#: OTRS 6's standard channel ids, used for OTRS 5 whose article types folded channel and visibility together
STANDARD_CHANNEL_IDS = {"Email": 1, "Phone": 2, "Internal": 3, "Chat": 4}


class MetaSource(NamedTuple):
    """An article's meta and MIME columns for one wide SELECT (the search documents): ``joined`` holds
    ``article`` and ``mime`` (the table with the ``a_*`` columns), ``channel_id`` and ``visible`` are columns
    or expressions over it."""

    joined: FromClause
    mime: Table
    channel_id: ColumnElement[Any]
    visible: ColumnElement[Any]


class ArticleLayout(Protocol):
    attachments: Table  # one row per attachment, same columns in every generation
    plain: Table  # raw RFC 822 source of e-mails

    def bulk_rows(self, article: Mapping[str, Any], ids: Lookups) -> list[tuple[Table, dict[str, Any]]]:
        """Rows for an article whose ``id`` the caller chose (bulk loads into a quiet database)."""

    def insert(self, conn: Connection, article: Mapping[str, Any], ids: Lookups, *,
               run: InsertRow | None = None) -> int:
        """Insert one article the way OTRS does (database-assigned id); return the id. ``run`` sends each
        INSERT (default: SQLAlchemy's ``conn.execute``)."""

    def select(self) -> Select:
        """Every article with the uniform columns; filter with ``.where(...)`` on ``ticket_id`` / ``id``."""

    def meta_source(self) -> MetaSource:
        """The ``article`` table joined to what a wide SELECT of the uniform columns needs."""

    def decode(self, row: Mapping[str, Any], name_of: NameOf) -> dict[str, Any]:
        """``channel`` by name (and what else the generation encodes) of a raw ``article`` row as the binlog
        or a plain SELECT gives it; empty when the row lacks the columns."""


def _pick(article: Mapping[str, Any], names: tuple[str, ...], table: Table) -> dict[str, Any]:
    return {n: article[n] for n in names if n in article and n in table.c}


def _insert_row(conn: Connection, table: Table, row: dict[str, Any]) -> int:
    # the row as parameters of a plain INSERT: building ``.values(row)`` statements costs more than running them
    return int(conn.execute(table.insert(), row).inserted_primary_key[0])


class MimeArticleLayout:
    def __init__(self, tables: Mapping[str, Table]) -> None:
        self.meta = tables["article"]
        self.mime = tables["article_data_mime"]
        self.attachments = tables["article_data_mime_attachment"]
        self.plain = tables["article_data_mime_plain"]
        self.channels = tables["communication_channel"]

    def _meta_row(self, article: Mapping[str, Any], ids: Lookups) -> dict[str, Any]:
        row = {
            "ticket_id": article["ticket_id"],
            "article_sender_type_id": article["article_sender_type_id"],
            "communication_channel_id": ids["communication_channel"][article["channel"]],
            "is_visible_for_customer": int(bool(article["is_visible_for_customer"])),
            "search_index_needs_rebuild": article.get("search_index_needs_rebuild", 1),
            "insert_fingerprint": article.get("insert_fingerprint"),
            **_pick(article, AUDIT_COLUMNS, self.meta),
        }
        if "id" in article:
            row["id"] = article["id"]
        return row

    def _mime_row(self, article_id: int, article: Mapping[str, Any]) -> dict[str, Any]:
        return {"article_id": article_id, **_pick(article, MIME_COLUMNS + AUDIT_COLUMNS, self.mime)}

    def bulk_rows(self, article: Mapping[str, Any], ids: Lookups) -> list[tuple[Table, dict[str, Any]]]:
        return [(self.meta, self._meta_row(article, ids)), (self.mime, self._mime_row(article["id"], article))]

    def insert(self, conn: Connection, article: Mapping[str, Any], ids: Lookups, *,
               run: InsertRow | None = None) -> int:
        run = run or _insert_row
        article_id = run(conn, self.meta, self._meta_row(article, ids))
        run(conn, self.mime, self._mime_row(article_id, article))
        return article_id

    def select(self) -> Select:
        a, m, ch = self.meta, self.mime, self.channels
        return (
            select(
                a.c.id, a.c.ticket_id, a.c.article_sender_type_id, ch.c.name.label("channel"),
                a.c.is_visible_for_customer,
                *(m.c[n] for n in MIME_COLUMNS),
                *(a.c[n] for n in AUDIT_COLUMNS),
            )
            .select_from(a.join(m, m.c.article_id == a.c.id).join(ch, ch.c.id == a.c.communication_channel_id))
        )

    def meta_source(self) -> MetaSource:
        a, m = self.meta, self.mime
        return MetaSource(a.join(m, m.c.article_id == a.c.id), m, a.c.communication_channel_id,
                          a.c.is_visible_for_customer)

    def decode(self, row: Mapping[str, Any], name_of: NameOf) -> dict[str, Any]:
        if "communication_channel_id" not in row:
            return {}
        return {"channel": name_of("communication_channel", row["communication_channel_id"])}


# OTRS 5 encoded channel and customer visibility in one article type; OTRS 6's upgrade mapped them so. This is
# the one place that knows the mapping: the layout's writes and reads, the search documents (``meta_source``)
# and the tailer's raw rows (``decode``) all go through it.
_OTRS5_TYPES = {
    ("Email", True): "email-external", ("Email", False): "email-internal",
    ("Phone", True): "phone", ("Phone", False): "phone",
    ("Internal", True): "note-external", ("Internal", False): "note-internal",
    ("Chat", True): "chat-external", ("Chat", False): "chat-internal",
}
OTRS5_INVISIBLE = ("email-internal", "email-notification-int", "note-internal", "note-report", "chat-internal")
# article type name (a LIKE pattern) -> channel; every other type is an internal note
_OTRS5_CHANNELS = (("email-%", "Email"), ("phone", "Phone"), ("chat-%", "Chat"))
_OTRS5_OTHER_CHANNEL = "Internal"


def otrs5_channel(type_name: str) -> str:
    """The OTRS 6 channel of an OTRS 5 article type."""
    for pattern, channel in _OTRS5_CHANNELS:
        prefix = pattern.removesuffix("%")
        if (type_name.startswith(prefix) if prefix != pattern else type_name == pattern):
            return channel
    return _OTRS5_OTHER_CHANNEL


def otrs5_visible(type_name: str) -> int:
    """1 when OTRS 6 shows articles of this OTRS 5 type to the customer."""
    return int(type_name not in OTRS5_INVISIBLE)


def _otrs5_channel_sql(type_name: ColumnElement[Any], value: Callable[[str], Any]) -> ColumnElement[Any]:
    # otrs5_channel() in SQL; ``value`` turns a channel name into what the column holds (name or id)
    return case(
        *((type_name.like(p) if p.endswith("%") else type_name == p, literal(value(c))) for p, c in _OTRS5_CHANNELS),
        else_=literal(value(_OTRS5_OTHER_CHANNEL)),
    )


def _otrs5_visible_sql(type_name: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((type_name.in_(OTRS5_INVISIBLE), literal(0)), else_=literal(1))


class Otrs5ArticleLayout:
    def __init__(self, tables: Mapping[str, Table]) -> None:
        self.meta = tables["article"]
        self.types = tables["article_type"]
        self.attachments = tables["article_attachment"]
        self.plain = tables["article_plain"]

    def _row(self, article: Mapping[str, Any], ids: Lookups) -> dict[str, Any]:
        type_name = _OTRS5_TYPES[(article["channel"], bool(article["is_visible_for_customer"]))]
        row = {
            "ticket_id": article["ticket_id"],
            "article_type_id": ids["article_type"][type_name],
            "article_sender_type_id": article["article_sender_type_id"],
            "valid_id": 1,
            **_pick(article, MIME_COLUMNS + AUDIT_COLUMNS, self.meta),
        }
        row["a_body"] = row.get("a_body") or ""  # NOT NULL before OTRS 6
        if "id" in article:
            row["id"] = article["id"]
        return row

    def bulk_rows(self, article: Mapping[str, Any], ids: Lookups) -> list[tuple[Table, dict[str, Any]]]:
        return [(self.meta, self._row(article, ids))]

    def insert(self, conn: Connection, article: Mapping[str, Any], ids: Lookups, *,
               run: InsertRow | None = None) -> int:
        return (run or _insert_row)(conn, self.meta, self._row(article, ids))

    def select(self) -> Select:
        a, t = self.meta, self.types
        channel = _otrs5_channel_sql(t.c.name, str)
        visible = _otrs5_visible_sql(t.c.name)
        return select(
            a.c.id, a.c.ticket_id, a.c.article_sender_type_id, channel.label("channel"),
            visible.label("is_visible_for_customer"),
            *(a.c[n] if n in a.c else literal(None).label(n) for n in MIME_COLUMNS),
            *(a.c[n] for n in AUDIT_COLUMNS),
        ).select_from(a.join(t, t.c.id == a.c.article_type_id))

    def meta_source(self) -> MetaSource:
        a, t = self.meta, self.types
        return MetaSource(a.join(t, t.c.id == a.c.article_type_id), a,
                          _otrs5_channel_sql(t.c.name, STANDARD_CHANNEL_IDS.__getitem__), _otrs5_visible_sql(t.c.name))

    def decode(self, row: Mapping[str, Any], name_of: NameOf) -> dict[str, Any]:
        if "article_type_id" not in row:
            return {}
        kind = name_of("article_type", row["article_type_id"])
        return {"channel": otrs5_channel(kind), "is_visible_for_customer": otrs5_visible(kind)}

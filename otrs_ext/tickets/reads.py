"""Reading tickets the way the OTRS UI shows them: names instead of ids, articles with plain and HTML body,
attachments (numbered as OTRS numbers them), dynamic fields, flags and history, for agents and customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..errors import NotFound
from .history import render
from .permissions import Permissions
from .storage import AttachmentMeta, AttachmentStore


@dataclass(frozen=True)
class ArticleView:
    article_id: int
    sender_type: str
    channel: str
    visible_for_customer: bool
    from_: str
    to: str
    cc: str
    subject: str
    body: str
    body_html: str | None
    content_type: str
    message_id: str
    incoming_time: int
    created: datetime
    created_by: int
    attachments: list[AttachmentMeta] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    history_id: int
    history_type: str
    name: str
    text: str  # the sentence the OTRS UI renders
    article_id: int | None
    created: datetime
    created_by: int


@dataclass(frozen=True)
class TicketView:
    ticket_id: int
    tn: str
    title: str
    queue: str
    queue_id: int
    state: str
    state_type: str
    priority: str
    lock: str
    type: str
    owner_id: int
    owner: str
    responsible_id: int
    customer_id: str | None
    customer_user: str | None
    pending_until: int
    archived: bool
    created: datetime
    changed: datetime
    articles: list[ArticleView] = field(default_factory=list)
    dynamic_fields: dict[str, Any] = field(default_factory=dict)
    seen_by: list[int] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    created_by: int = 0
    changed_by: int = 0
    unlock_timeout: int = 0  # ticket.timeout: epoch seconds the unlock timer counts from
    responsible: str = ""  # the responsible agent's login


class TicketReader:
    def __init__(self, engine: Engine, schema: OtrsSchema, permissions: Permissions,
                 attachments: AttachmentStore) -> None:
        self.engine = engine
        self.schema = schema
        self.permissions = permissions
        self.attachment_reader = attachments

    def get(self, *, ticket_id: int | None = None, tn: str | None = None, user_id: int | None = None,
            customer_login: str | None = None, articles: bool = True, history: bool = False) -> TicketView:
        """One ticket as the agent ``user_id`` or the customer ``customer_login`` may see it.

        A ticket the caller may not see is reported as not found, so its existence does not leak.
        """
        t = self.schema.tables.ticket
        with self.engine.connect() as conn:
            query = select(t).where(t.c.id == ticket_id) if ticket_id is not None else select(t).where(t.c.tn == tn)
            row = conn.execute(query).mappings().first()
            if row is None or not self._may_see(conn, dict(row), user_id, customer_login):
                raise NotFound(f"ticket {ticket_id if ticket_id is not None else tn} not found")
            lookups = Lookups.load(conn, self.schema)
            view = self._ticket(conn, dict(row), lookups)
            if articles:
                view.articles.extend(self._articles(conn, row["id"], lookups, customer=customer_login is not None))
            if history and customer_login is None:
                view.history.extend(self._history(conn, row["id"], lookups))
        return view

    def attachment(self, article_id: int, file_id: int, *, user_id: int | None = None,
                   customer_login: str | None = None, ticket_id: int | None = None) -> tuple[AttachmentMeta, bytes]:
        """One attachment's content; ``ticket_id``, when given, must be the article's ticket."""
        for meta, content in self.attachments(article_id, user_id=user_id, customer_login=customer_login,
                                              ticket_id=ticket_id):
            if meta.file_id == file_id:
                return meta, content
        raise NotFound(f"attachment {file_id} of article {article_id} not found")

    def attachments(self, article_id: int, *, user_id: int | None = None, customer_login: str | None = None,
                    ticket_id: int | None = None) -> list[tuple[AttachmentMeta, bytes]]:
        """Every stored file of the article with its content (OTRS's HTML body ``file-2`` included)."""
        a = self.schema.tables.article
        with self.engine.connect() as conn:
            found = conn.execute(select(a.c.ticket_id).where(a.c.id == article_id)).first()
            if found is None or (ticket_id is not None and found[0] != ticket_id):
                raise NotFound(f"article {article_id} not found")
            ticket = conn.execute(select(self.schema.tables.ticket).where(
                self.schema.tables.ticket.c.id == found[0])).mappings().one()
            if not self._may_see(conn, dict(ticket), user_id, customer_login):
                raise NotFound(f"article {article_id} not found")
            article = conn.execute(self.schema.articles.select().where(a.c.id == article_id)).mappings().one()
            if customer_login is not None and not article["is_visible_for_customer"]:
                raise NotFound(f"article {article_id} not found")
            return self.attachment_reader.read(conn, article_id, article["content_path"])

    def _may_see(self, conn: Connection, ticket: dict[str, Any], user_id: int | None,
                 customer_login: str | None) -> bool:
        if customer_login is not None:
            return self.permissions.can_customer(conn, customer_login, ticket)
        if user_id is not None:
            return self.permissions.can_agent(conn, user_id, ticket, "ro")
        return True  # trusted internal callers (handlers, reconcilers)

    def _ticket(self, conn: Connection, row: dict[str, Any], lookups: Lookups) -> TicketView:
        names = {table: {i: n for n, i in lookups.names(table).items()}
                 for table in ("queue", "ticket_state", "ticket_priority", "ticket_lock_type", "ticket_type", "users")}
        flags = self.schema.tables.ticket_flag
        seen = [r[0] for r in conn.execute(select(flags.c.create_by).where(
            flags.c.ticket_id == row["id"], flags.c.ticket_key == "Seen").order_by(flags.c.create_by))]
        return TicketView(
            ticket_id=row["id"], tn=row["tn"], title=row["title"] or "", queue=names["queue"].get(row["queue_id"], ""),
            queue_id=row["queue_id"], state=names["ticket_state"].get(row["ticket_state_id"], ""),
            state_type=lookups.state_types.get(row["ticket_state_id"], ""),
            priority=names["ticket_priority"].get(row["ticket_priority_id"], ""),
            lock=names["ticket_lock_type"].get(row["ticket_lock_id"], ""),
            type=names["ticket_type"].get(row["type_id"], ""), owner_id=row["user_id"],
            owner=names["users"].get(row["user_id"], ""), responsible_id=row["responsible_user_id"],
            customer_id=row["customer_id"], customer_user=row["customer_user_id"], pending_until=row["until_time"],
            archived=bool(row["archive_flag"]), created=row["create_time"], changed=row["change_time"],
            dynamic_fields=self._dynamic_fields(conn, row["id"]), seen_by=seen, created_by=row["create_by"],
            changed_by=row["change_by"], unlock_timeout=row["timeout"] or 0,
            responsible=names["users"].get(row["responsible_user_id"], ""),
        )

    def _articles(self, conn: Connection, ticket_id: int, lookups: Lookups, *, customer: bool) -> list[ArticleView]:
        a = self.schema.tables.article
        query = self.schema.articles.select().where(a.c.ticket_id == ticket_id).order_by(a.c.id)
        senders = {i: n for n, i in lookups.names("article_sender_type").items()}
        views = []
        for art in conn.execute(query).mappings():
            if customer and not art["is_visible_for_customer"]:
                continue
            files = self.attachment_reader.read(conn, art["id"], art["content_path"])
            html = next((c for m, c in files if _is_html_body(m)), None)
            views.append(ArticleView(
                article_id=art["id"], sender_type=senders.get(art["article_sender_type_id"], ""),
                channel=art["channel"], visible_for_customer=bool(art["is_visible_for_customer"]),
                from_=art["a_from"] or "", to=art["a_to"] or "", cc=art["a_cc"] or "", subject=art["a_subject"] or "",
                body=art["a_body"] or "", body_html=html.decode("utf-8", "replace") if html is not None else None,
                content_type=art["a_content_type"] or "", message_id=art["a_message_id"] or "",
                incoming_time=art["incoming_time"], created=art["create_time"], created_by=art["create_by"],
                attachments=[m for m, _ in files if not _is_html_body(m)],
            ))
        return views

    def _dynamic_fields(self, conn: Connection, ticket_id: int) -> dict[str, Any]:
        df, dfv = self.schema.tables.dynamic_field, self.schema.tables.dynamic_field_value
        values: dict[str, Any] = {}
        rows = conn.execute(
            select(df.c.name, df.c.field_type, dfv.c.value_text, dfv.c.value_date, dfv.c.value_int)
            .join(dfv, dfv.c.field_id == df.c.id)
            .where(dfv.c.object_id == ticket_id, df.c.object_type == "Ticket").order_by(dfv.c.id)
        )
        for field_name, field_type, text_value, date_value, int_value in rows:
            value = date_value if field_type in ("Date", "DateTime") else (
                int_value if field_type == "Checkbox" else text_value)
            if field_type == "Multiselect":
                values.setdefault(field_name, []).append(value)
            else:
                values[field_name] = value
        return values

    def _history(self, conn: Connection, ticket_id: int, lookups: Lookups) -> list[HistoryEntry]:
        h = self.schema.tables.ticket_history
        types = {i: n for n, i in lookups.names("ticket_history_type").items()}
        return [
            HistoryEntry(history_id=r["id"], history_type=types.get(r["history_type_id"], ""), name=r["name"],
                         text=render(types.get(r["history_type_id"], ""), r["name"]), article_id=r["article_id"],
                         created=r["create_time"], created_by=r["create_by"])
            for r in conn.execute(select(h).where(h.c.ticket_id == ticket_id).order_by(h.c.id)).mappings()
        ]


def _is_html_body(meta: AttachmentMeta) -> bool:
    """OTRS's HTML body attachment: ``file-2`` as text/html, disposition '' in the database and 'inline' when
    read from ArticleStorageFS without a disposition file."""
    return (meta.filename == "file-2" and meta.content_type.lower().startswith("text/html")
            and meta.disposition in ("", "inline"))

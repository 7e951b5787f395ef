"""The tags a ticket should have, computed from what the database holds *now* (never from an event's values).

``FactsReader`` reads articles, the history rows OTRS wrote for them, the API's ``ticket_source`` rows and the
raw mails' headers, for one article or for a chunk of tickets in a few queries (not per ticket), through the
schema maps: the same code reads OTRS 5's one-table articles and OTRS 6+'s split ones. ``Deriver`` applies the
rules (``rules.TagRules``) to those facts and says which tags (``Wanted``) they give. The live handler, the
backfill and reconcile all derive here, so a replayed event, a backfill and a reconcile agree.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select, text

from schema_maps import OtrsSchema

from ..db.own_tables import own_table
from .facts import HEADER_BYTES, ArticleFacts
from .rules import TagRules

SOURCE, PARTICIPANT, NOTIFICATION = "source", "participant", "notification"
PARTS = frozenset({SOURCE, PARTICIPANT, NOTIFICATION})
#: the ``rule`` column of the links each part sets; notification links carry ``notification:<rule name>``
SOURCE_RULE, PARTICIPANT_RULE, NOTIFICATION_PREFIX = "source", "participant", "notification:"
# the uniform article columns the rules read
_ARTICLE_COLUMNS = ("id", "ticket_id", "channel", "is_visible_for_customer", "create_by", "a_from", "a_subject")


@dataclass(frozen=True)
class Wanted:
    """A tag a rule gives a ticket, and the article that made it."""

    kind: str
    name: str
    rule: str  # the link's ``rule`` column
    article_id: int | None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    colour: str | None = None

    @property
    def ref(self) -> tuple[str, str]:
        return self.kind, self.name


class FactsReader:
    """SQL for the facts of articles; every method takes the caller's connection and reads only."""

    def __init__(self, schema: OtrsSchema, own_schema: str | None = None) -> None:
        self.schema = schema
        tables = schema.tables
        self.article = tables.article
        base = schema.articles.select()
        columns = {c.name: c for c in base.selected_columns}
        self.sender, self.users = tables.article_sender_type, tables.users
        # no joins to the sender types and users: after a bulk load MariaDB drove such a join from the 3-row
        # sender type table and read every article of a type (1.8 s a chunk at 1M articles, 0.03 s without)
        self._articles = base.with_only_columns(*(columns[name] for name in (*_ARTICLE_COLUMNS,
                                                                             "article_sender_type_id")))
        self.history, self.history_type, self.queue = tables.ticket_history, tables.ticket_history_type, tables.queue
        self.plain = schema.articles.plain
        self.ticket_source = own_table("ticket_source", own_schema)

    def first_articles(self, conn: Connection, ticket_ids: Iterable[int]) -> dict[int, int]:
        """ticket id -> the id of its first article (tickets without articles are left out)."""
        ids = sorted(set(ticket_ids))
        if not ids:
            return {}
        a = self.article
        rows = conn.execute(select(a.c.ticket_id, func.min(a.c.id)).where(a.c.ticket_id.in_(ids))
                            .group_by(a.c.ticket_id))
        return {int(ticket_id): int(article_id) for ticket_id, article_id in rows}

    def articles(self, conn: Connection, where: ColumnElement[bool]) -> list[ArticleFacts]:
        """Articles matching ``where`` (over the ``article`` table), by id, without history and raw mail."""
        rows = conn.execute(self._articles.where(where).order_by(self.article.c.id)).mappings().all()
        if not rows:
            return []
        senders = dict(conn.execute(select(self.sender.c.id, self.sender.c.name)).all())
        user_ids = sorted({int(r["create_by"]) for r in rows if r["create_by"]})
        logins = dict(conn.execute(select(self.users.c.id, self.users.c.login)
                                   .where(self.users.c.id.in_(user_ids))).all()) if user_ids else {}
        return [ArticleFacts(article_id=int(r["id"]), ticket_id=int(r["ticket_id"]), channel=r["channel"] or "",
                             sender_type=senders.get(r["article_sender_type_id"]) or "",
                             visible_for_customer=bool(r["is_visible_for_customer"]),
                             create_by=int(r["create_by"] or 0), login=logins.get(r["create_by"]),
                             a_from=r["a_from"] or "", subject=r["a_subject"] or "")
                for r in rows]

    def by_ids(self, conn: Connection, article_ids: Collection[int]) -> list[ArticleFacts]:
        return self.articles(conn, self.article.c.id.in_(sorted(article_ids))) if article_ids else []

    def by_tickets(self, conn: Connection, ticket_ids: Collection[int]) -> list[ArticleFacts]:
        return self.articles(conn, self.article.c.ticket_id.in_(sorted(ticket_ids))) if ticket_ids else []

    def history_of(self, conn: Connection, article_ids: Collection[int]) -> dict[int, tuple[int, str, str, str | None]]:
        """article id -> (history id, type, name, queue) of the first history row naming it."""
        if not article_ids:
            return {}
        h, t, q = self.history, self.history_type, self.queue
        # the history rows alone, then the type and queue names: joined, MariaDB's estimates after a bulk load
        # drove the join from ticket_history_type and read every history row of a type (5.5 s a chunk of 10,000
        # articles at 1M articles, against 0.03 s through the article_id index)
        rows = conn.execute(select(h.c.id, h.c.article_id, h.c.history_type_id, h.c.name, h.c.queue_id)
                            .where(h.c.article_id.in_(sorted(article_ids)))).all()
        types = dict(conn.execute(select(t.c.id, t.c.name)).all()) if rows else {}
        queue_ids = sorted({r.queue_id for r in rows if r.queue_id is not None})
        queues = dict(conn.execute(select(q.c.id, q.c.name).where(q.c.id.in_(queue_ids))).all()) if queue_ids else {}
        found: dict[int, tuple[int, str, str, str | None]] = {}
        for history_id, article_id, type_id, name, queue_id in sorted(rows, key=lambda r: r.id):
            found.setdefault(int(article_id),
                             (int(history_id), types.get(type_id, ""), name or "", queues.get(queue_id)))
        return found

    def ticket_sources(self, conn: Connection, ticket_ids: Collection[int]) -> dict[int, str]:
        if not ticket_ids:
            return {}
        s = self.ticket_source
        rows = conn.execute(select(s.c.ticket_id, s.c.source).where(s.c.ticket_id.in_(sorted(ticket_ids))))
        return {int(ticket_id): source for ticket_id, source in rows}

    def raw_headers(self, conn: Connection, article_ids: Collection[int]) -> dict[int, bytes]:
        """article id -> the start of its raw mail (enough for the header block), for those that have one."""
        if not article_ids:
            return {}
        p = self.plain
        rows = conn.execute(select(p.c.article_id, func.substring(p.c.body, 1, HEADER_BYTES))
                            .where(p.c.article_id.in_(sorted(article_ids))).order_by(p.c.id))
        found: dict[int, bytes] = {}
        for article_id, body in rows:
            found.setdefault(int(article_id), _bytes(body))
        return found

    def raw_mail_state(self, conn: Connection, article_id: int) -> tuple[bool, int]:
        """(whether the article has its raw mail, its age in seconds by the database's clock)."""
        p, a = self.plain, self.article
        stored = select(p.c.id).where(p.c.article_id == article_id).limit(1).exists()
        row = conn.execute(select(stored, func.timestampdiff(text("SECOND"), a.c.create_time, func.now()))
                           .where(a.c.id == article_id)).first()
        return (True, 0) if row is None else (bool(row[0]), int(row[1] or 0))


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return str(value or "").encode("utf-8", "surrogateescape")


class Deriver:
    """The rules applied to the database's facts."""

    def __init__(self, schema: OtrsSchema, rules: TagRules, own_schema: str | None = None) -> None:
        self.rules = rules
        self.reader = FactsReader(schema, own_schema)
        self.articles_read = 0  # by ``for_tickets``, for the backfill's rate

    # --- one article (the live handler) -------------------------------------------------------------------
    def for_article(self, conn: Connection, ticket_id: int, article_id: int,
                    parts: Collection[str] = PARTS) -> tuple[list[Wanted], bool]:
        """What this article gives its ticket, and whether the ticket's source was decided (it is when the
        article is the ticket's first and its history row exists; the list then holds the source tag)."""
        first = self.reader.first_articles(conn, [ticket_id]).get(ticket_id)
        found = self.reader.by_ids(conn, {article_id} | ({first} if first else set()))
        facts = {f.article_id: f for f in found}
        article = facts.get(article_id)
        if article is None or article.ticket_id != ticket_id:
            return [], False  # gone (deleted, or merged away: the merge event carries on)
        wanted: list[Wanted] = []
        decided = False
        if SOURCE in parts and first == article_id:
            source, decided = self._source(conn, ticket_id, article, require_history=True)
            wanted.extend(source)
        others = set(parts) - {SOURCE}
        if others:
            completed = self._complete(conn, [article], history=bool(self._queue_rules()), parts=others)
            wanted.extend(self._article_tags(completed[0], others))
        return wanted, decided

    def source_of(self, conn: Connection, ticket_id: int, *, require_history: bool) -> tuple[list[Wanted], bool]:
        """The ticket's source tag from its first article as it is now (after a merge, the oldest one)."""
        first = self.reader.first_articles(conn, [ticket_id]).get(ticket_id)
        if first is None:
            return [], not require_history
        article = self.reader.by_ids(conn, [first])
        if not article:
            return [], False
        return self._source(conn, ticket_id, article[0], require_history=require_history)

    def _source(self, conn: Connection, ticket_id: int, first: ArticleFacts, *,
                require_history: bool) -> tuple[list[Wanted], bool]:
        history = self.reader.history_of(conn, [first.article_id]).get(first.article_id)
        if history is None and require_history:
            return [], False  # OTRS writes the history row after the article: its own event decides then
        first = _with_history(first, history)
        ticket_source = self.reader.ticket_sources(conn, [ticket_id]).get(ticket_id)
        return self._source_tag(first, ticket_source), True

    # --- many tickets (backfill, reconcile) ---------------------------------------------------------------
    def for_tickets(self, conn: Connection, ticket_ids: Collection[int],
                    parts: Collection[str] = PARTS) -> dict[int, list[Wanted]]:
        """ticket id -> the tags the rules give it, for a chunk of tickets in a few queries. Tickets whose first
        article has no history row get their source from the article alone (backfill and reconcile decide)."""
        wanted: dict[int, list[Wanted]] = {ticket_id: [] for ticket_id in ticket_ids}
        if not ticket_ids:
            return wanted
        articles = self.reader.by_tickets(conn, ticket_ids)
        self.articles_read += len(articles)
        by_ticket: dict[int, list[ArticleFacts]] = defaultdict(list)
        for article in articles:
            by_ticket[article.ticket_id].append(article)
        firsts = [items[0] for items in by_ticket.values()]
        others = set(parts) - {SOURCE}
        considered = [a for a in articles if self._considered(a, others)]
        history_for = {a.article_id for a in firsts} if SOURCE in parts else set()
        if self._queue_rules() and NOTIFICATION in others:
            history_for |= {a.article_id for a in considered if a.sender_type in self.rules.notification_senders()}
        history = self.reader.history_of(conn, history_for)
        raw = self.reader.raw_headers(conn, [a.article_id for a in considered
                                             if NOTIFICATION in others and self.rules.wants_raw_mail(a.sender_type)])
        sources = self.reader.ticket_sources(conn, by_ticket) if SOURCE in parts else {}
        for ticket_id, items in by_ticket.items():
            if SOURCE in parts:
                first = _with_history(items[0], history.get(items[0].article_id))
                wanted[ticket_id].extend(self._source_tag(first, sources.get(ticket_id)))
        seen: set[tuple[int, str, str]] = set()
        for article in considered:
            complete = dataclasses.replace(_with_history(article, history.get(article.article_id)),
                                           raw_headers=raw.get(article.article_id))
            for item in self._article_tags(complete, others):
                key = (article.ticket_id, item.kind, item.name.casefold())
                if key not in seen:  # the first article that gives a tag is the one the link names
                    seen.add(key)
                    wanted[article.ticket_id].append(item)
        return wanted

    # --- the rules --------------------------------------------------------------------------------------
    def _source_tag(self, first: ArticleFacts, ticket_source: str | None) -> list[Wanted]:
        tag = self.rules.source_tag(first, ticket_source)
        return [Wanted(SOURCE, tag, SOURCE_RULE, first.article_id)] if tag is not None else []

    def _article_tags(self, article: ArticleFacts, parts: Collection[str]) -> list[Wanted]:
        wanted: list[Wanted] = []
        if PARTICIPANT in parts:
            login = self.rules.participant_login(article)
            if login is not None:
                wanted.append(Wanted(PARTICIPANT, login, PARTICIPANT_RULE, article.article_id))
        if NOTIFICATION in parts:
            for rule in self.rules.notifications_for(article):
                wanted.append(Wanted(NOTIFICATION, rule.name, rule.rule, article.article_id, rule.labels,
                                     rule.colour))
        return wanted

    def _considered(self, article: ArticleFacts, parts: Collection[str]) -> bool:
        return (PARTICIPANT in parts and article.sender_type == "agent") or (
            NOTIFICATION in parts and article.sender_type in self.rules.notification_senders())

    def _queue_rules(self) -> bool:
        return any(rule.queues for rule in self.rules.notifications)

    def _complete(self, conn: Connection, articles: Sequence[ArticleFacts], *, history: bool,
                  parts: Collection[str]) -> list[ArticleFacts]:
        """``articles`` with their history row (when a rule needs the queue) and raw mail (when one reads
        headers)."""
        ids = [a.article_id for a in articles]
        rows = self.reader.history_of(conn, ids) if history else {}
        wanting = [a.article_id for a in articles
                   if NOTIFICATION in parts and self.rules.wants_raw_mail(a.sender_type)]
        raw = self.reader.raw_headers(conn, wanting)
        return [dataclasses.replace(_with_history(a, rows.get(a.article_id)), raw_headers=raw.get(a.article_id))
                for a in articles]

    def wants_raw_mail(self, article: ArticleFacts) -> bool:
        """True when notification rules would read this article's raw mail (an incoming e-mail)."""
        return article.channel == "Email" and self.rules.wants_raw_mail(article.sender_type)


def _with_history(article: ArticleFacts, history: tuple[int, str, str, str | None] | None) -> ArticleFacts:
    if history is None:
        return article
    history_id, kind, name, queue = history
    return dataclasses.replace(article, history_id=history_id, history_type=kind, history_name=name, queue=queue)

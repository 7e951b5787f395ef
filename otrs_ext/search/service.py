"""Full-text search over the ``articles`` RT index, as an agent or a customer user sees OTRS.

One request = a few SphinxQL statements on one connection (the hits, ``SHOW META``, one GROUP BY per facet)
plus two MariaDB reads for the page only (ticket/article rows, text for ``CALL SNIPPETS``). Sphinx 2.2 RT
indexes keep no field text and have no FACET, hence the separate GROUP BY queries; all of it is plain
SphinxQL that Manticore answers as well.

Permissions are part of the Sphinx query (queues with ``ro``, owner, responsible, watched tickets; a
customer's own/company tickets and only customer-visible articles), so totals and facets never count what
the viewer may not see. The page is then checked again against MariaDB with the ``Permissions`` clauses:
a CRC collision or an index that has not caught up with a queue move yet can only drop a hit, never leak one.
"""

from __future__ import annotations

import base64
import html
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
from sqlalchemy import Connection, Engine, and_, or_, select, true

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..errors import OtrsExtError, ValidationError
from ..tickets.permissions import VALID_ID, Permissions
from . import indexdef
from .client import SphinxQL
from .documents import crc32, timestamp
from .query import Query, parse

MAX_LIMIT = 100
MAX_DEPTH = 10_000  # offset + limit; Sphinx keeps max_matches rows in memory per query
SNIPPET_SOURCE_CHARS = 65_536  # longer bodies are cut before highlighting: snippets come from the start anyway
FACET_ROWS = 100
#: (queue, state) pairs a facet query keeps: enough for every pair of a large helpdesk
FACET_PAIRS = 20_000
FACET_WORKERS = 8
#: matches kept per query when grouping by ticket: Sphinx groups within this many, so fewer would undercount
GROUP_DEPTH = 1000
#: tickets an agent sees outside his queues (owner, responsible, watcher) listed by id; more use a computed OR
MAX_LISTED_TICKETS = 1000
LOOKUPS_TTL = 30.0

FacetRows = dict[str, list[tuple[int, int]]]  # facet name -> (id, count), largest first
SORTS = ("relevance", "recent")
GROUPINGS = ("ticket", "article")
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # separators for the index, so they never touch a match; HTML later


class SearchUnavailable(OtrsExtError):
    status = 503
    code = "search-unavailable"


def crc_variants(value: str | None) -> set[int]:
    """CRC32s to look a customer id / login up by. The index stores ``documents.crc32`` of the value exactly as
    the ticket row holds it (comparable with MariaDB's CRC32()), while OTRS compares case-insensitively: the
    value as given, lower- and upper-cased covers how OTRS itself copies ids onto tickets."""
    if not value:
        return set()
    return {crc32(v) for v in (value, value.lower(), value.upper())}


def to_epoch(value: datetime, timezone: str) -> int:
    """The index's seconds for a time: OTRS's naive ``OTRSTimeZone`` wall time read as UTC
    (``documents.timestamp``); an aware time is first converted to that wall time."""
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return timestamp(value)


@dataclass(frozen=True)
class Scope:
    """What a viewer may see, as SphinxQL: filters that must all hold, and grants of which one must hold."""

    where: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    agent_queues: frozenset[int] | None = None  # a restricted agent's ro queues, for the page's MariaDB re-check

    @property
    def unrestricted(self) -> bool:
        return not self.where and not self.any_of


@dataclass(frozen=True)
class SearchFilter:
    queues: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    state_types: tuple[str, ...] = ()
    owner_id: int | None = None
    customer_id: str | None = None
    customer_user: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    tag_ids: tuple[int, ...] = ()  # every tag must be on the ticket


@dataclass(frozen=True)
class Hit:
    ticket_id: int
    article_id: int
    tn: str
    title: str
    queue: str
    state: str
    state_type: str
    subject: str
    from_: str
    article_created: datetime | None
    ticket_changed: datetime | None
    score: int
    matched_articles: int
    snippet: str  # HTML-escaped text with <mark>...</mark> around the matches
    subject_snippet: str
    links: dict[str, str]


@dataclass(frozen=True)
class FacetCount:
    id: int
    name: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    next_cursor: str | None = None
    indexed_as_of: datetime | None = None
    query: str = ""  # the MATCH() string, for debugging and the CLI
    took_ms: float = 0.0


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("o") or not raw[1:].isdigit():
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError):
        raise ValidationError([("cursor", "is not a cursor this search returned")]) from None


class SearchService:
    def __init__(self, engine: Engine, schema: OtrsSchema, search: SphinxQL, permissions: Permissions, *,
                 otrs_base_url: str, timezone: str = "UTC",
                 freshness: Callable[[], datetime | None] | None = None) -> None:
        """``freshness`` returns when the index last caught up with the database (the indexer's record)."""
        self.engine = engine
        self.schema = schema
        self.sphinx = search
        self.permissions = permissions
        self.base_url = otrs_base_url.rstrip("/") + "/"
        self.timezone = timezone
        self.freshness = freshness
        self._cached_lookups: tuple[float, Lookups] | None = None
        # runs the facet query beside the main one; requests share it, each uses one worker briefly
        self._pool = ThreadPoolExecutor(max_workers=FACET_WORKERS, thread_name_prefix="search-facets")

    def search(self, text: str, flt: SearchFilter = SearchFilter(), *, user_id: int | None = None,
               customer_login: str | None = None, group: str = "ticket", sort: str = "relevance",
               limit: int = 20, cursor: str | None = None, facets: bool = True) -> SearchResult:
        """One page of hits for ``text`` as agent ``user_id`` or customer ``customer_login`` may see them."""
        started = time.perf_counter()
        query = parse(text)
        problems: list[tuple[str, str]] = []
        if not 1 <= limit <= MAX_LIMIT:
            problems.append(("limit", f"must be between 1 and {MAX_LIMIT}"))
        if sort not in SORTS:
            problems.append(("sort", f"must be one of {', '.join(SORTS)}"))
        if group not in GROUPINGS:
            problems.append(("group", f"must be one of {', '.join(GROUPINGS)}"))
        offset = decode_cursor(cursor) if cursor else 0
        if offset + limit > MAX_DEPTH:
            problems.append(("cursor", f"pages beyond the first {MAX_DEPTH} hits are not served; narrow the search"))
        if problems:
            raise ValidationError(problems)
        with self.engine.connect() as conn:
            lookups = self._lookups(conn, flt)
            scope = self._allowed(conn, user_id, customer_login)
            where = self._filters(flt, lookups)
            if scope is None:  # an invalid agent or customer, or one without any right: sees nothing
                return SearchResult(total=0, hits=[], facets={"queue": [], "state": []} if facets else {},
                                    indexed_as_of=self._indexed_as_of(), query=query.match)
            state_base = _state_base(lookups) if facets else None
            main, facet_sql = self._statements(scope, where, group, sort, offset, limit, state_base)
            # the facets run beside the page (searchd answers each on its own thread) and its MariaDB reads
            pending = self._pool.submit(self._facets, facet_sql, query.match, state_base) if facet_sql else None
            try:
                rows, total = self._main(main, query.match)
                more = len(rows) > limit
                hits = self._hits(conn, query, rows[:limit], lookups, user_id, customer_login, scope)
            finally:
                facet_rows = pending.result() if pending is not None else {}
        named = {"queue": _id_names(lookups.names("queue")), "state": _id_names(lookups.names("ticket_state"))}
        facet_counts = {name: [FacetCount(i, named[name].get(i, str(i)), n) for i, n in counts]
                        for name, counts in facet_rows.items()}
        return SearchResult(total=total, hits=hits, facets=facet_counts,
                            next_cursor=encode_cursor(offset + limit) if more else None,
                            indexed_as_of=self._indexed_as_of(), query=query.match,
                            took_ms=round((time.perf_counter() - started) * 1000, 1))

    def _lookups(self, conn: Connection, flt: SearchFilter) -> Lookups:
        """Lookup maps, reloaded every ``LOOKUPS_TTL`` seconds or when a filter names something unknown (a queue
        created a moment ago): loading them is a dozen queries, too many for every keystroke."""
        now = time.monotonic()
        cached = self._cached_lookups
        if cached is not None and now - cached[0] < LOOKUPS_TTL and _knows(cached[1], flt):
            return cached[1]
        lookups = Lookups.load(conn, self.schema)
        self._cached_lookups = (now, lookups)
        return lookups

    # --- permissions and filters as SphinxQL --------------------------------------------------------------
    def _allowed(self, conn: Connection, user_id: int | None, login: str | None) -> Scope | None:
        """What the viewer may see as SphinxQL conditions; None = nothing at all."""
        if login is not None:
            return self._customer_allowed(conn, login)
        if user_id is None:
            raise ValueError("a search needs a viewer: an agent id or a customer login")
        users = self.schema.tables.users
        if conn.execute(select(users.c.valid_id).where(users.c.id == user_id)).scalar() != VALID_ID:
            return None
        user_id = int(user_id)
        queues = self.permissions.agent_queue_ids(conn, user_id, "ro")
        q = self.schema.tables.queue
        if queues >= set(conn.execute(select(q.c.id)).scalars()):
            return Scope()  # every queue: owner, responsible and watcher rights add nothing
        # tickets outside those queues the agent sees as owner, responsible or watcher: usually none or a few,
        # and then a plain queue filter (or an id list) serves, cheaper than a computed OR over every match
        t = self.schema.tables.ticket
        personal = [t.c.user_id == user_id]
        if self.permissions.responsible_enabled:
            personal.append(t.c.responsible_user_id == user_id)
        if self.permissions.watcher_enabled:
            w = self.schema.tables.ticket_watcher
            personal.append(t.c.id.in_(select(w.c.ticket_id).where(w.c.user_id == user_id)))
        outside = select(t.c.id).where(or_(*personal))
        if queues:
            outside = outside.where(t.c.queue_id.not_in(sorted(queues)))
        extra = sorted(conn.execute(outside.limit(MAX_LISTED_TICKETS + 1)).scalars())
        in_queues = f"IN(queue_id,{_ints(sorted(queues))})"
        if len(extra) > MAX_LISTED_TICKETS:  # too many to list: the grants themselves, evaluated per match
            grants = [f"owner_id={user_id}", *([f"responsible_id={user_id}"] if self.permissions.responsible_enabled
                                               else []), *([in_queues] if queues else [])]
            if self.permissions.watcher_enabled:
                w = self.schema.tables.ticket_watcher
                watched = sorted(conn.execute(select(w.c.ticket_id).where(w.c.user_id == user_id)).scalars())
                if watched:
                    grants.append(f"IN(ticket_id,{_ints(watched)})")
            return Scope(any_of=tuple(grants), agent_queues=queues)
        if not extra:
            return Scope(where=(f"queue_id IN ({_ints(sorted(queues))})",), agent_queues=queues) if queues else None
        if not queues:
            return Scope(where=(f"ticket_id IN ({_ints(extra)})",), agent_queues=queues)
        return Scope(any_of=(in_queues, f"IN(ticket_id,{_ints(extra)})"), agent_queues=queues)

    def _customer_allowed(self, conn: Connection, login: str) -> Scope | None:
        cu = self.schema.tables.customer_user
        valid = conn.execute(select(cu.c.valid_id).where(cu.c.login == login)).scalar()
        if valid is not None and valid != VALID_ID:
            return None
        grants = [f"IN(customer_user_crc,{_ints(sorted(crc_variants(login)))})"]
        if self.permissions.customer_company_access:
            companies = sorted({c for cid in self.permissions.customer_company_ids(conn, login)
                                for c in crc_variants(cid)})
            if companies:
                grants.append(f"IN(customer_id_crc,{_ints(companies)})")
        q, g = self.schema.tables.queue, self.schema.tables.groups
        queues = sorted(r[0] for r in conn.execute(
            select(q.c.id).join(g, g.c.id == q.c.group_id).where(g.c.valid_id == VALID_ID)))
        if not queues:
            return None
        return Scope(where=("visible_for_customer=1", f"queue_id IN ({_ints(queues)})"), any_of=tuple(grants))

    def _filters(self, flt: SearchFilter, lookups: Lookups) -> list[str]:
        """WHERE conditions of the request's filters (ints only: nothing from the user reaches the SQL text)."""
        problems: list[tuple[str, str]] = []

        def ids(table: str, names: tuple[str, ...], path: str) -> list[int]:
            return lookups.ids_named(table, names, path, problems)

        where: list[str] = []
        for column, table, names, path in (("queue_id", "queue", flt.queues, "queue"),
                                           ("state_id", "ticket_state", flt.states, "state"),
                                           ("state_type_id", "ticket_state_type", flt.state_types, "state_type")):
            if names:
                found = ids(table, names, path)
                where.append(f"{column} IN ({_ints(found)})" if found else "id=0")
        if flt.owner_id is not None:
            where.append(f"owner_id={int(flt.owner_id)}")
        for column, value in (("customer_id_crc", flt.customer_id), ("customer_user_crc", flt.customer_user)):
            if value is not None:
                where.append(f"{column} IN ({_ints(sorted(crc_variants(value))) or 0})")
        if flt.created_from is not None:
            where.append(f"ticket_created>={to_epoch(flt.created_from, self.timezone)}")
        if flt.created_to is not None:
            where.append(f"ticket_created<{to_epoch(flt.created_to, self.timezone)}")
        for tag in flt.tag_ids:
            where.append(f"tag_ids={int(tag)}")  # on an MVA: "any value equals", ANDed per tag
        if problems:
            raise ValidationError(problems)
        return where

    # --- Sphinx ------------------------------------------------------------------------------------------------
    def _statements(self, scope: Scope, where: list[str], group: str, sort: str, offset: int, limit: int,
                    state_base: int | None) -> tuple[str, str | None]:
        """The page's SELECT, and the facets' (when ``state_base`` is given); MATCH() is their one parameter."""
        select_any = ""
        conditions = ["MATCH(%s)", *scope.where, *where]
        if scope.any_of:  # Sphinx 2.2's WHERE cannot OR filters: the OR is a computed column filtered on
            select_any = ", (" + " OR ".join(scope.any_of) + ") AS allowed"
            conditions.append("allowed=1")
        where_sql = " AND ".join(conditions)
        index = indexdef.INDEX_NAME
        # Article results sort on WEIGHT() and the document id, which need no attribute lookups: about three
        # times faster on 300,000 matches than an attribute or alias sort. Article ids grow with creation time.
        if group == "ticket":
            order = ("WEIGHT() DESC, ticket_changed DESC" if sort == "relevance"
                     else "ticket_changed DESC, ticket_id DESC")
            main = (f"SELECT id, ticket_id, WEIGHT() AS w, COUNT(*) AS matched{select_any} FROM {index} "
                    f"WHERE {where_sql} GROUP BY ticket_id WITHIN GROUP ORDER BY WEIGHT() DESC ORDER BY {order}")
            depth = max(GROUP_DEPTH, offset + limit + 1)  # grouping needs room: fewer rows undercount tickets
        else:
            order = "WEIGHT() DESC, id DESC" if sort == "relevance" else "id DESC"
            main = f"SELECT id, ticket_id, WEIGHT() AS w, 1 AS matched{select_any} FROM {index} WHERE {where_sql} " \
                   f"ORDER BY {order}"
            depth = offset + limit + 1
        main += f" LIMIT {int(offset)},{int(limit) + 1} OPTION ranker=proximity_bm25, max_matches={depth}"
        if state_base is None:
            return main, None
        counter = "COUNT(DISTINCT ticket_id)" if group == "ticket" else "COUNT(*)"
        # one GROUP BY over (queue, state) pairs gives both facets for the price of one
        facets = (f"SELECT queue_id*{state_base}+state_id AS pair, {counter} AS n{select_any} FROM {index} "
                  f"WHERE {where_sql} GROUP BY pair ORDER BY n DESC LIMIT {FACET_PAIRS} "
                  f"OPTION ranker=none, max_matches={FACET_PAIRS}")
        return main, facets

    def _main(self, sql: str, match: str) -> tuple[list[dict[str, Any]], int]:
        """The page's rows and the total number of hits."""
        with self._sphinx_errors(), self.sphinx.connection() as sx, sx.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(sql, (match,))
            rows = list(cur.fetchall())
            cur.execute("SHOW META")
            meta = {r["Variable_name"]: r["Value"] for r in cur.fetchall()}
        return rows, int(meta.get("total_found", 0))

    @contextmanager
    def _sphinx_errors(self) -> Iterator[None]:
        try:
            yield
        except pymysql.err.ProgrammingError as error:  # syntax the parser let through: still the user's query
            raise ValidationError([("q", f"the search engine cannot run this query: {_sphinx_message(error)}")]) \
                from None
        except pymysql.MySQLError as error:
            raise SearchUnavailable(f"the search index at {self.sphinx.url} is unavailable: "
                                    f"{_sphinx_message(error)}; check that searchd runs (otrs-ext doctor)") from None

    def _facets(self, sql: str, match: str, state_base: int) -> FacetRows:
        queues: dict[int, int] = defaultdict(int)
        states: dict[int, int] = defaultdict(int)
        with self._sphinx_errors(), self.sphinx.connection() as sx, sx.cursor() as cur:
            cur.execute(sql, (match,))
            for pair, count, *_ in cur.fetchall():
                queue_id, state_id = divmod(int(pair), state_base)
                queues[queue_id] += int(count)
                states[state_id] += int(count)
        return {name: sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_ROWS]
                for name, counts in (("queue", queues), ("state", states))}

    # --- the page from MariaDB ---------------------------------------------------------------------------
    def _hits(self, conn: Connection, query: Query, rows: list[dict[str, Any]], lookups: Lookups,
              user_id: int | None, login: str | None, scope: Scope) -> list[Hit]:
        if not rows:
            return []
        t = self.schema.tables.ticket
        ticket_ids = sorted({int(r["ticket_id"]) for r in rows})
        if login is not None:
            visible = self.permissions.customer_ticket_filter(conn, login)
        elif scope.unrestricted:  # a valid agent seeing every queue: nothing the index could leak
            visible = true()
        else:
            visible = self.permissions.agent_ticket_filter(conn, int(user_id or 0), "ro", queues=scope.agent_queues)
        tickets = {r["id"]: r for r in conn.execute(
            select(t).where(and_(t.c.id.in_(ticket_ids), visible))).mappings()}
        layout = self.schema.articles
        articles = {r["id"]: r for r in conn.execute(
            layout.select().where(layout.meta.c.id.in_([int(r["id"]) for r in rows]))).mappings()}
        kept = [r for r in rows if int(r["ticket_id"]) in tickets and int(r["id"]) in articles
                and (login is None or articles[int(r["id"])]["is_visible_for_customer"])]
        bodies = [(articles[int(r["id"])]["a_body"] or "")[:SNIPPET_SOURCE_CHARS] for r in kept]
        subjects = [articles[int(r["id"])]["a_subject"] or "" for r in kept]
        snippets = self._snippets([*bodies, *subjects], query.highlight)
        names = {table: _id_names(lookups.names(table)) for table in ("queue", "ticket_state")}
        hits = []
        for i, row in enumerate(kept):
            ticket, article = tickets[int(row["ticket_id"])], articles[int(row["id"])]
            hits.append(Hit(
                ticket_id=ticket["id"], article_id=article["id"], tn=ticket["tn"], title=ticket["title"] or "",
                queue=names["queue"].get(ticket["queue_id"], ""),
                state=names["ticket_state"].get(ticket["ticket_state_id"], ""),
                state_type=lookups.state_types.get(ticket["ticket_state_id"], ""),
                subject=article["a_subject"] or "", from_=article["a_from"] or "",
                article_created=article["create_time"], ticket_changed=ticket["change_time"],
                score=int(row["w"]), matched_articles=int(row["matched"]),
                snippet=snippets[i], subject_snippet=snippets[len(kept) + i],
                links=self._links(ticket["id"], ticket["tn"], article["id"], customer=login is not None),
            ))
        return hits

    def _snippets(self, texts: Sequence[str], highlight: str) -> list[str]:
        """``CALL SNIPPETS`` over the page's texts in one statement, as HTML with ``<mark>``."""
        if not texts:
            return []
        placeholders = ", ".join(["%s"] * len(texts))
        sql = (f"CALL SNIPPETS(({placeholders}), '{indexdef.INDEX_NAME}', %s, %s AS before_match, "
               "%s AS after_match, 240 AS limit, 8 AS around, 1 AS query_mode, ' … ' AS chunk_separator)")
        if len(texts) == 1:  # a one-element tuple is not a list for SphinxQL
            sql = sql.replace(f"(({placeholders})", "(%s", 1)
        try:
            with self.sphinx.connection() as sx, sx.cursor() as cur:
                cur.execute(sql, (*texts, highlight, MARK_OPEN, MARK_CLOSE))
                raw = [r[0] or "" for r in cur.fetchall()]
        except pymysql.MySQLError:
            # highlighting is a nicety: plain text beats failing the whole search
            raw = [t[:240] for t in texts]
        return [_marked(s) for s in raw]

    def _links(self, ticket_id: int, tn: str, article_id: int, *, customer: bool) -> dict[str, str]:
        if customer:
            otrs = f"{self.base_url}customer.pl?Action=CustomerTicketZoom;TicketNumber={tn}"
        else:
            otrs = f"{self.base_url}index.pl?Action=AgentTicketZoom;TicketID={ticket_id};ArticleID={article_id}"
        return {"otrs": otrs, "api": f"/api/v1/tickets/{ticket_id}"}

    def _indexed_as_of(self) -> datetime | None:
        if self.freshness is None:
            return None
        try:
            return self.freshness()
        except Exception:  # the freshness record is informative; a search must not fail over it
            return None


def _state_base(lookups: Lookups) -> int:
    """A multiplier that packs (queue id, state id) into one number: larger than every state id, with room for
    states created since the lookups were cached (OTRS has a few dozen)."""
    return max(4096, max(lookups.names("ticket_state").values(), default=0) + 1)


def _knows(lookups: Lookups, flt: SearchFilter) -> bool:
    """Whether every name the filter uses is in these (cached) lookups."""
    return all(name in lookups.names(table) for table, names in (("queue", flt.queues), ("ticket_state", flt.states),
                                                                ("ticket_state_type", flt.state_types))
               for name in names)


def _ints(values: Iterable[int]) -> str:
    return ",".join(str(int(v)) for v in values)


def _id_names(names: dict[str, int] | Any) -> dict[int, str]:
    return {ident: name for name, ident in names.items()}


def _marked(text: str) -> str:
    return html.escape(text, quote=False).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def _sphinx_message(error: pymysql.MySQLError) -> str:
    args = getattr(error, "args", ())
    message = str(args[1] if len(args) > 1 else error)
    return message.replace("\x00", "").strip()

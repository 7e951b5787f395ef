"""Full-text search over the ``articles`` RT index, as an agent or a customer user sees OTRS.

One request = a few SphinxQL statements (the hits and ``SHOW META``; beside them the exact ticket count and, when
asked for, one GROUP BY for the queue and state facets and one for the tag facet) plus three MariaDB reads for
the page only (ticket/article rows, text for ``CALL SNIPPETS``, the tickets' tags). Sphinx 2.2 RT indexes keep
no field text and have no FACET, hence the separate statements; all of it is plain SphinxQL that Manticore
answers as well.

Totals are exact. Per article, ``total`` is searchd's ``total_found``. Per ticket it is ``COUNT(DISTINCT
ticket_id)`` (which keeps every ticket id, across all RT chunks), run beside the page: a ``GROUP BY ticket_id``'s
``total_found`` is only an estimate once more tickets match than the GROUP BY keeps (Sphinx drops groups and
counts some twice when they come back, differently in each sort order). The page itself is folded from article
rows (``_ticket_rows``). ``counts()`` answers the exact total and the facets alone, for screens that show the
page first. Everything searchd answered is kept until the index changes (``cache``).

Permissions are part of the Sphinx query (queues with ``ro``, owner, responsible, watched tickets; a
customer's own/company tickets and only customer-visible articles), so totals and facets never count what
the viewer may not see. The page is then checked again against MariaDB with the ``Permissions`` clauses:
a CRC collision or an index that has not caught up with a queue move yet can only drop a hit, never leak one.

Tags (``otrs_ext.tags``) are the documents' ``tag_ids`` MVA: a filter on one is "any value equals", a
``GROUP BY tag_ids`` groups by each value, so the tag facet counts each ticket once under each of its tags
(within the same permission filters). The tags' names and colours, and each hit's tags, are read from MariaDB
through a ``TagReader``.
"""

from __future__ import annotations

import base64
import html
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pymysql
from sqlalchemy import Connection, Engine, and_, select, true

from schema_maps import OtrsSchema

from ..db.lookups import Lookups
from ..db.sphinxql import SphinxQL
from ..errors import OtrsExtError, ValidationError
from ..tickets.permissions import Permissions
from . import cache as search_cache
from . import indexdef
from .documents import crc32, timestamp
from .query import Query, parse

MAX_LIMIT = 100
MAX_DEPTH = 10_000  # offset + limit; Sphinx keeps max_matches rows in memory per query
SNIPPET_SOURCE_CHARS = 65_536  # longer bodies are cut before highlighting: snippets come from the start anyway
FACET_ROWS = 100
#: (queue, state) pairs a facet query keeps: enough for every pair of a large helpdesk
FACET_PAIRS = 20_000
#: statements run beside a page (total, queue/state facets, tag facet: three per request) for the requests at once
FACET_WORKERS = 12
#: tickets a GROUP BY page keeps (max_matches); the total comes from COUNT(DISTINCT), exact at any size
GROUP_DEPTH = 1000
#: ticket pages up to this deep are folded from article rows (``_ticket_rows``), deeper ones use GROUP BY
MAX_FOLDED_TICKETS = 250
#: article rows read per ticket wanted when folding: more than a ticket's usual matching articles
ROWS_PER_TICKET = 8
_TICKET_NUMBER = re.compile(r"[0-9A-Za-z]+")  # what a tn looks like as one keyword of the tn field
#: tickets an agent sees outside his queues (owner, responsible, watcher) listed by id; more use a computed OR
MAX_LISTED_TICKETS = 1000
LOOKUPS_TTL = 30.0

#: distinct tags a tag facet query keeps (max_matches): more than the tags of a large helpdesk
TAG_GROUPS = 10_000

FacetRows = dict[str, list[tuple[int, int]]]  # facet name -> (id, count), largest first
Seen = tuple[str, int] | None  # the index's fingerprint and searchd's uptime when a request began (cache)
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
    tag_any: tuple[tuple[int, ...], ...] = ()  # per group, one of its tags must be (a kind's tags)


class TagReader(Protocol):
    """Where tags are read from (``otrs_ext.tags.store.TagStore``): tags by id, and each ticket's links, whose
    ``tag`` has ``id``, ``ref``, ``kind``, ``name``, ``colour`` and ``label()``."""

    def get(self, conn: Connection, tag_ids: Iterable[int]) -> Mapping[int, Any]: ...

    def links(self, conn: Connection, ticket_ids: Iterable[int]) -> Mapping[int, Sequence[Any]]: ...


@dataclass(frozen=True)
class HitTag:
    """A tag on a hit's ticket."""

    id: int
    ref: str  # kind:name, what the tag filter takes
    kind: str
    name: str
    label: str
    colour: str | None


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
    tags: tuple[HitTag, ...] = ()


@dataclass(frozen=True)
class FacetCount:
    id: int
    name: str
    count: int


@dataclass(frozen=True)
class TagFacetCount:
    """A value of the tag facet: ``name`` is the ref the tag filter takes."""

    id: int
    name: str
    label: str
    colour: str | None
    count: int


Facets = dict[str, list[FacetCount] | list[TagFacetCount]]


@dataclass(frozen=True)
class SearchResult:
    total: int  # matching tickets (grouped by ticket) or articles, exact
    hits: list[Hit]
    facets: Facets = field(default_factory=dict)
    next_cursor: str | None = None
    indexed_as_of: datetime | None = None
    query: str = ""  # the MATCH() string, for debugging and the CLI
    took_ms: float = 0.0


@dataclass(frozen=True)
class SearchCounts:
    """The exact total and the facets of a search, without its page (``SearchService.counts``)."""

    total: int
    facets: Facets
    indexed_as_of: datetime | None = None
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
                 freshness: Callable[[], datetime | None] | None = None,
                 cache: search_cache.SearchCache | None = None, group_depth: int = GROUP_DEPTH,
                 tags: TagReader | None = None) -> None:
        """``freshness`` returns when the index last caught up with the database (the indexer's record).
        ``cache`` keeps what searchd answered (pages, totals, facets) until the index changes (none: always asked
        again); ``group_depth`` is the number of tickets a GROUP BY page keeps (deep pages; tests lower it).
        ``tags`` names the tag facet's values and gives each hit its tags (none: ids only, hits without tags)."""
        self.engine = engine
        self.tags = tags
        self.cache = cache
        self.group_depth = group_depth
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
        """One page of hits for ``text`` as agent ``user_id`` or customer ``customer_login`` may see them.

        ``facets``: also the counts by queue and state, a pass over every match that runs beside the page; a
        screen that shows the page first leaves them to ``counts()``."""
        started = time.perf_counter()
        query = parse(text)
        problems: list[tuple[str, str]] = []
        if not 1 <= limit <= MAX_LIMIT:
            problems.append(("limit", f"must be between 1 and {MAX_LIMIT}"))
        if sort not in SORTS:
            problems.append(("sort", f"must be one of {', '.join(SORTS)}"))
        _check_group(group, problems)
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
                return SearchResult(total=0, hits=[], facets=_no_facets() if facets else {},
                                    indexed_as_of=self._indexed_as_of(), query=query.match)
            state_base = _state_base(lookups) if facets else None
            main, facet_sql = self._statements(scope, where, group, sort, offset, limit, state_base)
            # the counts run beside the page (searchd answers each statement on its own thread) and its MariaDB reads
            seen = self._fingerprint()
            pending_facets = (self._pool.submit(self._facets, facet_sql, query.match, state_base, seen)
                              if facet_sql else None)
            pending_tags = (self._pool.submit(self._tag_facet, self._tag_statement(scope, where, group), query.match,
                                              seen) if facets and customer_login is None else None)
            pending_total = (self._pool.submit(self._count, self._count_statement(scope, where, group), query.match,
                                               seen) if group == "ticket" else None)
            try:
                if group == "ticket":
                    rows = self._ticket_rows(conn, scope, where, sort, offset, limit, query, seen)
                    total = 0  # from pending_total below
                else:
                    rows, total = self._main(main, query.match, seen)
                more = len(rows) > limit
                hits = self._hits(conn, query, rows[:limit], lookups, user_id, customer_login, scope)
            finally:
                facet_rows = pending_facets.result() if pending_facets is not None else {}
                if pending_tags is not None:
                    facet_rows["tag"] = pending_tags.result()
                elif facets:
                    facet_rows["tag"] = []
                if pending_total is not None:
                    total = pending_total.result()
            named = self._named(conn, facet_rows, lookups)
        return SearchResult(total=total, hits=hits, facets=named,
                            next_cursor=encode_cursor(offset + limit) if more else None,
                            indexed_as_of=self._indexed_as_of(), query=query.match,
                            took_ms=round((time.perf_counter() - started) * 1000, 1))

    def counts(self, text: str, flt: SearchFilter = SearchFilter(), *, user_id: int | None = None,
               customer_login: str | None = None, group: str = "ticket") -> SearchCounts:
        """The exact total (tickets or articles, by ``group``) and the facets of a search, without its page: what a
        screen loads after showing the page. Cached until the index changes, like the counts of ``search``."""
        started = time.perf_counter()
        query = parse(text)
        problems: list[tuple[str, str]] = []
        _check_group(group, problems)
        if problems:
            raise ValidationError(problems)
        with self.engine.connect() as conn:
            lookups = self._lookups(conn, flt)
            scope = self._allowed(conn, user_id, customer_login)
            where = self._filters(flt, lookups)
        if scope is None:
            return SearchCounts(total=0, facets=_no_facets(), indexed_as_of=self._indexed_as_of())
        state_base = _state_base(lookups)
        _, facet_sql = self._statements(scope, where, group, "relevance", 0, 1, state_base)
        assert facet_sql is not None
        seen = self._fingerprint()
        pending = self._pool.submit(self._facets, facet_sql, query.match, state_base, seen)
        pending_tags = (self._pool.submit(self._tag_facet, self._tag_statement(scope, where, group), query.match, seen)
                        if customer_login is None else None)
        try:
            total = self._count(self._count_statement(scope, where, group), query.match, seen)
        finally:
            facet_rows = pending.result()
            facet_rows["tag"] = pending_tags.result() if pending_tags is not None else []
        return SearchCounts(total=total, facets=self._named(None, facet_rows, lookups),
                            indexed_as_of=self._indexed_as_of(),
                            took_ms=round((time.perf_counter() - started) * 1000, 1))

    def _named(self, conn: Connection | None, facet_rows: FacetRows, lookups: Lookups) -> Facets:
        """Facet rows with their names; the tags' from MariaDB (on ``conn``, or a connection taken only then)."""
        named = {"queue": _id_names(lookups.names("queue")), "state": _id_names(lookups.names("ticket_state"))}
        facets: Facets = {name: [FacetCount(i, named[name].get(i, str(i)), n) for i, n in counts]
                          for name, counts in facet_rows.items() if name != "tag"}
        if "tag" in facet_rows:
            tag_rows = facet_rows["tag"]
            tags: Mapping[int, Any] = {}
            if self.tags is not None and tag_rows:
                if conn is None:
                    with self.engine.connect() as own:
                        tags = self.tags.get(own, [i for i, _ in tag_rows])
                else:
                    tags = self.tags.get(conn, [i for i, _ in tag_rows])
            facets["tag"] = [_tag_count(i, n, tags.get(i)) for i, n in tag_rows]
        return facets

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
        """What the viewer may see as SphinxQL conditions; None = nothing at all. Who may see what is decided
        by ``Permissions`` (``agent_read_scope``, ``customer_read_scope``); this only writes it as filters."""
        if login is not None:
            return self._customer_allowed(conn, login)
        if user_id is None:
            raise ValueError("a search needs a viewer: an agent id or a customer login")
        user_id = int(user_id)
        reach = self.permissions.agent_read_scope(conn, user_id, listed=MAX_LISTED_TICKETS)
        if reach is None:
            return None
        if reach.every_queue:
            return Scope()
        # the tickets outside his queues are usually none or a few: then a plain queue filter (or an id list)
        # serves, cheaper than a computed OR over every match
        queues = reach.queues
        in_queues = f"IN(queue_id,{_ints(sorted(queues))})"
        if reach.other_tickets is None:  # too many to list: the grants themselves, evaluated per match
            grants = [f"owner_id={user_id}", *([f"responsible_id={user_id}"] if reach.responsible else []),
                      *([in_queues] if queues else [])]
            if reach.watched:
                grants.append(f"IN(ticket_id,{_ints(reach.watched)})")
            return Scope(any_of=tuple(grants), agent_queues=queues)
        extra = reach.other_tickets
        if not extra:
            return Scope(where=(f"queue_id IN ({_ints(sorted(queues))})",), agent_queues=queues) if queues else None
        if not queues:
            return Scope(where=(f"ticket_id IN ({_ints(extra)})",), agent_queues=queues)
        return Scope(any_of=(in_queues, f"IN(ticket_id,{_ints(extra)})"), agent_queues=queues)

    def _customer_allowed(self, conn: Connection, login: str) -> Scope | None:
        reach = self.permissions.customer_read_scope(conn, login)
        if reach is None:
            return None
        # the index holds CRC32s of the ids: every spelling OTRS's case-insensitive comparison accepts
        grants = [f"IN(customer_user_crc,{_ints(sorted(crc_variants(login)))})"]
        companies = sorted({c for cid in reach.company_ids for c in crc_variants(cid)})
        if companies:
            grants.append(f"IN(customer_id_crc,{_ints(companies)})")
        return Scope(where=("visible_for_customer=1", f"queue_id IN ({_ints(reach.queues)})"), any_of=tuple(grants))

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
        for group in flt.tag_any:  # on an MVA: any value in the list
            where.append(f"tag_ids IN ({_ints(sorted(set(group)))})" if group else "id=0")
        if problems:
            raise ValidationError(problems)
        return where

    # --- Sphinx ------------------------------------------------------------------------------------------------
    def _statements(self, scope: Scope, where: list[str], group: str, sort: str, offset: int, limit: int,
                    state_base: int | None) -> tuple[str, str | None]:
        """The page's SELECT (grouped by ticket: the GROUP BY of ``_ticket_rows``' deep pages), and the facets'
        (when ``state_base`` is given); MATCH() is their one parameter."""
        select_any, where_sql = _where(scope, where)
        index = indexdef.INDEX_NAME
        if group == "ticket":
            # the best article of each ticket, the newest of equals; tickets by theirs (or by change time)
            order = "WEIGHT() DESC, id DESC" if sort == "relevance" else "ticket_changed DESC, ticket_id DESC"
            main = (f"SELECT id, ticket_id, WEIGHT() AS w, COUNT(*) AS matched{select_any} FROM {index} "
                    f"WHERE {where_sql} GROUP BY ticket_id WITHIN GROUP ORDER BY WEIGHT() DESC, id DESC "
                    f"ORDER BY {order} LIMIT {int(offset)},{int(limit) + 1} OPTION ranker=proximity_bm25, "
                    f"max_matches={max(self.group_depth, offset + limit + 1)}")
        else:
            main = self._article_rows(select_any, where_sql, sort, offset, limit + 1)
        if state_base is None:
            return main, None
        counter = "COUNT(DISTINCT ticket_id)" if group == "ticket" else "COUNT(*)"
        # one GROUP BY over (queue, state) pairs gives both facets for the price of one
        facets = (f"SELECT queue_id*{state_base}+state_id AS pair, {counter} AS n{select_any} FROM {index} "
                  f"WHERE {where_sql} GROUP BY pair ORDER BY n DESC LIMIT {FACET_PAIRS} "
                  f"OPTION ranker=none, max_matches={FACET_PAIRS}")
        return main, facets

    @staticmethod
    def _article_rows(select_any: str, where_sql: str, sort: str, offset: int, count: int, *,
                      by_ticket: bool = False) -> str:
        """Matching articles in page order. Sorting on WEIGHT() and the document id needs no attribute lookups:
        about three times faster on 300,000 matches than an attribute sort. Article ids grow with creation time.
        ``by_ticket``: in the order of the tickets' pages (``_ticket_rows``), each ticket's best article first."""
        if by_ticket:
            order = "WEIGHT() DESC, id DESC" if sort == "relevance" else \
                "ticket_changed DESC, ticket_id DESC, WEIGHT() DESC, id DESC"
        else:
            order = "WEIGHT() DESC, id DESC" if sort == "relevance" else "id DESC"
        return (f"SELECT id, ticket_id, WEIGHT() AS w, 1 AS matched{select_any} FROM {indexdef.INDEX_NAME} "
                f"WHERE {where_sql} ORDER BY {order} LIMIT {int(offset)},{int(count)} "
                f"OPTION ranker=proximity_bm25, max_matches={int(offset) + int(count)}")

    def _ticket_rows(self, conn: Connection, scope: Scope, where: list[str], sort: str, offset: int, limit: int,
                     query: Query, seen: Seen) -> list[dict[str, Any]]:
        """Up to ``limit + 1`` tickets from ``offset`` on, each as its best article's row with ``matched``.

        Sphinx's ``GROUP BY ticket_id`` reads every match's ticket id (an attribute lookup per match: 180 ms for a
        word in 990,000 of 1M articles). The first pages come instead from the articles in page order, which sort
        on the weight and the document id alone (60 ms), folded to their tickets here: a ticket's first article
        in that order is its best one, and the tickets appear in the order of those. The matching articles per
        ticket are then counted among the page's tickets only (``_matched``). Deep pages, and tickets with
        so many matching articles that the rows do not reach far enough, take the GROUP BY (whose per-ticket
        COUNT(*) is counted again the same way: past ``group_depth`` tickets it misses articles too)."""
        wanted = offset + limit + 1
        select_any, where_sql = _where(scope, where)
        if wanted <= MAX_FOLDED_TICKETS:
            count = wanted * ROWS_PER_TICKET
            rows, articles = self._main(self._article_rows(select_any, where_sql, sort, 0, count, by_ticket=True),
                                        query.match, seen)
            best: dict[int, dict[str, Any]] = {}
            matched: dict[int, int] = defaultdict(int)
            for row in rows:
                ticket_id = int(row["ticket_id"])
                best.setdefault(ticket_id, row)
                matched[ticket_id] += 1
            complete = articles <= len(rows)  # every matching article was read: their counts are the counts
            if complete or len(best) >= wanted:
                page = [dict(row) for row in list(best.values())[offset:wanted]]
                counts = matched if complete else self._matched(conn, select_any, where_sql, query, page, seen)
                for row in page:
                    row["matched"] = max(counts.get(int(row["ticket_id"]), 0), matched[int(row["ticket_id"])])
                return page
        main, _ = self._statements(scope, where, "ticket", sort, offset, limit, None)
        page = [dict(row) for row in self._main(main, query.match, seen)[0]]
        # the GROUP BY's own COUNT(*) misses the articles a ticket had before Sphinx dropped and re-met its group
        counts = self._matched(conn, select_any, where_sql, query, page, seen)
        for row in page:
            row["matched"] = max(counts.get(int(row["ticket_id"]), 0), int(row["matched"]))
        return page

    def _matched(self, conn: Connection, select_any: str, where_sql: str, query: Query, page: list[dict[str, Any]],
                 seen: Seen) -> dict[int, int]:
        """Matching articles per ticket of the page. The search is narrowed to the tickets in the full text, by
        their numbers in the ``tn`` field: the few articles of 20 tickets are found through the index's own
        lists (a few ms) where an attribute filter on ticket_id would read every match's ticket id."""
        if not page:
            return {}
        t = self.schema.tables.ticket
        numbers = [tn for tn in conn.execute(select(t.c.tn).where(t.c.id.in_([int(r["ticket_id"]) for r in page])))
                   .scalars() if tn and _TICKET_NUMBER.fullmatch(tn)]
        if not numbers:
            return {}
        match = f"({query.match}) (@tn {' | '.join('=' + tn.lower() for tn in numbers)})"
        sql = (f"SELECT ticket_id, COUNT(*) AS n{select_any} FROM {indexdef.INDEX_NAME} WHERE {where_sql} "
               f"GROUP BY ticket_id LIMIT {len(page) * 2} OPTION ranker=none, max_matches={len(page) * 2}")

        def run(cur: Any) -> list[list[int]]:
            cur.execute(sql, (match,))
            return [[int(row[0]), int(row[1])] for row in cur.fetchall()]

        return {ticket_id: n for ticket_id, n in self._cached(sql, match, run, seen)}

    @staticmethod
    def _count_statement(scope: Scope, where: list[str], group: str) -> str:
        """The exact number of matching tickets (or articles): an implicit group, so nothing is ever dropped."""
        select_any, where_sql = _where(scope, where)
        counter = "COUNT(DISTINCT ticket_id)" if group == "ticket" else "COUNT(*)"
        return f"SELECT {counter} AS n{select_any} FROM {indexdef.INDEX_NAME} WHERE {where_sql} OPTION ranker=none"

    @staticmethod
    def _tag_statement(scope: Scope, where: list[str], group: str) -> str:
        """The tag facet: a GROUP BY on the MVA groups by each of its values, so a ticket counts under every tag it
        carries, once (COUNT(DISTINCT)); documents without tags form no group."""
        select_any, where_sql = _where(scope, where)
        counter = "COUNT(DISTINCT ticket_id)" if group == "ticket" else "COUNT(*)"
        return (f"SELECT GROUPBY() AS tag, {counter} AS n{select_any} FROM {indexdef.INDEX_NAME} WHERE {where_sql} "
                f"GROUP BY tag_ids ORDER BY n DESC, tag ASC LIMIT {FACET_ROWS} "
                f"OPTION ranker=none, max_matches={TAG_GROUPS}")

    def _tag_facet(self, sql: str, match: str, seen: Seen = None) -> list[tuple[int, int]]:
        def run(cur: Any) -> list[list[int]]:
            cur.execute(sql, (match,))
            return [[int(row[0]), int(row[1])] for row in cur.fetchall()]

        return [(tag, count) for tag, count in self._cached(sql, match, run, seen)]

    def _main(self, sql: str, match: str, seen: Seen = None) -> tuple[list[dict[str, Any]], int]:
        """The page's rows and the total number of hits."""
        def run(cur: Any) -> tuple[list[dict[str, Any]], int]:
            cur.execute(sql, (match,))
            names = [column[0] for column in cur.description]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            cur.execute("SHOW META")
            meta = {str(row[0]): row[1] for row in cur.fetchall()}
            return rows, int(meta.get("total_found", 0))

        rows, total = self._cached(sql, match, run, seen)
        return rows, int(total)

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

    def _fingerprint(self) -> Seen:
        """The index's state as the cache knows it (``cache.index_fingerprint``), once per request."""
        if self.cache is None:
            return None
        with self._sphinx_errors(), self.sphinx.connection() as sx, sx.cursor() as cur:
            return search_cache.index_fingerprint(cur, indexdef.INDEX_NAME)

    def _cached(self, sql: str, match: str, compute: Callable[[Any], Any], seen: Seen) -> Any:
        """``compute(cursor)`` for this statement, or what it gave on the same index content before (``cache``):
        ``seen`` is the index's fingerprint when the request began, None without a cache."""
        with self._sphinx_errors(), self.sphinx.connection() as sx, sx.cursor() as cur:
            if seen is None or self.cache is None:
                return compute(cur)
            key = search_cache.cache_key(seen[0], sql, match)
            found = search_cache.lookup(self.cache, key, seen[1])
            if found is not None:
                return found
            began = time.perf_counter()
            value = compute(cur)
            # only what was worth keeping (asking again is as quick), and not when the index changed meanwhile
            if (time.perf_counter() - began) * 1000 >= search_cache.CACHE_MIN_MS and \
                    search_cache.index_fingerprint(cur, indexdef.INDEX_NAME)[0] == seen[0]:
                search_cache.store(self.cache, key, seen[1], value)
            return value

    def _count(self, sql: str, match: str, seen: Seen = None) -> int:
        def run(cur: Any) -> int:
            cur.execute(sql, (match,))
            rows = cur.fetchall()
            return int(rows[0][0]) if rows else 0  # no match at all: no group, no row

        return int(self._cached(sql, match, run, seen))

    def _facets(self, sql: str, match: str, state_base: int, seen: Seen = None) -> FacetRows:
        def run(cur: Any) -> list[list[int]]:
            cur.execute(sql, (match,))
            return [[int(row[0]), int(row[1])] for row in cur.fetchall()]

        queues: dict[int, int] = defaultdict(int)
        states: dict[int, int] = defaultdict(int)
        for pair, count in self._cached(sql, match, run, seen):
            queue_id, state_id = divmod(pair, state_base)
            queues[queue_id] += count
            states[state_id] += count
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
        # tags are the agents' classification (participant logins, notification rules): customers see none
        links = (self.tags.links(conn, [int(r["ticket_id"]) for r in kept])
                 if self.tags is not None and kept and login is None else {})
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
                tags=tuple(_hit_tag(link.tag) for link in links.get(ticket["id"], ())),
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
        except Exception:  # noqa: BLE001 - the freshness record is informative; a search must not fail over it
            return None


def _where(scope: Scope, where: list[str]) -> tuple[str, str]:
    """(extra SELECT column, WHERE clause) of a search: MATCH(), the viewer's scope and the filters."""
    select_any = ""
    conditions = ["MATCH(%s)", *scope.where, *where]
    if scope.any_of:  # Sphinx 2.2's WHERE cannot OR filters: the OR is a computed column filtered on
        select_any = ", (" + " OR ".join(scope.any_of) + ") AS allowed"
        conditions.append("allowed=1")
    return select_any, " AND ".join(conditions)


def _no_facets() -> Facets:
    """The facets of a viewer who may see nothing."""
    return {"queue": [], "state": [], "tag": []}


def _hit_tag(tag: Any) -> HitTag:
    return HitTag(id=int(tag.id), ref=tag.ref, kind=tag.kind, name=tag.name, label=tag.label(), colour=tag.colour)


def _tag_count(tag_id: int, count: int, tag: Any | None) -> TagFacetCount:
    if tag is None:  # no reader, or removed since it was indexed: the id is all there is
        return TagFacetCount(tag_id, str(tag_id), str(tag_id), None, count)
    return TagFacetCount(tag_id, tag.ref, tag.label(), tag.colour, count)


def _check_group(group: str, problems: list[tuple[str, str]]) -> None:
    if group not in GROUPINGS:
        problems.append(("group", f"must be one of {', '.join(GROUPINGS)}"))


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

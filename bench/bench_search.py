"""Benchmark search: otrs-ext (Sphinx RT) against OTRS's ``LIKE '%...%'`` and InnoDB FULLTEXT, on one query set.

    .venv/bin/python bench/bench_search.py --articles 50000          # quick check (~1 min)
    .venv/bin/python bench/bench_search.py                           # 1,000,000 articles (~10 min)
    .venv/bin/python bench/bench_search.py --corpus frequent         # the frequent-word corpus (~25 min)

Starts a private mariadbd (ROW binlog), searchd and redis-server in a temp dir, seeds a Znuny 7.1 helpdesk with
``run_seed`` (``--articles`` / 5 tickets, 5 articles each on average; ``--corpus frequent``: the same tickets
with ``bench/frequent_corpus.py``'s text, words in 57-99 % of all articles and mail dense in domains and
e-mails, and its own query set), adds an agent with ``rw`` on every group, then:

1. reindex throughput: ``otrs_ext.search.reindex.reindex`` into the empty index (articles/s);
2. commit-to-searchable latency: the binlog tailer runs with the ``search`` handler while ``--probes`` articles
   are added OTRS-style (``TicketService.add_article``: article, MIME data, history in one transaction), each
   with a unique word; the time from the commit until ``SearchService`` finds it (p50/p99);
3. FULLTEXT(a_subject, a_body) is added to ``article_data_mime`` of this private database (timed);
4. one query set (single words frequent and rare, Russian morphology, AND/OR/NOT, phrases, prefixes, domains,
   e-mails, a queue filter, sorted by recency) through (a) ``SearchService.search`` as that agent, the whole
   request with Sphinx and MariaDB reads, snippets included: "otrs-ext" = the page of 20 article hits without
   facets (the API's ``facets=false``), "otrs-ext tickets" = the same grouped by ticket (the agent screen's
   request, with the exact ticket total), "counts" = ``SearchService.counts``
   grouped by ticket (the exact ticket total and both facets: what the screen fetches after the page),
   "ext+facets" / "tkt+facets" = the article / ticket page with facets in the same request (the API default;
   what "otrs-ext" / "otrs-ext tickets" measured before), all of these with the cache switched off, i.e. every
   repetition answered afresh as on a changed index; "cached" / "cached tickets" = "ext+facets" / "otrs-ext
   tickets" with the cache on, repeated on an unchanged index (``otrs_ext.search.cache``),
   (b) ``COUNT(*)`` with ``a_subject LIKE '%..%' OR a_body LIKE '%..%'`` (what OTRS's article search does),
   (c) ``COUNT(*)`` with ``MATCH(a_subject, a_body) AGAINST (... IN BOOLEAN MODE)``.
   Counts side by side: otrs-ext's total (all indexed fields), otrs-ext limited to subject+body (the same
   MATCH with ``@(subject,body)``, what LIKE and FULLTEXT look at), LIKE, FULLTEXT, and for domains and
   e-mails LIKE at token boundaries (a REGEXP: no word character before or after), which otrs-ext's
   subject+body count must equal.

The LIKE and FULLTEXT timings are the count statement alone (one full scan for LIKE), a lower bound of
what a results page costs them; otrs-ext's include the page, facets and permission filtering.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import frequent_corpus
import pluggy
import redis
from sqlalchemy import Engine, create_engine, select, text

from otrs_ext.db import migrate
from otrs_ext.db.lookups import Lookups
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.events import hookspecs
from otrs_ext.events.checkpoint import CheckpointStore
from otrs_ext.events.dispatch import Dispatcher, Services
from otrs_ext.events.handlers.search_index import SearchHandler
from otrs_ext.events.tailer import TailConfig, Tailer, server_position
from otrs_ext.localservices import MariaDBServer, SphinxServer
from otrs_ext.localservices.redis import RedisServer
from otrs_ext.search import indexdef
from otrs_ext.search.cache import RedisSearchCache
from otrs_ext.search.query import parse, with_runs
from otrs_ext.search.reindex import reindex
from otrs_ext.search.service import SearchFilter, SearchService
from otrs_ext.seed import run_seed
from otrs_ext.tickets.inputs import NewArticle
from otrs_ext.tickets.numbers import TicketNumbers
from otrs_ext.tickets.otrs_cache import Invalidator, NullOtrsCache
from otrs_ext.tickets.permissions import Permissions
from otrs_ext.tickets.service import TicketService
from otrs_ext.tickets.storage import DatabaseStore
from schema_maps import OtrsSchema
from schema_maps.install import install

GENERATION = "znuny71"
AGENT = "bench.search"
# the index's word characters (indexdef.CHARSET_TABLE): a token boundary is anything else
WORD_CHARS = "0-9a-zA-Z_а-яА-ЯёЁ"


@dataclass(frozen=True)
class Case:
    """One query: what the agent types, and what LIKE and FULLTEXT get for it.

    ``like`` is an AND of clauses, each ``(negated, [substrings])`` with the substrings ORed, every substring
    looked for in a_subject OR a_body. ``boundary`` (domains, e-mails): also count LIKE at token boundaries.
    """

    kind: str
    q: str
    like: tuple[tuple[bool, tuple[str, ...]], ...]
    fulltext: str
    queue: str | None = None
    sort: str = "relevance"
    boundary: bool = False


def _any(*words: str) -> tuple[bool, tuple[str, ...]]:
    return (False, words)


def _not(*words: str) -> tuple[bool, tuple[str, ...]]:
    return (True, words)


CASES: tuple[Case, ...] = (
    Case("word, frequent (en)", "server", (_any("server"),), "server"),
    Case("word, frequent (ru)", "спасибо", (_any("спасибо"),), "спасибо"),
    Case("word, rare (en)", "khokhlova", (_any("khokhlova"),), "khokhlova"),
    Case("word, rare (ru)", "майоров", (_any("майоров"),), "майоров"),
    Case("morphology (ru)", "домены", (_any("домены"),), "домены"),
    Case("morphology (ru)", "серверов", (_any("серверов"),), "серверов"),
    Case("AND", "dns ошибка", (_any("dns"), _any("ошибка")), "+dns +ошибка"),
    Case("OR", "ssl OR сертификат", (_any("ssl", "сертификат"),), "ssl сертификат"),
    Case("NOT", "домен -перенос", (_any("домен"), _not("перенос")), "+домен -перенос"),
    Case("phrase (en)", '"internal server error"', (_any("internal server error"),), '"internal server error"'),
    Case("phrase (ru)", '"ошибка 500"', (_any("ошибка 500"),), '"ошибка 500"'),
    Case("prefix (en)", "transf*", (_any("transf"),), "transf*"),
    Case("prefix (ru)", "регистр*", (_any("регистр"),), "регистр*"),
    Case("domain", "reg.ru", (_any("reg.ru"),), '"reg.ru"', boundary=True),
    Case("domain", "mail.ru", (_any("mail.ru"),), '"mail.ru"', boundary=True),
    Case("domain", "shop-42.ru", (_any("shop-42.ru"),), '"shop-42.ru"', boundary=True),
    Case("e-mail", "support@helpdesk.example.ru", (_any("support@helpdesk.example.ru"),),
         '"support@helpdesk.example.ru"', boundary=True),
    Case("e-mail", "emma.walker@protonmail.com", (_any("emma.walker@protonmail.com"),),
         '"emma.walker@protonmail.com"', boundary=True),
    Case("queue filter", "сайт", (_any("сайт"),), "сайт", queue="Support::Hosting"),
    Case("recent first", "письмо", (_any("письмо"),), "письмо", sort="recent"),
)


_RARE_DOMAIN = frequent_corpus.domain_of(20_011)
#: the frequent-word corpus (bench/frequent_corpus.py): most queries match 40-99 % of all articles
FREQUENT_CASES: tuple[Case, ...] = (
    Case("word, 99 % (en)", "please", (_any("please"),), "please"),
    Case("word, 88 % (ru)", "спасибо", (_any("спасибо"),), "спасибо"),
    Case("word, 80 % (ru)", "здравствуйте", (_any("здравствуйте"),), "здравствуйте"),
    Case("word, 64 % (ru)", "сайт", (_any("сайт"),), "сайт*"),
    Case("word, 57 % (en)", "hello", (_any("hello"),), "hello"),
    Case("word, 18 % (ru)", "вебхук", (_any("вебхук"),), "вебхук"),
    Case("word, 3 % (en)", "ingrid", (_any("ingrid"),), "ingrid"),
    Case("AND, frequent", "спасибо please", (_any("спасибо"), _any("please")), "+спасибо +please"),
    Case("OR, frequent", "hello OR здравствуйте", (_any("hello", "здравствуйте"),), "hello здравствуйте"),
    Case("NOT", "сайт -hello", (_any("сайт"), _not("hello")), "+сайт* -hello"),
    Case("phrase, 99 % (en)", '"ticket number"', (_any("ticket number"),), '"ticket number"'),
    Case("phrase (ru)", '"спасибо за обращение"', (_any("спасибо за обращение"),), '"спасибо за обращение"'),
    Case("prefix (ru)", "блокир*", (_any("блокир"),), "блокир*"),
    Case("domain, frequent", frequent_corpus.HELPDESK_DOMAIN, (_any(frequent_corpus.HELPDESK_DOMAIN),),
         f'"{frequent_corpus.HELPDESK_DOMAIN}"', boundary=True),
    Case("domain, customer", "orbita.ru", (_any("orbita.ru"),), '"orbita.ru"', boundary=True),
    Case("domain, rare", _RARE_DOMAIN, (_any(_RARE_DOMAIN),), f'"{_RARE_DOMAIN}"', boundary=True),
    Case("e-mail, frequent", frequent_corpus.HELPDESK_MAILBOX, (_any(frequent_corpus.HELPDESK_MAILBOX),),
         f'"{frequent_corpus.HELPDESK_MAILBOX}"', boundary=True),
    Case("e-mail", "zakaz@orbita.ru", (_any("zakaz@orbita.ru"),), '"zakaz@orbita.ru"', boundary=True),
    Case("queue filter", "здравствуйте", (_any("здравствуйте"),), "здравствуйте", queue="Support::Hosting"),
    Case("recent first", "спасибо", (_any("спасибо"),), "спасибо", sort="recent"),
    Case("recent, tickets", "please", (_any("please"),), "please", sort="recent"),
)
CORPORA = {"seed": CASES, "frequent": FREQUENT_CASES}
#: what each timed request is (see the module docstring), in report order
REQUESTS = ("otrs-ext", "otrs-ext tickets", "counts", "ext+facets", "tkt+facets", "cached", "cached tickets",
            "SphinxQL", "LIKE", "FULLTEXT")


@dataclass
class Row:
    case: Case
    times: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in REQUESTS})
    counts: dict[str, int | None] = field(default_factory=dict)


# --- setup ---------------------------------------------------------------------------------------------------
def add_agent(engine: Engine, schema: OtrsSchema) -> int:
    """An agent with rw on every group, so he may see every queue."""
    t = schema.tables
    audit = {"create_time": text("NOW()"), "create_by": 1, "change_time": text("NOW()"), "change_by": 1}
    with engine.begin() as conn:
        agent = conn.execute(t.users.insert().values(login=AGENT, pw="", first_name="Bench", last_name="Search",
                                                     valid_id=1, **audit)).inserted_primary_key[0]
        for (group_id,) in conn.execute(select(t.groups.c.id)):
            conn.execute(t.group_user.insert().values(user_id=agent, group_id=group_id, permission_key="rw", **audit))
    return int(agent)


def ticket_service(engine: Engine, schema: OtrsSchema, home: Path) -> TicketService:
    return TicketService(engine, schema, numbers=TicketNumbers(engine, schema, otrs_home=home),
                         permissions=Permissions(schema), invalidator=Invalidator(NullOtrsCache()),
                         store=DatabaseStore(schema))


# --- measurements --------------------------------------------------------------------------------------------
def timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def like_sql(case: Case, queue_id: int | None, *, boundary: bool = False) -> tuple[str, list[str]]:
    conditions, params = [], []
    for negated, words in case.like:
        alternatives = []
        for word in words:
            if boundary:
                pattern = f"(?i)(?<![{WORD_CHARS}]){re.escape(word)}(?![{WORD_CHARS}])"
                alternatives.append("m.a_subject REGEXP %s OR m.a_body REGEXP %s")
                params += [pattern, pattern]
            else:
                alternatives.append("m.a_subject LIKE %s OR m.a_body LIKE %s")
                params += [f"%{word}%", f"%{word}%"]
        clause = "(" + " OR ".join(alternatives) + ")"
        conditions.append(f"NOT {clause}" if negated else clause)
    return _count_sql(" AND ".join(conditions), queue_id), params


def fulltext_sql(case: Case, queue_id: int | None) -> tuple[str, list[str]]:
    return _count_sql("MATCH(m.a_subject, m.a_body) AGAINST (%s IN BOOLEAN MODE)", queue_id), [case.fulltext]


def _count_sql(where: str, queue_id: int | None) -> str:
    if queue_id is None:
        return f"SELECT COUNT(*) FROM article_data_mime m WHERE {where}"
    return ("SELECT COUNT(*) FROM article_data_mime m JOIN article a ON a.id = m.article_id "
            f"JOIN ticket t ON t.id = a.ticket_id WHERE t.queue_id = {int(queue_id)} AND {where}")


def sql_count(engine: Engine, sql: str, params: list[str]) -> int:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql, params)
        value = int(cursor.fetchone()[0])
        cursor.close()
        return value
    finally:
        raw.close()


def sphinx_subject_body_count(client: SphinxQL, case: Case, queue_id: int | None) -> int:
    """otrs-ext's MATCH for the query limited to the fields LIKE looks at (with their runs: see query.Domain)."""
    match = f"@({','.join(with_runs(('subject', 'body')))}) ({parse(case.q).match})"
    where = f" AND queue_id = {int(queue_id)}" if queue_id is not None else ""
    with client.connection() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT id FROM {indexdef.INDEX_NAME} WHERE MATCH(%s){where} LIMIT 1", (match,))
        cur.fetchall()
        cur.execute("SHOW META")
        meta = {r[0]: r[1] for r in cur.fetchall()}
    return int(meta["total_found"])


def run_queries(engine: Engine, client: SphinxQL, service: SearchService, cached: SearchService, agent: int,
                cases: tuple[Case, ...], args: argparse.Namespace) -> list[Row]:
    """``service`` counts every time (no cache), ``cached`` keeps counts until the index changes."""
    with engine.connect() as conn:
        queues = dict(conn.execute(text("SELECT name, id FROM queue")).all())
    rows = []
    for case in cases:
        row = Row(case)
        queue_id = queues[case.queue] if case.queue else None
        flt = SearchFilter(queues=(case.queue,)) if case.queue else SearchFilter()
        requests = {
            "otrs-ext": lambda case=case, flt=flt: service.search(case.q, flt, user_id=agent, group="article",
                                                                  sort=case.sort, facets=False),
            "otrs-ext tickets": lambda case=case, flt=flt: service.search(case.q, flt, user_id=agent, sort=case.sort,
                                                                          facets=False),
            "counts": lambda case=case, flt=flt: service.counts(case.q, flt, user_id=agent),
            "ext+facets": lambda case=case, flt=flt: service.search(case.q, flt, user_id=agent, group="article",
                                                                    sort=case.sort),
            "tkt+facets": lambda case=case, flt=flt: service.search(case.q, flt, user_id=agent, sort=case.sort),
            "cached": lambda case=case, flt=flt: cached.search(case.q, flt, user_id=agent, group="article",
                                                               sort=case.sort),
            "cached tickets": lambda case=case, flt=flt: cached.search(case.q, flt, user_id=agent, sort=case.sort,
                                                                       facets=False),
        }
        results = {}
        for name, request in requests.items():
            request()  # warm-up (and for "cached": the count that is kept)
            for _ in range(args.sphinx_reps):
                ms, results[name] = timed(request)
                row.times[name].append(ms)
        row.counts["otrs-ext"] = results["otrs-ext"].total
        row.counts["tickets"] = results["counts"].total
        if results["otrs-ext tickets"].total != results["counts"].total:
            print(f"  MISMATCH: the ticket page says {results['otrs-ext tickets'].total:,} tickets, counts "
                  f"{results['counts'].total:,}", flush=True)
        with engine.connect() as conn:  # the statement the service generates, alone (no facets, no page reads)
            scope = service._allowed(conn, agent, None)
            where = service._filters(flt, Lookups.load(conn, service.schema))
        for _ in range(args.sphinx_reps):
            main, _ = service._statements(scope, where, "article", case.sort, 0, 20, None)
            ms, _ = timed(lambda main=main, case=case: service._main(main, parse(case.q).match))
            row.times["SphinxQL"].append(ms)
        row.counts["otrs-ext s+b"] = sphinx_subject_body_count(client, case, queue_id)
        sql, params = fulltext_sql(case, queue_id)
        for _ in range(args.fulltext_reps):
            ms, count = timed(lambda sql=sql, params=params: sql_count(engine, sql, params))
            row.times["FULLTEXT"].append(ms)
        row.counts["FULLTEXT"] = count  # type: ignore[assignment]
        sql, params = like_sql(case, queue_id)
        for _ in range(args.like_reps):
            ms, count = timed(lambda sql=sql, params=params: sql_count(engine, sql, params))
            row.times["LIKE"].append(ms)
        row.counts["LIKE"] = count  # type: ignore[assignment]
        row.counts["LIKE boundary"] = (sql_count(engine, *like_sql(case, queue_id, boundary=True))
                                       if case.boundary else None)
        rows.append(row)
        print(f"  {case.kind:<20} {case.q:<30} " + "  ".join(f"{k}={v}" for k, v in row.counts.items()
                                                              if v is not None), flush=True)
    return rows


def latency(engine: Engine, schema: OtrsSchema, client: SphinxQL, service: SearchService, agent: int,
            home: Path, probes: int) -> list[float]:
    """Milliseconds from each probe article's commit until a search as the agent finds it."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(SearchHandler(), name="search")
    dispatcher = Dispatcher(manager, Services(engine=engine, schema=schema, search=client))
    position = server_position(engine)
    CheckpointStore(engine, "bench-search").save(position, position)
    tailer = Tailer(engine, schema, dispatcher, config=TailConfig(identity="bench-search"))
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            tailer.run(stop)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(2.0)  # streaming
    tickets = ticket_service(engine, schema, home)
    with engine.connect() as conn:
        ticket_ids = [r[0] for r in conn.execute(text("SELECT id FROM ticket ORDER BY id DESC LIMIT 50"))]
    delays: list[float] = []
    try:
        for n in range(probes):
            word = f"latprobe{n}z{int(time.time())}"
            tickets.add_article(1, ticket_ids[n % len(ticket_ids)], NewArticle(
                body=f"Проверка задержки индексации {word}, please ignore.", subject=f"Latency probe {n}"),
                as_system=True)
            committed = time.perf_counter()
            deadline = committed + 30
            while time.perf_counter() < deadline and not errors:
                if service.search(word, user_id=agent, group="article", limit=1, facets=False).total:
                    delays.append((time.perf_counter() - committed) * 1000)
                    break
                time.sleep(0.002)
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(30)
    if errors:
        raise errors[0]
    print(f"  {len(delays)}/{probes} probes found", flush=True)
    return delays


# --- output --------------------------------------------------------------------------------------------------
def pct(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[89], q[98]


def fmt_ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def report(rows: list[Row], args: argparse.Namespace) -> None:
    print()
    head = (f"{'kind':<20} {'query':<30} {'ext ms':>7} {'tkt ms':>7} {'cnt ms':>7} {'ext+f':>7} {'tkt+f':>7} "
            f"{'cached':>7} {'c tkt':>7} {'SQL ms':>7} {'LIKE ms':>8} {'FT ms':>8} | {'ext total':>9} {'tickets':>9} "
            f"{'ext s+b':>9} {'LIKE':>9} {'LIKE bnd':>9} {'FT':>9}")
    print(head)
    print("-" * len(head))
    for row in rows:
        c = row.counts
        cells = [fmt_ms(statistics.median(row.times[name])) for name in REQUESTS]
        bnd = f"{c['LIKE boundary']:,}" if c["LIKE boundary"] is not None else "-"
        flag = ""
        if c["LIKE boundary"] is not None:
            flag = "  ok" if c["LIKE boundary"] == c["otrs-ext s+b"] else "  MISMATCH"
        print(f"{row.case.kind:<20} {row.case.q[:30]:<30} " + " ".join(f"{v:>7}" for v in cells[:8])
              + f" {cells[8]:>8} {cells[9]:>8} | "
              f"{c['otrs-ext']:>9,} {c['tickets']:>9,} {c['otrs-ext s+b']:>9,} "
              f"{c['LIKE']:>9,} {bnd:>9} {c['FULLTEXT']:>9,}{flag}")
    print("(per-query medians. ext = SearchService.search, page of 20 articles, facets off; tkt = the same grouped "
          "by ticket (the screen's page); cnt = SearchService.counts by ticket, exact total + facets, uncached; "
          "ext+f / tkt+f = the article / ticket page with facets in the same request, uncached (what 'otrs-ext' "
          "and 'otrs-ext tickets' measured before facets left the page); cached / c tkt = ext+f / tkt with the "
          "cache, repeated on an unchanged index; SQL = the article page's SphinxQL SELECT + SHOW META alone. "
          "ext total = articles in all indexed fields; tickets = the ticket total (the same in tkt and cnt); "
          "ext s+b = subject+body only, as LIKE/FT see them; LIKE bnd = LIKE at token boundaries, must equal "
          "ext s+b)")
    print()
    print(f"{'request':<18} {'runs':>6} {'p50 ms':>10} {'p90 ms':>10} {'p99 ms':>10} {'max ms':>10}")
    reps = {"LIKE": args.like_reps, "FULLTEXT": args.fulltext_reps}
    for name in REQUESTS:
        values = [t for row in rows for t in row.times[name]]
        p50, p90, p99 = pct(values)
        print(f"{name:<18} {len(values):>6} {fmt_ms(p50):>10} {fmt_ms(p90):>10} {fmt_ms(p99):>10} "
              f"{fmt_ms(max(values)):>10}   ({len(rows)} queries x {reps.get(name, args.sphinx_reps)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="seed",
                        help="seed: otrs-ext seed's text; frequent: bench/frequent_corpus.py (frequent words, "
                             "domains and e-mails), with its own query set")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="reindex workers")
    parser.add_argument("--sphinx-reps", type=int, default=20)
    parser.add_argument("--fulltext-reps", type=int, default=3)
    parser.add_argument("--like-reps", type=int, default=1)
    parser.add_argument("--probes", type=int, default=100, help="articles written for the latency measurement")
    parser.add_argument("--mem-limit", default="512M", help="rt_mem_limit of the index")
    parser.add_argument("--buffer-pool", default="2G")
    args = parser.parse_args()

    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="otrs-ext-bench-search-"))
    mariadb = MariaDBServer(base / "mariadb", innodb_buffer_pool_size=args.buffer_pool)
    sphinx = SphinxServer(base / "sphinx", config_text=indexdef.render_config(
        base_dir=base / "sphinx", port="{port}", mem_limit=args.mem_limit))  # type: ignore[arg-type]
    redis_server = RedisServer(base / "redis")
    try:
        mariadb.start()
        sphinx.start()
        redis_server.start()
        print(f"mariadbd pid {mariadb.pid}, searchd pid {sphinx.pid}, data in {base}", flush=True)
        mariadb.create_database("otrs")
        engine = create_engine(mariadb.url("otrs"), pool_size=args.workers + 4)
        with engine.begin() as conn:
            schema = install(conn, GENERATION)
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        seeder = frequent_corpus.seed_frequent if args.corpus == "frequent" else run_seed
        seeded = seeder(engine, schema, tickets=max(1, args.articles // 5), articles_per_ticket=5, seed=args.seed,
                        **({} if args.corpus == "frequent" else {"progress": False}))
        print(f"seeded {seeded.tickets:,} tickets, {seeded.articles:,} articles ({args.corpus} corpus) in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
        agent = add_agent(engine, schema)
        client = SphinxQL(sphinx.url)
        service = SearchService(engine, schema, client, Permissions(schema), otrs_base_url="http://otrs.local/otrs")
        cached = SearchService(engine, schema, client, Permissions(schema), otrs_base_url="http://otrs.local/otrs",
                               cache=RedisSearchCache(redis.Redis.from_url(redis_server.url)))

        result = reindex(engine, schema, client, workers=args.workers)
        print(f"reindex (workers={args.workers}): {result.summary()}", flush=True)

        print(f"latency: {args.probes} articles written OTRS-style, tailer + search handler running", flush=True)
        delays = latency(engine, schema, client, service, agent, base / "otrs-home", args.probes)

        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE article_data_mime ADD FULLTEXT INDEX bench_ft (a_subject, a_body)"))
        fulltext_build = time.perf_counter() - t0
        print(f"FULLTEXT index built in {fulltext_build:.1f} s", flush=True)

        print("queries:", flush=True)
        rows = run_queries(engine, client, service, cached, agent, CORPORA[args.corpus], args)
        report(rows, args)
        print()
        print(f"{'articles (' + args.corpus + ' corpus)':<40} {seeded.articles:>12,}")
        print(f"{'reindex articles/s (workers=' + str(args.workers) + ')':<40} {result.articles_per_second:>12,.0f}"
              f"   ({result.articles:,} in {result.seconds:.1f} s)")
        print(f"{'FULLTEXT index build s':<40} {fulltext_build:>12.1f}")
        if delays:
            p50, _, p99 = pct(delays)
            print(f"{'commit -> searchable ms p50 / p99 / max':<40} {fmt_ms(p50):>12} / {fmt_ms(p99)} / "
                  f"{fmt_ms(max(delays))}   ({len(delays)}/{args.probes} probes found)")
        print(f"{'total runtime s':<40} {time.perf_counter() - started:>12.0f}")
    finally:
        redis_server.stop()
        sphinx.stop()
        mariadb.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

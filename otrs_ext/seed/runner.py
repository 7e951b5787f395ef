"""``run_seed``: organisation, then tickets in committed batches, with a progress bar and a report.

The whole run draws from ``random.Random`` streams derived from the seed (and, for the tickets, from the first
ticket id, so seeding twice with the same seed adds different tickets) and takes "now" from the database once,
so the same seed on the same database state writes byte-identical rows.
"""

from __future__ import annotations

import functools
import random
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select
from tqdm import tqdm

from otrs_ext.db.lookups import Lookups
from schema_maps import OtrsSchema
from schema_maps.install import lookup_ids

from .numbers import DayCounters
from .org import ensure_org
from .tickets import Batch, Ids, TicketFactory
from .timeline import creation_times, db_time, epoch
from .writer import BulkWriter

DEFAULT_BATCH_SIZE = 1000  # tickets per transaction; ~5k articles, a few MB of SQL


@dataclass(frozen=True)
class SeedReport:
    """What a seed run wrote: rows per table (organisation and tickets), time spent, rates."""

    tickets: int
    articles: int
    counts: dict[str, int]  # real table name -> rows inserted (organisation and tickets)
    seconds: float
    table_seconds: dict[str, float]  # time spent in execute() per table: the database's share of the work

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        """A small table for the CLI: rows per table, their rate over the whole run, the database's time."""
        lines = [f"seeded {self.tickets:,} tickets, {self.articles:,} articles in {self.seconds:.1f} s "
                 f"({self.articles_per_second:,.0f} articles/s, {self.rows_per_second:,.0f} rows/s)"]
        width = max((len(n) for n in self.counts), default=5)
        for name, count in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            rate = count / self.seconds if self.seconds else 0.0
            db = f"  {self.table_seconds[name]:6.1f} s in INSERTs" if name in self.table_seconds else ""
            lines.append(f"  {name:<{width}} {count:>10,} rows {rate:>10,.0f}/s{db}")
        return "\n".join(lines)


def _next_ids(conn: Connection, schema: OtrsSchema) -> Ids:
    def nxt(table) -> int:  # noqa: ANN001
        return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1

    t = schema.tables
    return Ids(ticket=nxt(t.ticket), article=nxt(t.article), history=nxt(t.ticket_history),
               attachment=nxt(schema.articles.attachments), plain=nxt(schema.articles.plain))


@dataclass
class SeedPlan:
    """Everything a run needs after the organisation exists: the generator, its clock and the id allocator."""

    factory: TicketFactory
    times: Iterator[int]  # ascending creation epochs of the tickets to make
    ids: Ids
    article_ids: Mapping[str, Mapping[str, int]]  # name -> id maps the article layout needs
    numbers: DayCounters
    now: int
    rng: random.Random
    created: Mapping[str, int]  # organisation rows inserted

    def batch(self, count: int) -> Batch:
        """Generate the next ``count`` tickets."""
        batch = Batch()
        for _ in range(count):
            self.factory.make(next(self.times), batch, self.ids)
        return batch


def prepare(conn: Connection, schema: OtrsSchema, *, tickets: int, articles_per_ticket: float, seed: int,
            now: datetime | None = None, system_id: str = "10") -> SeedPlan:
    """Create or find the organisation and set up the ticket generator (the caller commits ``conn``).

    Also used by ``bench/bench_seed.py`` to write the very same tickets row by row.
    """
    if tickets < 0:
        raise ValueError("tickets must be zero or more")
    if articles_per_ticket < 1:
        raise ValueError("articles_per_ticket must be at least 1: every ticket starts with an article")
    db_now = now or conn.execute(select(func.current_timestamp())).scalar_one()
    lookups = Lookups.load(conn, schema)
    org = ensure_org(conn, schema, tickets=tickets, now=db_now)
    ids = _next_ids(conn, schema)
    numbers = DayCounters.load(conn, schema, system_id)
    now_ts = epoch(db_now)
    rng = random.Random(f"otrs-ext-seed:{seed}:{ids.ticket}")
    factory = TicketFactory(rng=rng, org=org, lookups=lookups, schema=schema, now=now_ts, numbers=numbers,
                            mean_articles=articles_per_ticket)
    return SeedPlan(factory, creation_times(rng, tickets, now_ts), ids, lookup_ids(conn, schema), numbers,
                    now_ts, rng, org.created)


def run_seed(engine: Engine, schema: OtrsSchema, *, tickets: int, articles_per_ticket: float, seed: int,
             progress: bool = True, batch_size: int = DEFAULT_BATCH_SIZE, now: datetime | None = None,
             system_id: str = "10") -> SeedReport:
    """Fill the OTRS database behind ``engine`` with a realistic helpdesk: organisation and tickets.

    ``articles_per_ticket`` is the mean number of articles (each ticket has between 1 and about twice that).
    ``now`` defaults to the database's ``CURRENT_TIMESTAMP``; pass it to compare runs made on different days.
    ``system_id`` must match OTRS's SysConfig ``SystemID`` for ticket numbers to look like OTRS's own.
    Ids are allocated from ``MAX(id) + 1`` at the start: do not run this while OTRS writes tickets.
    """
    started = time.perf_counter()
    with engine.begin() as conn:
        plan = prepare(conn, schema, tickets=tickets, articles_per_ticket=articles_per_ticket, seed=seed,
                       now=now, system_id=system_id)
    writer = BulkWriter(engine)
    bar = tqdm(total=tickets, unit="ticket", file=sys.stderr, disable=not progress, dynamic_ncols=True,
               smoothing=0.05)
    written = {"articles": 0}

    def committed(n: int, articles: int) -> None:
        written["articles"] += articles
        bar.set_postfix(articles=f"{written['articles']:,}", refresh=False)
        bar.update(n)

    made = articles = 0
    try:
        while made < tickets:
            n = min(batch_size, tickets - made)
            batch = plan.batch(n)
            made += n
            if made == tickets and schema.has_ticket_counter_table:
                batch.counters.extend(_counter_rows(plan.numbers, plan.now, plan.rng))
            articles += len(batch.articles)
            done = functools.partial(committed, n, len(batch.articles))
            writer.submit(batch.tables(schema, plan.article_ids), done)
        writer.close()
    except BaseException:
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            pass
        raise
    finally:
        bar.close()
    counts = dict(plan.created)
    for name, count in writer.rows.items():
        counts[name] = counts.get(name, 0) + count
    return SeedReport(tickets=made, articles=articles, counts=counts, seconds=time.perf_counter() - started,
                      table_seconds=dict(writer.seconds))


def _counter_rows(numbers: DayCounters, now: int, rng: random.Random) -> list[dict]:
    """A ``ticket_number_counter`` row holding today's highest counter, so OTRS continues above it (§4.1)."""
    today = time.strftime("%Y%m%d", time.gmtime(now))
    counter = numbers.counter_of(today)
    if not counter:
        return []
    return [{"counter": counter, "counter_uid": f"{rng.getrandbits(128):032x}", "create_time": db_time(now)}]

"""Backfill: (re)index every article by id range, in parallel, resumable, while live updates keep flowing.

Work is cut into article id chunks. Worker threads each hold one database and one SphinxQL connection, read a
chunk with its tickets' current state, REPLACE it in multi-row statements and delete index documents of the
range the database no longer has. The main thread advances a watermark (every chunk below it is done) stored in
Redis, so an interrupted run resumes after it. The index stays searchable throughout: nothing is truncated.

Races with the live ``search`` handler: a chunk's REPLACE carries the state read at the start of the chunk, so
it could overwrite a newer state the handler wrote in between. After its REPLACE a worker therefore re-reads
which articles of the chunk changed (their ticket's or their own ``change_time``) since the read began, or
disappeared, and re-indexes or deletes those, repeating while it finds any. A change committed after that
check reaches the index through its own event, applied after it. The remaining window (a change committed
between the last check and a re-REPLACE of the same ticket) is what ``otrs-ext search reconcile`` repairs.

With ``position`` (``otrs_ext.search.positions``) a run takes the source's position before it reads anything,
keeps it with the watermark (a resumed run is consistent only with its first part's start) and, complete,
records it for the tailer, whose ``search`` handler then gets only the transactions after it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select

from schema_maps import OtrsSchema

from ..db.sphinxql import SphinxQL
from ..events.rows import Position
from .indexdef import INDEX_NAME
from .indexer import Indexer, RtIndex

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 5000  # articles per unit of work: ~5 MB of SQL, one REPLACE batch or two
DEFAULT_WORKERS = 2  # best measured on a 2 vCPU host (searchd, MariaDB and Python share it); raise with cores
RECHECK_ROUNDS = 3


@dataclass
class ReindexState:
    """The resumable part of a run, stored in Redis under ``key``."""

    redis: Any
    key: str = f"otrs_ext:search:reindex:{INDEX_NAME}"

    def load(self) -> tuple[int, int] | None:
        """(watermark, high) of an unfinished run: every article id <= watermark is done."""
        raw = self.redis.hgetall(self.key)
        if not raw:
            return None
        values = {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}
        if "watermark" not in values:
            return None  # interrupted before its first chunk was done
        return int(values["watermark"]), int(values["high"])

    def save(self, watermark: int, high: int) -> None:
        self.redis.hset(self.key, mapping={"watermark": watermark, "high": high})

    def load_position(self) -> Position | None:
        """The source position taken when the unfinished run began."""
        file, pos, gtid = (v.decode() if isinstance(v, bytes) else v
                           for v in self.redis.hmget(self.key, ["log_file", "log_pos", "gtid"]))
        if not file:
            return None
        return Position(file, int(pos), gtid or None)

    def start(self, position: Position | None) -> None:
        """A new run: forget the last one's watermark; keep where this one is consistent from."""
        self.clear()
        if position is not None:
            self.redis.hset(self.key, mapping={"log_file": position.log_file, "log_pos": position.log_pos,
                                               "gtid": position.gtid or ""})

    def clear(self) -> None:
        self.redis.delete(self.key)


class SourcePosition(Protocol):
    """Where a run is consistent from: ``otrs_ext.search.positions.ReindexPosition``."""

    def current(self) -> Position: ...

    def record(self, position: Position) -> None: ...


@dataclass
class ReindexReport:
    articles: int = 0  # documents REPLACEd by the chunk pass
    deleted: int = 0  # documents of articles the database no longer has
    rechecked: int = 0  # documents REPLACEd again because their ticket changed meanwhile
    chunks: int = 0
    seconds: float = 0.0
    resumed_from: int = 0  # the watermark a resumed run started after (0: from the start)
    watermark: int = 0
    errors: list[str] = field(default_factory=list)
    optimized: bool = False  # the disk chunks are being merged (searchd does it in the background)
    consistent_from: Position | None = None  # recorded for the tailer's search handler: the run is complete

    @property
    def articles_per_second(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        resumed = f", resumed after article {self.resumed_from}" if self.resumed_from else ""
        return (f"indexed {self.articles:,} articles in {self.seconds:.1f} s ({self.articles_per_second:,.0f}/s), "
                f"deleted {self.deleted:,}, re-indexed {self.rechecked:,} changed meanwhile, "
                f"{self.chunks} chunks{resumed}{', index optimizing in the background' if self.optimized else ''}"
                + (f"; consistent with {self.consistent_from}: the tailer's search handler goes on from there"
                   if self.consistent_from is not None else ""))


@dataclass(frozen=True)
class _Done:
    low: int
    high: int
    replaced: int
    deleted: int
    rechecked: int


def article_id_bounds(conn: Connection, schema: OtrsSchema) -> tuple[int, int]:
    a = schema.tables.article
    low, high = conn.execute(select(func.min(a.c.id), func.max(a.c.id))).one()
    return int(low or 0), int(high or 0)


def reindex(engine: Engine, schema: OtrsSchema, search: SphinxQL, *, state: ReindexState | None = None,
            workers: int = DEFAULT_WORKERS, chunk: int = DEFAULT_CHUNK, resume: bool = True,
            stop_after: int | None = None, progress: Callable[[int, int], None] | None = None,
            optimize: bool = False, position: SourcePosition | None = None,
            own_schema: str | None = None) -> ReindexReport:
    """Index all articles up to the current maximum id. ``progress(done_ids, total_ids)`` is called per chunk.
    With ``optimize`` a completed run ends with ``RtIndex.optimize``. It is opt-in: in the 1M benchmark 3 of 50
    live writes made while searchd merged were not searchable within 30 s (50 of 50 without the merge; not
    reproduced with synthetic documents), and the merged index was not measurably faster.

    ``resume``: continue after the stored watermark of an unfinished run. ``stop_after``: stop after that many
    chunks (tests and benchmarks simulate an interruption with it); the watermark stays for the next run.
    ``position``: take the source position before reading and record it when the run is complete.
    ``own_schema``: where otrs-ext's own tables are (the documents' tag ids come from there).
    """
    indexer = Indexer(engine, schema, search, own_schema=own_schema)
    started = time.monotonic()
    report = ReindexReport()
    stored = state.load() if (state is not None and resume) else None
    begun = _begin(state, stored, position)
    with engine.connect() as conn:
        low, high = article_id_bounds(conn, schema)
    if stored is not None:
        report.resumed_from = stored[0]
        low = stored[0] + 1
        high = max(high, stored[1])
    if high == 0 or low > high:
        if state is not None:
            state.clear()
        _consistent(report, position, begun)
        report.seconds = time.monotonic() - started
        return report
    ranges = [(start, min(start + chunk - 1, high)) for start in range(low, high + 1, chunk)]
    if stop_after is not None:
        ranges = ranges[:stop_after]
    todo: queue.Queue[tuple[int, int] | None] = queue.Queue()
    for item in ranges:
        todo.put(item)
    done: queue.Queue[_Done | BaseException] = queue.Queue()
    threads = [threading.Thread(target=_worker, args=(indexer, todo, done), daemon=True, name=f"reindex-{n}")
               for n in range(max(1, min(workers, len(ranges))))]
    for thread in threads:
        todo.put(None)  # one stop marker per worker, after all the work
        thread.start()

    finished: dict[int, _Done] = {}  # by low id, until the watermark passes them
    watermark = low - 1
    total = high - low + 1
    try:
        for _ in ranges:
            item = done.get()
            if isinstance(item, BaseException):
                raise item
            report.chunks += 1
            report.articles += item.replaced
            report.deleted += item.deleted
            report.rechecked += item.rechecked
            finished[item.low] = item
            while watermark + 1 in finished:  # chunks finish out of order; the watermark only moves over a prefix
                watermark = finished.pop(watermark + 1).high
            if state is not None:
                state.save(watermark, high)
            if progress is not None:
                progress(min(watermark, high) - low + 1, total)
    finally:
        if any(t.is_alive() for t in threads):
            while not todo.empty():  # on an error: let the workers run dry
                try:
                    todo.get_nowait()
                except queue.Empty:
                    break
            for _ in threads:
                todo.put(None)
        for thread in threads:
            thread.join()
    report.watermark = watermark
    if watermark >= high:
        if state is not None:
            state.clear()
        _consistent(report, position, begun)
        if optimize:
            with indexer.index() as rt:
                rt.optimize()
            report.optimized = True
    report.seconds = time.monotonic() - started
    return report


def _begin(state: ReindexState | None, stored: tuple[int, int] | None,
           position: SourcePosition | None) -> Position | None:
    """The position the run will be consistent with: a resumed run's from its start (its first chunks were read
    then), a new one's taken now, before anything is read."""
    if stored is not None:
        return state.load_position() if state is not None else None
    begun = position.current() if position is not None else None
    if state is not None:
        state.start(begun)
    return begun


def _consistent(report: ReindexReport, position: SourcePosition | None, begun: Position | None) -> None:
    """The run is complete: every change up to ``begun`` is in the index, the tailer brings the rest."""
    if position is not None and begun is not None:
        position.record(begun)
        report.consistent_from = begun


def _worker(indexer: Indexer, todo: queue.Queue, done: queue.Queue) -> None:
    try:
        with indexer.engine.connect() as db, indexer.index() as rt:
            while (item := todo.get()) is not None:
                done.put(_index_chunk(indexer, db, rt, *item))
    except BaseException as error:  # noqa: BLE001 - handed to the main thread, which raises it
        done.put(error)


def _index_chunk(indexer: Indexer, db: Connection, rt: RtIndex, low: int, high: int) -> _Done:
    since = _db_now(db) - timedelta(seconds=1)  # change_time has second precision: err towards re-checking
    replaced, deleted = indexer.index_range(db, rt, low, high)
    db.rollback()  # end the read transaction: the re-check must see what was committed since
    rechecked = 0
    for _ in range(RECHECK_ROUNDS):
        changed = indexer.source.changed_since(db, low, high, since)
        db.rollback()
        if not changed:
            break
        since = _db_now(db) - timedelta(seconds=1)
        documents = indexer.source.by_articles(db, changed)
        db.rollback()
        rechecked += rt.replace(documents)
        gone = sorted(set(changed) - {d[0] for d in documents})
        if gone:
            deleted += rt.delete_ids(gone)
    # articles deleted after the chunk was read were REPLACEd back: the live handler's DELETE came first
    deleted += indexer.prune_range(db, rt, low, high)
    db.rollback()
    return _Done(low, high, replaced, deleted, rechecked)


def _db_now(db: Connection) -> datetime:
    return db.execute(select(func.now())).scalar_one()

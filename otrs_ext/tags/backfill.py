"""``otrs-ext tags backfill``: tags for the tickets an installation already has, from their history.

Tickets go by id in chunks. Each chunk is read in a few short queries on a connection of its own (articles, the
history rows of the first ones, the API's ``ticket_source`` rows, raw mail headers where a header rule needs
them), so no OTRS table is held for longer than a query; then one transaction on otrs-ext's own tables adds the
links (``INSERT IGNORE``, in bulk) and stores the position (``otrs_ext_job_progress``). A killed run resumes
after its last committed chunk; a run after a finished one goes over every ticket again and adds only what is
missing, which after a finished run is nothing. The backfill only adds: a ticket that has a source tag keeps it,
and links no rule gives any more are ``otrs-ext tags reconcile``'s to remove.

Tickets created after the run started are the tailer's (the run stops at the largest ticket id it saw first).
A complete run over every ticket (no ``--since``, not ``--rules-only``) given a ``position`` (``TagsPosition``)
takes the tailer's source position before it reads anything and, when it is done, records it as the ``tags``
handler's (``HandlerPositions``), as ``otrs-ext search reindex`` does for ``search``: the tailer then hands the
handler only what came after, instead of every ticket again through its first start's snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from schema_maps import OtrsSchema

from ..events.checkpoint import HandlerPositions
from ..events.rows import Position
from ..search.indexer import Indexer
from ..search.positions import ReindexPosition
from .apply import TagWriter
from .derive import NOTIFICATION, PARTS, SOURCE, Deriver, Wanted
from .index_sync import push_tags
from .jobs import JobProgress
from .rules import TagRules
from .store import TagStore

JOB, RULES_JOB = "tags-backfill", "tags-backfill-rules"
TAGS_HANDLER = "tags"  # the handler's name in OTRS_EXT_HANDLERS (otrs_ext.events.plugins)
DEFAULT_CHUNK = 500  # tickets per chunk (about 2,500 articles in the seed's mix)

Progress = Callable[[int, int], None]  # (tickets done, tickets in the run)


@dataclass(frozen=True)
class TagsPosition(ReindexPosition):
    """The source position a complete backfill is consistent with, recorded for the ``tags`` handler."""

    def record(self, position: Position) -> None:
        HandlerPositions(self.engine, self.own_schema).save(TAGS_HANDLER, position, recorded_by="backfill")


@dataclass
class BackfillReport:
    job: str
    tickets: int = 0  # in this invocation
    articles: int = 0
    added: int = 0
    chunks: int = 0
    index_statements: int = 0
    seconds: float = 0.0
    resumed_after: int | None = None  # the ticket id a resumed run went on after
    finished: bool = False
    position: int = 0  # the last ticket id done
    consistent_from: Position | None = None  # recorded for the tailer's tags handler

    def summary(self) -> str:
        rate = self.articles / self.seconds if self.seconds > 0 else 0.0
        ticket_rate = self.tickets / self.seconds if self.seconds > 0 else 0.0
        lines = []
        if self.resumed_after is not None:
            lines.append(f"resumed an unfinished run after ticket {self.resumed_after}")
        lines.append(f"{self.job}: {self.tickets} tickets, {self.articles} articles in {self.seconds:.1f} s "
                     f"({rate:,.0f} articles/s, {ticket_rate:,.0f} tickets/s); {self.added} links added"
                     + (f", {self.index_statements} index updates" if self.index_statements else ""))
        if not self.finished:
            lines.append(f"stopped after ticket {self.position}; run the same command again to continue")
        elif self.added == 0:
            lines.append("nothing changed: every ticket already had the tags the rules give")
        if self.consistent_from is not None:
            lines.append(f"the tailer's tags handler goes on from {self.consistent_from}")
        return "\n".join(lines)


class Backfill:
    def __init__(self, engine: Engine, schema: OtrsSchema, rules: TagRules, *, own_schema: str | None = None,
                 indexer: Indexer | None = None, chunk: int = DEFAULT_CHUNK) -> None:
        self.engine = engine
        self.schema = schema
        self.rules = rules
        self.own_schema = own_schema
        self.indexer = indexer
        self.chunk = chunk
        self.deriver = Deriver(schema, rules, own_schema)
        self.store = TagStore(own_schema)
        self.ticket = schema.tables.ticket

    def run(self, *, since: datetime | None = None, rules_only: bool = False, restart: bool = False,
            progress: Progress | None = None, max_chunks: int | None = None,
            position: TagsPosition | None = None) -> BackfillReport:
        """Backfill (or resume); ``rules_only``: notification tags only. ``max_chunks`` stops early (tests).
        ``position``: record where a complete run is consistent from (ignored with ``since``/``rules_only``)."""
        if since is not None or rules_only:
            position = None
        job = JobProgress(RULES_JOB if rules_only else JOB, self.own_schema)
        parts = frozenset({NOTIFICATION}) if rules_only else PARTS
        params = {"since": since.isoformat() if since else None, "rules": self.rules.digest}
        report = BackfillReport(job=job.job)
        started = time.monotonic()
        with self.engine.begin() as conn:
            state = job.load(conn)
        if state is not None and not state.finished and state.detail.get("params") == params and not restart:
            start, high = state.position + 1, int(state.detail.get("high", 0))
            report.resumed_after = state.position
            totals = dict(state.detail.get("totals", {}))
            begun = _position(state.detail.get("begun"))
        else:
            begun = position.current() if position is not None else None  # before anything is read
            with self.engine.connect() as conn:
                start, high = self._bounds(conn, since)
            totals = {}
            with self.engine.begin() as conn:
                job.start(conn, start - 1, {"params": params, "high": high, "totals": totals,
                                            "begun": _stored(begun)})
        with self.engine.connect() as conn:
            total = self._count(conn, start, high, since)
        writer = TagWriter(self.store, remember=True)
        done, last, finished = 0, start - 1, False
        while max_chunks is None or report.chunks < max_chunks:
            with self.engine.connect() as conn:  # a short read: the chunk's ids, then its facts
                ids = self._ids(conn, last + 1, high, since)
                if not ids:
                    finished = True
                    break
                self.deriver.articles_read = 0
                wanted = self.deriver.for_tickets(conn, ids, parts)
            with self.engine.begin() as conn:
                added = self._add(conn, writer, wanted)
                last = ids[-1]
                report.tickets += len(ids)
                report.articles += self.deriver.articles_read
                report.added += len(added)
                totals = _summed(totals, tickets=len(ids), articles=self.deriver.articles_read, added=len(added))
                job.advance(conn, last, {"params": params, "high": high, "totals": totals,
                                             "begun": _stored(begun)})
                changed = sorted({c.ticket_id for c in added})
                current = {t: [] for t in changed}
                if changed and self.indexer is not None:
                    for ticket_id, links in self.store.links(conn, changed).items():
                        current[ticket_id] = [link.tag.id for link in links]
            if current and self.indexer is not None:
                report.index_statements += push_tags(self.indexer, current)
            report.chunks += 1
            report.position = last
            done += len(ids)
            if progress is not None:
                progress(done, total)
        if finished:
            with self.engine.begin() as conn:
                job.finish(conn, {"params": params, "high": high, "totals": totals, "begun": _stored(begun)})
            if position is not None and begun is not None:
                position.record(begun)  # every change before it was read; the tailer brings the rest
                report.consistent_from = begun
        report.finished = finished
        report.position = last
        report.seconds = time.monotonic() - started
        return report

    def _add(self, conn: Connection, writer: TagWriter, wanted: dict[int, list[Wanted]]) -> list[Any]:
        """Add the wanted links; a ticket that already has a source tag keeps it (reconcile decides)."""
        with_source = [ticket_id for ticket_id, items in wanted.items() if any(w.kind == SOURCE for w in items)]
        if with_source:
            has = {link.ticket_id for link in writer.rule_links(conn, with_source) if link.ref.startswith("source:")}
            wanted = {ticket_id: [w for w in items if w.kind != SOURCE or ticket_id not in has]
                      for ticket_id, items in wanted.items()}
        return writer.add(conn, wanted)

    # --- ticket ids -------------------------------------------------------------------------------------
    def _bounds(self, conn: Connection, since: datetime | None) -> tuple[int, int]:
        t = self.ticket
        high = conn.execute(select(func.max(t.c.id))).scalar() or 0
        query = select(func.min(t.c.id))
        if since is not None:
            query = query.where(t.c.create_time >= since)  # ticket_create_time: an index lookup
        low = conn.execute(query).scalar()
        return (int(low), int(high)) if low is not None else (int(high) + 1, int(high))

    def _ids(self, conn: Connection, low: int, high: int, since: datetime | None) -> list[int]:
        t = self.ticket
        query = select(t.c.id).where(t.c.id >= low, t.c.id <= high).order_by(t.c.id).limit(self.chunk)
        if since is not None:
            query = query.where(t.c.create_time >= since)
        return [int(i) for i in conn.execute(query).scalars()]

    def _count(self, conn: Connection, low: int, high: int, since: datetime | None) -> int:
        t = self.ticket
        query = select(func.count()).select_from(t).where(t.c.id >= low, t.c.id <= high)
        if since is not None:
            query = query.where(t.c.create_time >= since)
        return int(conn.execute(query).scalar_one())


def _stored(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"log_file": position.log_file, "log_pos": position.log_pos, "gtid": position.gtid}


def _position(stored: Any) -> Position | None:
    if not isinstance(stored, dict):
        return None
    return Position(stored["log_file"], int(stored["log_pos"]), stored.get("gtid"))


def _summed(totals: dict[str, int], **more: int) -> dict[str, int]:
    return {key: int(totals.get(key, 0)) + more.get(key, 0) for key in {*totals, *more}}

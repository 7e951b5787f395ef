"""``otrs-ext tags reconcile``: make every ticket's rule-set tags what the rules give now, and the index agree.

For all tickets (by id ranges) or one: the tags are derived again from the database (``derive``), missing links
are added, links a rule set that no rule gives any more are removed (a notification rule changed or went, the
participant setting changed, a source rule now says otherwise), links of tickets that no longer exist go, and
where the search index's ``tag_ids`` differ from the links, the index is set again. Manual tags are never
touched. Reads are short queries on their own connection; each range's writes are one transaction on
otrs-ext's own tables. Running it twice changes nothing the second time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, func, select

from schema_maps import OtrsSchema

from ..search.indexer import Indexer
from .apply import Change, TagWriter
from .derive import NOTIFICATION, PARTICIPANT, PARTS, SOURCE, Deriver, Wanted
from .index_sync import index_tags, push_tags
from .rules import TagRules
from .store import TagStore, name_key

DEFAULT_RANGE = 1000  # ticket ids per range
SHOWN = 200  # changes listed one by one in the summary

Progress = Callable[[int, int], None]  # (ticket ids covered, ticket ids to cover)


@dataclass
class ReconcileReport:
    tickets: int = 0
    changes: list[Change] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)  # tickets gone from OTRS whose links were removed
    index_fixed: int = 0  # tickets whose index tag_ids were set again
    presented: list[str] = field(default_factory=list)  # rule tags whose label or colour the rules changed
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.forgotten or self.index_fixed or self.presented)

    def summary(self) -> str:
        lines = [str(change) for change in self.changes[:SHOWN]]
        if len(self.changes) > SHOWN:
            lines.append(f"... and {len(self.changes) - SHOWN} more changes")
        lines += [f"ticket {ticket_id}: gone from OTRS, its links removed" for ticket_id in self.forgotten[:SHOWN]]
        lines += [f"{ref}: label and colour as the rules say now" for ref in self.presented]
        added = sum(1 for c in self.changes if c.action == "+")
        lines.append(f"reconciled {self.tickets} tickets in {self.seconds:.1f} s: {added} links added, "
                     f"{len(self.changes) - added} removed, {len(self.forgotten)} deleted tickets' links removed, "
                     f"{self.index_fixed} tickets' index tags set again"
                     + ("" if self.changed else "; nothing changed"))
        return "\n".join(lines)


class Reconcile:
    def __init__(self, engine: Engine, schema: OtrsSchema, rules: TagRules, *, own_schema: str | None = None,
                 indexer: Indexer | None = None, range_size: int = DEFAULT_RANGE) -> None:
        self.engine = engine
        self.rules = rules
        self.indexer = indexer
        self.range_size = range_size
        self.deriver = Deriver(schema, rules, own_schema)
        self.store = TagStore(own_schema)
        self.ticket = schema.tables.ticket

    def run(self, *, ticket_id: int | None = None, progress: Progress | None = None) -> ReconcileReport:
        report = ReconcileReport()
        started = time.monotonic()
        link = self.store.link_table
        if ticket_id is not None:
            low, high = ticket_id, ticket_id
        else:
            with self.engine.connect() as conn:
                low = min(conn.execute(select(func.min(self.ticket.c.id))).scalar() or 1,
                          conn.execute(select(func.min(link.c.ticket_id))).scalar() or 1)
                high = max(conn.execute(select(func.max(self.ticket.c.id))).scalar() or 0,
                           conn.execute(select(func.max(link.c.ticket_id))).scalar() or 0)
        writer = TagWriter(self.store, remember=True)
        with self.engine.begin() as conn:
            report.presented = writer.present(conn, [
                Wanted(NOTIFICATION, rule.name, rule.rule, None, rule.labels, rule.colour)
                for rule in self.rules.notifications])
        position, low, high = int(low), int(low), int(high)
        while position <= high:
            start = self._next_id(position)  # over gaps in the ids (deleted tickets) in one step
            if start is None or start > high:
                break
            end = min(start + self.range_size - 1, high)
            self._range(start, end, writer, report)
            position = end + 1
            if progress is not None:
                progress(position - low, high - low + 1)
        report.seconds = time.monotonic() - started
        return report

    def _next_id(self, position: int) -> int | None:
        """The smallest ticket id at or after ``position`` that OTRS or the link table has."""
        t, link = self.ticket, self.store.link_table
        with self.engine.connect() as conn:
            found = [conn.execute(select(func.min(t.c.id)).where(t.c.id >= position)).scalar(),
                     conn.execute(select(func.min(link.c.ticket_id)).where(link.c.ticket_id >= position)).scalar()]
        present = [int(i) for i in found if i is not None]
        return min(present) if present else None

    def _range(self, low: int, high: int, writer: TagWriter, report: ReconcileReport) -> None:
        t, link = self.ticket, self.store.link_table
        with self.engine.connect() as conn:
            ids = [int(i) for i in conn.execute(select(t.c.id).where(t.c.id >= low, t.c.id <= high)).scalars()]
            wanted = self.deriver.for_tickets(conn, ids, PARTS)
        with self.engine.begin() as conn:
            linked = {int(i) for i in conn.execute(select(link.c.ticket_id).distinct()
                                                   .where(link.c.ticket_id >= low, link.c.ticket_id <= high)).scalars()}
            gone = sorted(linked - set(ids))
            if gone:
                conn.execute(delete(link).where(link.c.ticket_id.in_(gone)))
            tags = writer.tags(conn, (w for items in wanted.values() for w in items))
            report.changes += writer.add(conn, wanted, tags=tags)
            keep = {ticket: {tags[(w.kind, name_key(w.name))].id for w in items} for ticket, items in wanted.items()}
            report.changes += writer.prune(conn, ids, keep, (SOURCE, PARTICIPANT, NOTIFICATION))
            current: dict[int, tuple[int, ...]] = defaultdict(tuple)
            rows = conn.execute(select(link.c.ticket_id, link.c.tag_id).where(link.c.ticket_id.in_(ids))
                                .order_by(link.c.ticket_id, link.c.tag_id)) if ids else []
            for ticket_id, tag_id in rows:
                current[int(ticket_id)] += (int(tag_id),)
        report.tickets += len(ids)
        report.forgotten += gone
        if self.indexer is not None and ids:
            indexed = index_tags(self.indexer, low, high)
            present = set(ids)
            differing = {ticket_id: current[ticket_id] for ticket_id, found in indexed.items()
                         if ticket_id in present and found != {current[ticket_id]}}
            push_tags(self.indexer, differing)
            report.index_fixed += len(differing)

"""Find and repair drift between the index and the database without a full rebuild.

Both sides compute, per article id range, the count, the largest id and the sum of a checksum of every
document's attributes (ticket, queue, state, lock, owner, responsible, priority, visibility, sender, channel,
ticket change time and CRC32s of customer, customer user and title): one GROUP BY on each side for the whole
id space. Only ranges that differ are compared document by document and repaired: missing or stale documents
are REPLACEd from the database, documents of vanished articles deleted.

Full-text content other than the title is not compared (Sphinx 2.2 RT does not store field text); OTRS
articles do not change after creation, except through OTOBO 11's article edit, which a reindex picks up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, literal, select, text
from sqlalchemy.sql.elements import ColumnElement

from schema_maps import OtrsSchema

from ..db.sphinxql import SphinxQL
from .documents import DocumentSource
from .indexer import Indexer, RtIndex

DEFAULT_RANGE = 10_000
_MOD = 1_000_003  # keeps each term of the checksum small, so sums over a range stay exact in int64

# weight per attribute; the same on both sides (a permutation of values should not cancel out)
_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("ticket_id", 1), ("queue_id", 3), ("state_id", 5), ("state_type_id", 7), ("lock_id", 11), ("owner_id", 13),
    ("responsible_id", 17), ("priority_id", 19), ("visible_for_customer", 23), ("sender_type_id", 43),
    ("channel_id", 47),
)
_MODDED: tuple[tuple[str, int], ...] = (
    ("ticket_changed", 29), ("customer_id_crc", 31), ("customer_user_crc", 37), ("title_crc", 41),
)

Bucket = tuple[int, int, int]  # count, max id, checksum sum


@dataclass
class ReconcileReport:
    ranges: int = 0
    differing: list[int] = field(default_factory=list)  # first id of each range that differed
    missing: int = 0  # articles the index lacked
    stale: int = 0  # documents whose attributes differed
    extra: int = 0  # documents of articles the database no longer has
    repaired: bool = False

    @property
    def drift(self) -> int:
        return self.missing + self.stale + self.extra

    def summary(self) -> str:
        action = "repaired" if self.repaired else "found (not repaired)"
        return (f"compared {self.ranges} ranges, {len(self.differing)} differed; {action}: {self.missing} missing, "
                f"{self.stale} stale, {self.extra} extra documents")


def index_checksum_sql() -> str:
    """The per-document checksum as a SphinxQL expression over the index attributes."""
    terms = [f"{name}*{weight}" for name, weight in _WEIGHTS]
    terms += [f"({name} % {_MOD})*{weight}" for name, weight in _MODDED]
    return " + ".join(terms)


def database_checksum(source: DocumentSource) -> ColumnElement:
    """The same checksum computed by MariaDB from the OTRS tables (values exactly as documents.py indexes them)."""
    t, s, a = source.ticket, source.state, source.article
    values = {
        "ticket_id": a.c.ticket_id, "queue_id": t.c.queue_id, "state_id": t.c.ticket_state_id,
        "state_type_id": s.c.type_id, "lock_id": t.c.ticket_lock_id, "owner_id": t.c.user_id,
        "responsible_id": t.c.responsible_user_id, "priority_id": t.c.ticket_priority_id,
        "visible_for_customer": source.visible, "sender_type_id": a.c.article_sender_type_id,
        "channel_id": source.channel,
        "ticket_changed": func.timestampdiff(text("SECOND"), literal("1970-01-01 00:00:00"), t.c.change_time),
        "customer_id_crc": func.crc32(func.coalesce(t.c.customer_id, "")),
        "customer_user_crc": func.crc32(func.coalesce(t.c.customer_user_id, "")),
        "title_crc": func.crc32(func.coalesce(t.c.title, "")),
    }
    expression: ColumnElement = literal(0)
    for name, weight in _WEIGHTS:
        expression = expression + func.coalesce(values[name], 0) * weight
    for name, weight in _MODDED:
        expression = expression + (func.coalesce(values[name], 0) % _MOD) * weight
    return expression


def reconcile(engine: Engine, schema: OtrsSchema, search: SphinxQL, *, range_size: int = DEFAULT_RANGE,
              repair: bool = True, progress: Callable[[int, int], None] | None = None,
              own_schema: str | None = None) -> ReconcileReport:
    """``own_schema``: where otrs-ext's own tables are (repaired documents carry their tickets' tags)."""
    indexer = Indexer(engine, schema, search, own_schema=own_schema)
    source = indexer.source
    report = ReconcileReport(repaired=repair)
    with engine.connect() as db, indexer.index() as rt:
        ours = _database_buckets(db, source, range_size)
        theirs = _index_buckets(rt, range_size, max(len(ours), 1))
        buckets = sorted(set(ours) | set(theirs))
        report.ranges = len(buckets)
        for n, bucket in enumerate(buckets, 1):
            if ours.get(bucket) != theirs.get(bucket):
                low, high = bucket * range_size, (bucket + 1) * range_size - 1
                report.differing.append(low)
                _repair_range(db, rt, indexer, low, high, report, repair)
            if progress is not None:
                progress(n, len(buckets))
    return report


def _database_buckets(db: Connection, source: DocumentSource, size: int) -> dict[int, Bucket]:
    a = source.article
    bucket = (a.c.id.op("DIV")(size)).label("bucket")
    rows = db.execute(
        select(bucket, func.count(), func.max(a.c.id), func.sum(database_checksum(source)))
        .select_from(source.joined).group_by(text("bucket"))
    )
    return {int(b): (int(c), int(m), int(s or 0)) for b, c, m, s in rows}


def _index_buckets(rt: RtIndex, size: int, expected: int) -> dict[int, Bucket]:
    # a GROUP BY answers at most max_matches groups; leave room for ranges only the index has
    limit = max(1000, expected * 2)
    rows = rt.query(f"SELECT id DIV {int(size)} AS bucket, COUNT(*) AS c, MAX(id) AS m, "
                    f"SUM({index_checksum_sql()}) AS s FROM {rt.index} GROUP BY bucket ORDER BY bucket ASC "
                    f"LIMIT {limit} OPTION max_matches={limit}")
    return {int(b): (int(c), int(m), int(s or 0)) for b, c, m, s in rows}


def _repair_range(db: Connection, rt: RtIndex, indexer: Indexer, low: int, high: int, report: ReconcileReport,
                  repair: bool) -> None:
    source = indexer.source
    a = source.article
    ours = dict(db.execute(select(a.c.id, database_checksum(source)).select_from(source.joined)
                           .where(a.c.id.between(low, high))).all())
    theirs = _index_checksums(rt, low, high)
    missing = sorted(set(ours) - set(theirs))
    stale = sorted(i for i in set(ours) & set(theirs) if int(ours[i]) != theirs[i])
    extra = sorted(set(theirs) - set(ours))
    report.missing += len(missing)
    report.stale += len(stale)
    report.extra += len(extra)
    if not repair:
        return
    if missing or stale:
        rt.replace(source.by_articles(db, missing + stale))
    if extra:
        rt.delete_ids(extra)
    db.rollback()


def _index_checksums(rt: RtIndex, low: int, high: int) -> dict[int, int]:
    found: dict[int, int] = {}
    last = low - 1
    page = 1000
    while True:
        rows = rt.query(f"SELECT id, {index_checksum_sql()} AS c FROM {rt.index} WHERE id > {int(last)} "
                        f"AND id <= {int(high)} ORDER BY id ASC LIMIT {page} OPTION max_matches={page}")
        found.update((int(i), int(c)) for i, c in rows)
        if len(rows) < page:
            return found
        last = int(rows[-1][0])

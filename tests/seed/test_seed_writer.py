"""The bulk writer's SQL text round-trips every value through a real MariaDB unchanged."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, select
from sqlalchemy.dialects.mysql import LONGBLOB

from otrs_ext.seed.writer import BulkWriter

AWKWARD = ["it's", "back\\slash", "a\\'b", "tab\tnew\nline\r\n", "nul\x00byte", "\x1a", "ёжик «ёлка» — ok",
           "'; DROP TABLE t; --", '"double"', "%s %(x)s {0}", ""]


def test_values_round_trip(otrs_db) -> None:
    engine, _ = otrs_db("znuny71")
    table = Table("seed_writer_probe", MetaData(), Column("id", BigInteger, primary_key=True),
                  Column("s", Text), Column("v", String(50)), Column("b", LONGBLOB))
    table.create(engine)
    rows = [{"id": i, "s": s, "v": None if i % 3 else s[:50], "b": s.encode() if i % 2 else bytes(range(256))}
            for i, s in enumerate(AWKWARD * 30, start=1)]  # id 0 would mean "next auto id"
    for threaded in (True, False):
        writer = BulkWriter(engine, threaded=threaded)
        writer.limit = 300  # many small statements
        writer.submit([(table, rows)])
        writer.close()
        with engine.begin() as conn:
            got = [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]
            conn.execute(table.delete())
        assert got == rows
        assert writer.rows == {"seed_writer_probe": len(rows)}


def test_a_failing_batch_is_reported_and_rolled_back(otrs_db) -> None:
    engine, schema = otrs_db("znuny71")
    t = schema.tables.ticket_flag
    good = {"ticket_id": 1, "ticket_key": "Seen", "ticket_value": "1", "create_time": "2025-01-01 00:00:00",
            "create_by": 1}
    writer = BulkWriter(engine)
    writer.submit([(t, [good, dict(good)])])  # the unique key (ticket_id, key, create_by) rejects the second
    try:
        writer.close()
    except Exception as exc:  # noqa: BLE001 - any driver error will do
        assert "Duplicate" in str(exc)
    else:
        raise AssertionError("the duplicate was not reported")
    with engine.connect() as conn:
        assert conn.execute(select(t)).all() == []

"""Seeding is deterministic per seed, differs between seeds, and a second run reuses the organisation."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select

from otrs_ext.seed import run_seed
from otrs_ext.tickets.numbers import is_date_checksum
from schema_maps import GENERATIONS, OtrsSchema

NOW = datetime(2025, 11, 25, 20, 0, 0)
MAIN_TABLES = ("ticket", "ticket_history", "article", "article_flag", "ticket_flag", "users",
               "user_preferences", "group_user", "role_user", "queue", "customer_user", "customer_company")


def _tables(schema: OtrsSchema) -> list:
    tables = [schema.tables[n] for n in MAIN_TABLES]
    tables += [schema.articles.attachments, schema.articles.plain]
    if schema.traits.article_split:
        tables.append(schema.tables.article_data_mime)
    return tables


def _rows(engine: Engine, schema: OtrsSchema) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {table.name: [tuple(r) for r in conn.execute(select(table))] for table in _tables(schema)}


def _checksums(engine: Engine, schema: OtrsSchema, before: dict[str, list[tuple]]) -> dict[str, str]:
    """sha256 over the rows the seed added (the install's own rows carry the install time)."""
    out = {}
    for name, rows in _rows(engine, schema).items():
        old = set(before[name])
        digest = hashlib.sha256()
        for row in sorted((r for r in rows if r not in old), key=repr):
            digest.update(repr(row).encode())
        out[name] = digest.hexdigest()
    return out


@pytest.mark.parametrize("generation", ["znuny71", "otrs6"])
def test_same_seed_same_rows_other_seed_other_rows(otrs_db, generation: str) -> None:
    sums = []
    for seed in (11, 11, 12):
        engine, schema = otrs_db(generation)
        before = _rows(engine, schema)
        run_seed(engine, schema, tickets=60, articles_per_ticket=3, seed=seed, progress=False, batch_size=25,
                 now=NOW)
        sums.append(_checksums(engine, schema, before))
    assert sums[0] == sums[1]
    differ = {name for name in sums[0] if sums[0][name] != sums[2][name]}
    assert {"ticket", "ticket_history", "article"} <= differ
    assert "users" not in differ  # the organisation does not depend on the seed


def test_seeding_twice_adds_tickets_but_no_people(otrs_db) -> None:
    engine, schema = otrs_db("znuny71")
    t = schema.tables

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {n: conn.execute(select(func.count()).select_from(t[n])).scalar_one()
                    for n in ("ticket", "users", "customer_user", "queue", "roles", "groups", "group_user",
                              "role_user", "group_role", "user_preferences", "system_address")}

    first = run_seed(engine, schema, tickets=80, articles_per_ticket=2, seed=3, progress=False, now=NOW)
    before = counts()
    with engine.connect() as conn:
        max_first = conn.execute(select(func.max(t.ticket.c.id))).scalar_one()
    second = run_seed(engine, schema, tickets=80, articles_per_ticket=2, seed=3, progress=False, now=NOW)
    after = counts()
    assert after["ticket"] == before["ticket"] + 80
    del after["ticket"], before["ticket"]
    assert after == before
    assert "users" in first.counts and "users" not in second.counts
    with engine.connect() as conn:
        tns = [tn for (tn,) in conn.execute(select(t.ticket.c.tn).where(t.ticket.c.id > max_first))]
        titles = conn.execute(select(t.ticket.c.title).order_by(t.ticket.c.id)).scalars().all()
    assert len(tns) == 80 and all(is_date_checksum(tn) for tn in tns)
    assert titles[1:81] != titles[81:]  # same seed on a different state: different tickets


def test_counter_row_lets_otrs_continue(otrs_db) -> None:
    engine, schema = otrs_db("znuny7")
    t = schema.tables
    run_seed(engine, schema, tickets=400, articles_per_ticket=1, seed=1, progress=False, now=NOW)
    with engine.connect() as conn:
        today = conn.execute(select(t.ticket.c.tn).where(t.ticket.c.tn.like("20251125%"))).scalars().all()
        counter = conn.execute(select(t.ticket_number_counter.c.counter)).scalars().all()
    assert today and counter == [max(int(tn[10:15]) for tn in today)]


def test_rejects_a_mean_below_one(otrs_db) -> None:
    engine, schema = otrs_db("znuny71")
    with pytest.raises(ValueError, match="at least 1"):
        run_seed(engine, schema, tickets=5, articles_per_ticket=0.5, seed=1, progress=False)


def test_report_is_a_plain_dataclass(otrs_db) -> None:
    engine, schema = otrs_db("znuny71")
    report = run_seed(engine, schema, tickets=5, articles_per_ticket=2, seed=1, progress=False, now=NOW)
    data = asdict(report)  # the CLI's run log stores it
    assert data["counts"]["ticket"] == 5 and data["seconds"] > 0
    assert "ticket_history" in report.summary()


@pytest.mark.parametrize("generation", sorted(GENERATIONS))
def test_every_generation_takes_a_seed(otrs_db, generation: str) -> None:
    engine, schema = otrs_db(generation)
    report = run_seed(engine, schema, tickets=20, articles_per_ticket=3, seed=2, progress=False, now=NOW)
    t = schema.tables
    with engine.connect() as conn:
        tickets = conn.execute(select(func.count()).select_from(t.ticket)).scalar_one()
        articles = conn.execute(select(func.count()).select_from(t.article)).scalar_one()
    assert (tickets, articles) == (21, report.articles + 1)  # + the install's welcome ticket

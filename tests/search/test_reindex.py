"""Backfill (resumable, parallel, safe beside live updates) and reconcile (repairs drift by id ranges)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from otrs_ext.cli import main
from otrs_ext.search.indexdef import INDEX_NAME
from otrs_ext.search.indexer import Indexer
from otrs_ext.search.reconcile import reconcile
from otrs_ext.search.reindex import ReindexState, reindex
from otrs_ext.seed import run_seed
from schema_maps import load


def _seeded(otrs_database, tickets: int = 60, generation: str = "znuny71"):
    engine = otrs_database(generation, migrated=True)
    schema = load(generation)
    run_seed(engine, schema, tickets=tickets, articles_per_ticket=3, seed=7, progress=False)
    return engine, schema


def _articles(engine, schema) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.tables.article)).scalar_one()


def _indexed(search) -> int:
    return int(search.query(f"SELECT COUNT(*) FROM {INDEX_NAME}")[0][0])


def test_reindex_resumes_after_its_watermark(otrs_database, search, redis_client) -> None:
    engine, schema = _seeded(otrs_database)
    total = _articles(engine, schema)
    state = ReindexState(redis_client)
    first = reindex(engine, schema, search, state=state, workers=2, chunk=20, stop_after=3)
    assert first.articles <= 60 and state.load() == (first.watermark, state.load()[1])
    assert 0 < _indexed(search) < total

    second = reindex(engine, schema, search, state=state, workers=3, chunk=20)
    assert second.resumed_from == first.watermark
    assert first.articles + second.articles == total == _indexed(search)
    assert state.load() is None  # a finished run leaves no watermark
    assert reconcile(engine, schema, search, repair=False, range_size=50).drift == 0


@pytest.mark.parametrize("generation", ["otrs5", "otrs6", "otobo11"])
def test_every_generation_indexes_and_reconciles_clean(otrs_database, search, generation: str) -> None:
    engine, schema = _seeded(otrs_database, tickets=15, generation=generation)
    report = reindex(engine, schema, search, workers=2, chunk=10)
    assert report.articles == _articles(engine, schema) == _indexed(search)
    assert reconcile(engine, schema, search, repair=False).drift == 0  # both checksums agree on every layout


def test_reindex_deletes_leftovers_and_reconcile_repairs_drift(otrs_database, search, redis_client) -> None:
    engine, schema = _seeded(otrs_database)
    reindex(engine, schema, search, state=ReindexState(redis_client), workers=2, chunk=50)
    with engine.connect() as conn:
        ticket_id, article_ids = _ticket_with_articles(conn)
    indexer = Indexer(engine, schema, search)
    with indexer.index() as rt:
        rt.delete_ids(article_ids[:1])  # a missed ArticleCreated
        rt.update_ticket(ticket_id, {"queue_id": 999})  # a missed move
        rt.execute(f"REPLACE INTO {INDEX_NAME} (id, body, ticket_id) VALUES (9999999, 'ghost', 1)")  # a missed delete

    found = reconcile(engine, schema, search, repair=False, range_size=100)
    assert (found.missing, found.stale, found.extra) == (1, len(article_ids) - 1, 1)
    repaired = reconcile(engine, schema, search, range_size=100)
    assert repaired.drift == found.drift
    assert reconcile(engine, schema, search, repair=False, range_size=100).drift == 0
    assert _indexed(search) == _articles(engine, schema)

    # a title change the index missed: the title CRC attribute makes it visible to reconcile
    with engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET title = 'Renamed behind the index' WHERE id = :t"), {"t": ticket_id})
    assert reconcile(engine, schema, search, range_size=100).stale == len(article_ids)
    hits = search.query(f"SELECT id FROM {INDEX_NAME} WHERE MATCH('@title renamed')")
    assert sorted(int(r[0]) for r in hits) == sorted(article_ids)

    # reindex over a populated index removes documents of deleted articles too
    with indexer.index() as rt:
        rt.execute(f"REPLACE INTO {INDEX_NAME} (id, body, ticket_id) VALUES ({article_ids[0] + 1000000}, 'x', 1)")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM article_data_mime WHERE article_id = :a"), {"a": article_ids[-1]})
        conn.execute(text("DELETE FROM article_flag WHERE article_id = :a"), {"a": article_ids[-1]})
        conn.execute(text("DELETE FROM article_data_mime_plain WHERE article_id = :a"), {"a": article_ids[-1]})
        conn.execute(text("DELETE FROM article_data_mime_attachment WHERE article_id = :a"), {"a": article_ids[-1]})
        conn.execute(text("DELETE FROM ticket_history WHERE article_id = :a"), {"a": article_ids[-1]})
        conn.execute(text("DELETE FROM article WHERE id = :a"), {"a": article_ids[-1]})
    report = reindex(engine, schema, search, workers=2, chunk=50, resume=False)
    assert report.deleted == 1  # the deleted article; the stray id beyond the last article is reconcile's
    assert reconcile(engine, schema, search, range_size=100).extra == 1
    assert _indexed(search) == _articles(engine, schema)


def _ticket_with_articles(conn) -> tuple[int, list[int]]:
    ticket_id = conn.execute(text("SELECT ticket_id FROM article GROUP BY ticket_id HAVING COUNT(*) >= 3 "
                                  "ORDER BY ticket_id LIMIT 1")).scalar_one()
    ids = conn.execute(text("SELECT id FROM article WHERE ticket_id = :t ORDER BY id"), {"t": ticket_id}).scalars()
    return ticket_id, list(ids)


def test_cli_reindex_then_reconcile(otrs_database, search, redis_client, redis_server, sphinx_server) -> None:
    engine, schema = _seeded(otrs_database, tickets=20)
    env = {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False), "OTRS_EXT_REDIS_URL": redis_server.url,
           "OTRS_EXT_SEARCH_URL": sphinx_server.url, "OTRS_EXT_LOG_JSON": "false"}
    result = CliRunner().invoke(main, ["search", "reindex", "--no-progress", "--workers", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert f"indexed {_articles(engine, schema)} articles" in result.output
    result = CliRunner().invoke(main, ["search", "reconcile", "--dry-run"], env=env)
    assert result.exit_code == 0 and ", 0 differed" in result.output, result.output

"""``otrs-ext pool status`` and ``otrs-ext points report|reconcile`` on a migrated Znuny 7.1 database."""

from __future__ import annotations

import json
from datetime import datetime

from click.testing import CliRunner
from sqlalchemy import text
from support.agents import add_agent_with

import schema_maps
from otrs_ext.cli import main
from otrs_ext.db.own_tables import own_table

MONTH = datetime.now().strftime("%Y-%m")


def _env(engine, redis_server, sphinx_server, tmp_path):
    (tmp_path / "var" / "tmp").mkdir(parents=True, exist_ok=True)
    return {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False), "OTRS_EXT_REDIS_URL": redis_server.url,
            "OTRS_EXT_SEARCH_URL": sphinx_server.url, "OTRS_EXT_LOG_JSON": "false", "OTRS_EXT_OTRS_HOME": str(tmp_path)}


def _entry(conn, agent_id: int, kind: str, points: str, event_id: str, ticket_id: int | None = None) -> None:
    conn.execute(own_table("points_ledger").insert().values(
        agent_id=agent_id, ticket_id=ticket_id, kind=kind, points=points, reason="test", event_id=event_id,
        occurred_at=datetime.now(), created_at=datetime.now()))


def test_pool_status_counts_without_listing_tickets(otrs_database, redis_server, sphinx_server, tmp_path):
    engine = otrs_database("znuny71", migrated=True)
    result = CliRunner().invoke(main, ["pool", "status", "--json"],
                                env=_env(engine, redis_server, sphinx_server, tmp_path))
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["eligible"] == 1  # the installer's welcome ticket: new, unlocked, in Raw
    assert set(found) == {"agents", "waiting", "holding", "eligible", "queues"}
    plain = CliRunner().invoke(main, ["pool", "status"], env=_env(engine, redis_server, sphinx_server, tmp_path))
    assert "eligible tickets:   1" in plain.output


def test_points_report_and_reconcile(otrs_database, redis_server, sphinx_server, tmp_path):
    engine = otrs_database("znuny71", migrated=True)
    env = _env(engine, redis_server, sphinx_server, tmp_path)
    schema = schema_maps.load("znuny71")
    with engine.begin() as conn:
        agent = add_agent_with(conn, schema, "worker", "rw", first_name="Wendy", last_name="Worker")
        _entry(conn, agent, "adjust", "7.50", "adjust:t1")
    runner = CliRunner()
    table = runner.invoke(main, ["points", "report", "--month", MONTH], env=env)
    assert table.exit_code == 0, table.output
    assert "worker" in table.output and "7.50" in table.output and "departments:" in table.output
    csv = runner.invoke(main, ["points", "report", "--month", MONTH, "--csv"], env=env)
    lines = csv.output.splitlines()
    assert lines[0].startswith("login,name,departments") and lines[1].startswith("worker,Wendy Worker,users,1,")
    bad = runner.invoke(main, ["points", "report", "--month", "2026-13"], env=env)
    assert bad.exit_code == 2 and "month" in bad.output

    clean = runner.invoke(main, ["points", "reconcile", "--month", MONTH], env=env)
    assert clean.exit_code == 0, clean.output
    assert "no differences" in clean.output
    with engine.begin() as conn:  # a credit no lock in ticket_history calls for
        _entry(conn, agent, "credit", "3", "stray:1", ticket_id=1)
        assert conn.execute(text("SELECT COUNT(*) FROM ticket WHERE id = 1")).scalar_one() == 1
    differs = runner.invoke(main, ["points", "reconcile", "--month", MONTH], env=env)
    assert differs.exit_code == 1, differs.output
    assert f"ticket 1 agent {agent} credit" in differs.output and "1 differences" in differs.output

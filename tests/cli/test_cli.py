from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from otrs_ext.cli import main


def _env(otrs_database, redis_server, sphinx_server):
    engine = otrs_database("otrs6")
    return {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False), "OTRS_EXT_REDIS_URL": redis_server.url,
            "OTRS_EXT_SEARCH_URL": sphinx_server.url, "OTRS_EXT_LOG_JSON": "false"}


def test_db_upgrade_then_doctor_is_green(otrs_database, redis_server, sphinx_server, tmp_path):
    env = _env(otrs_database, redis_server, sphinx_server)
    (tmp_path / "var" / "tmp" / "CacheFileStorable").mkdir(parents=True)  # OTRS's file cache
    env["OTRS_EXT_OTRS_HOME"] = str(tmp_path)
    runner = CliRunner()
    doctor = runner.invoke(main, ["doctor"], env=env)
    assert doctor.exit_code == 1 and "fix: otrs-ext db upgrade" in doctor.output
    upgrade = runner.invoke(main, ["db", "upgrade"], env=env)
    assert upgrade.exit_code == 0, upgrade.output
    assert "none -> 0003" in upgrade.output
    doctor = runner.invoke(main, ["doctor"], env=env)
    assert doctor.exit_code == 0, doctor.output
    assert "OTRS 6 / Znuny 6.0 (otrs6)" in doctor.output


def test_seed_requires_migrations_then_logs_the_run(otrs_database, redis_server, sphinx_server):
    env = _env(otrs_database, redis_server, sphinx_server)
    runner = CliRunner()
    refused = runner.invoke(main, ["seed", "--tickets", "5"], env=env)
    assert refused.exit_code == 2 and "otrs-ext db upgrade" in refused.output
    assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    seeded = runner.invoke(main, ["seed", "--tickets", "20", "--seed", "3", "--articles-per-ticket", "2",
                                  "--no-progress"], env=env)
    assert seeded.exit_code == 0, seeded.output
    engine = create_engine(env["OTRS_EXT_DB_URL"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar() == 21  # + the welcome ticket
        run = conn.execute(text("SELECT seed, tickets, status, generation FROM otrs_ext_seed_run")).one()
    engine.dispose()
    assert tuple(run) == (3, 20, "done", "otrs6")


def test_bad_setting_is_one_readable_error():
    result = CliRunner().invoke(main, ["doctor"], env={"OTRS_EXT_DB_URL": "sqlite:///x.db"})
    assert result.exit_code == 2
    assert "OTRS_EXT_DB_URL = 'sqlite:///x.db'" in result.output and "Traceback" not in result.output


def test_search_config_needs_no_settings(tmp_path):
    result = CliRunner().invoke(main, ["search", "config", "--port", "9400", "--data-dir", str(tmp_path)],
                                env={"OTRS_EXT_DB_URL": "bad"})
    assert result.exit_code == 0
    assert "type" in result.output and "9400" in result.output and "rt" in result.output


def test_demo_check_brings_everything_up_and_writes_a_ticket(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "demo"), "--tickets", "30", "--check"])
    assert result.exit_code == 0, result.output
    assert "ticket core: created ticket" in result.output and "doctor [fail]" not in result.output
    assert "otrs-ext ticket get" in result.output
    assert "/api/v1 (docs:" in result.output  # otrs-ext serve answered a website's ticket
    assert "tailer: saw ticket" in result.output  # and the tailer streamed it to the event_log handler

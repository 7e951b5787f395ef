from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from otrs_ext.cli import main
from otrs_ext.db import migrate
from otrs_ext.events.plugins import BUILTIN_HANDLERS


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
    assert f"none -> {migrate.head()}" in upgrade.output
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


def test_demo_check_brings_everything_up_and_finds_the_website_ticket_through_the_search_screen(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "demo"), "--tickets", "30", "--check"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "ticket core: created ticket" in out and "doctor [fail]" not in out and "[fail]" not in out
    website = re.search(r"website: ticket (\d+) sent through the durable client's outbox, delivered", out)
    assert website, out  # the Celery outbox worker delivered it to otrs-ext serve
    tn = website.group(1)
    # the tailer ran every built-in handler and streamed the website's ticket to them
    assert f"tailer ({', '.join(BUILTIN_HANDLERS)}): saw ticket {tn} created" in out
    assert f"search: ticket {tn} is searchable" in out
    # --check logged in at /agent/login and the search screen showed the ticket
    assert re.search(rf"check \[ok\] agent search screen: logged in as 'demo', searched "
                     rf"'flamingo-flowers.ru': \d+ ticket\(s\) on the page, {tn} among them", out), out
    guide = out[out.index("The demo (otrs-ext beside"):]
    url = re.search(r"agent search screen: +(http://127\.0\.0\.1:\d+)/agent/search", guide).group(1)
    assert f"(log in at {url}/agent/login)" in guide
    assert re.search(r"demo agent login: +demo\n", guide) and re.search(r"demo agent password: +demo\n", guide)
    assert f"{url}/agent/search?q=flamingo-flowers.ru  (the website's ticket {tn})" in guide
    assert re.search(r"website intake key: +oxk_\S+ ", guide) and re.search(r"agent API key: +oxk_\S+ ", guide)
    assert f"JSON API:              {url}/api/v1  (docs: {url}/api/v1/docs)" in guide
    assert re.search(r"tailer metrics: +http://127\.0\.0\.1:\d+/metrics", guide)
    assert "export OTRS_EXT_DB_URL='mysql+pymysql://" in guide and "otrs-ext ticket get" in guide

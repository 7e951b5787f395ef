from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from otrs_ext.doctor.checks import Doctor
from otrs_ext.events.checkpoint import CheckpointStore
from otrs_ext.events.tailer import server_position
from otrs_ext.localservices import MariaDBServer
from otrs_ext.settings import Settings
from schema_maps.install import install


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _by_name(checks):
    return {c.name: c for c in checks}


def test_green_against_the_harness(otrs_database, redis_server, sphinx_server, tmp_path):
    (tmp_path / "var" / "tmp" / "CacheFileStorable").mkdir(parents=True)  # OTRS's file cache
    settings = Settings(db_url=_url(otrs_database(migrated=True)), redis_url=redis_server.url,
                        search_url=sphinx_server.url, otrs_home=tmp_path).validate()
    checks = Doctor(settings).run()
    assert [(c.name, c.status) for c in checks if c.status != "ok"] == [("tailer", "warn")]  # never ran yet
    assert "Znuny 7.1+" in _by_name(checks)["otrs version"].detail


def test_missing_migration_unreachable_services_are_failures_with_fixes(otrs_database):
    settings = Settings(db_url=_url(otrs_database("otobo11")),
                        redis_url="redis://127.0.0.1:1/0", search_url="mysql://127.0.0.1:1").validate()
    checks = _by_name(Doctor(settings).run())
    assert checks["otrs version"].detail == "OTOBO 11 (otobo11)"
    assert checks["own tables"].status == "fail" and checks["own tables"].fix == "otrs-ext db upgrade"
    assert checks["redis"].status == "fail" and "redis-server" in checks["redis"].fix
    assert checks["search"].status == "fail" and "otrs-ext search config" in checks["search"].fix


def test_unreachable_database_skips_the_dependent_checks():
    settings = Settings(db_url="mysql+pymysql://otrs:otrs@127.0.0.1:1/otrs", redis_url="redis://127.0.0.1:1/0",
                        search_url="mysql://127.0.0.1:1").validate()
    checks = _by_name(Doctor(settings).run())
    assert checks["database"].status == "fail" and "OTRS_EXT_DB_URL" in checks["database"].fix
    assert checks["binlog"].status == "skip"


@pytest.fixture(scope="module", params=[{"binlog": False}, {"binlog_format": "STATEMENT"}], ids=["off", "statement"])
def misconfigured_server(request, tmp_path_factory):
    server = MariaDBServer(tmp_path_factory.mktemp("badbinlog"), **request.param)
    server.start()
    yield request.param, server
    server.stop()


def test_binlog_off_or_statement_fails_naming_the_fix(misconfigured_server):
    kind, server = misconfigured_server
    server.create_database("otrs")
    engine = create_engine(server.url("otrs"))
    with engine.begin() as conn:
        install(conn, "znuny71")
    engine.dispose()
    settings = Settings(db_url=server.url("otrs")).validate()
    checks = _by_name(Doctor(settings).run())
    if kind == {"binlog": False}:
        assert checks["log_bin"].status == "fail"
        assert "log_bin = mysql-bin" in checks["log_bin"].fix and "restart" in checks["log_bin"].fix
    else:
        assert checks["log_bin"].status == "ok"
        assert checks["binlog_format"].status == "fail"
        assert checks["binlog_format"].fix.startswith("SET GLOBAL binlog_format = 'ROW';")


def test_missing_replication_grant_is_reported(mariadb_server, otrs_database):
    url = _url(otrs_database(migrated=True))
    database = url.rsplit("/", 1)[1].split("?")[0]
    mariadb_server.execute(
        "CREATE USER IF NOT EXISTS 'plain'@'127.0.0.1' IDENTIFIED BY 'plain';"
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO 'plain'@'127.0.0.1';"
    )
    settings = Settings(db_url=url.replace("otrs:otrs@", "plain:plain@")).validate()
    checks = _by_name(Doctor(settings).run())
    assert checks["replication privileges"].status == "fail"
    assert "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'plain'@" in checks["replication privileges"].fix
    assert checks["privileges"].status == "fail" and "CREATE" in checks["privileges"].detail


def test_tailer_checkpoint_age_and_distance(otrs_database, redis_server, sphinx_server):
    engine = otrs_database(migrated=True)
    settings = Settings(db_url=_url(engine), redis_url=redis_server.url, search_url=sphinx_server.url,
                        handlers=("event_log",)).validate()
    store = CheckpointStore(engine, "default")
    store.save(server_position(engine), server_position(engine))
    fresh = _by_name(Doctor(settings).run())["tailer"]
    assert fresh.status == "ok" and "bytes behind" in fresh.detail  # other tests write to the same binlog

    with engine.begin() as conn:  # the server moves on while the tailer's checkpoint gets old
        conn.execute(text("UPDATE ticket SET title = 'moved on' WHERE id = 1"))
        conn.execute(text("UPDATE otrs_ext_tail_checkpoint SET updated_at = NOW(6) - INTERVAL 10 MINUTE"))
    stale = _by_name(Doctor(settings).run())["tailer"]
    assert stale.status == "warn" and "bytes behind" in stale.detail and "otrs-ext tail" in stale.fix


def test_a_tailer_without_handlers_is_a_warning_naming_the_setting(otrs_database, redis_server, sphinx_server):
    engine = otrs_database(migrated=True)
    settings = Settings(db_url=_url(engine), redis_url=redis_server.url, search_url=sphinx_server.url).validate()
    CheckpointStore(engine, "default").save(server_position(engine), server_position(engine))
    tailer = _by_name(Doctor(settings).run())["tailer"]
    assert tailer.status == "warn" and "OTRS_EXT_HANDLERS is empty" in tailer.detail and "search" in tailer.fix


def test_an_index_from_an_older_version_is_a_failure_with_the_rebuild_steps(otrs_database, redis_server,
                                                                            tmp_path) -> None:
    from otrs_ext.localservices import SphinxServer
    from otrs_ext.search import indexdef

    older = indexdef.render_config(base_dir=tmp_path, port=0).replace("    rt_field", "    #rt_field", 1)
    older = older.replace(str(tmp_path), "{base_dir}").replace(":0:", ":{port}:")
    with SphinxServer(tmp_path, config_text=older) as sphinx:
        settings = Settings(db_url=_url(otrs_database(migrated=True)), redis_url=redis_server.url,
                            search_url=sphinx.url).validate()
        search = _by_name(Doctor(settings).run())["search"]
    assert search.status == "fail" and "lacks subject" in search.detail
    assert "otrs-ext search reindex" in search.fix

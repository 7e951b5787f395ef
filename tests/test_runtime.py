from __future__ import annotations

import pytest

from otrs_ext.doctor.checks import Doctor
from otrs_ext.errors import UnsupportedOtrsVersion
from otrs_ext.runtime import build_runtime
from otrs_ext.settings import Settings


def _settings(engine, redis_server, sphinx_server, **extra):
    return Settings(db_url=engine.url.render_as_string(hide_password=False), redis_url=redis_server.url,
                    search_url=sphinx_server.url, **extra).validate()


def test_runtime_detects_the_generation_and_connects_every_client(otrs_database, redis_server, sphinx_server):
    runtime = build_runtime(_settings(otrs_database("otobo10"), redis_server, sphinx_server))
    try:
        assert runtime.schema.generation == "otobo10"
        assert runtime.redis.ping()
        assert runtime.search.status()
        lookups = runtime.lookups()
        assert lookups.id("ticket_state", "closed successful") in lookups.states_of_type("closed")
        assert lookups.id("ticket_history_type", "EmailResend") == 51
    finally:
        runtime.close()


def test_a_configured_generation_is_used_and_doctor_flags_a_mismatch(otrs_database, redis_server, sphinx_server):
    settings = _settings(otrs_database("znuny71"), redis_server, sphinx_server, otrs_version="otrs5")
    runtime = build_runtime(settings)
    try:
        assert runtime.schema.generation == "otrs5"
    finally:
        runtime.close()
    check = next(c for c in Doctor(settings).run() if c.name == "otrs version")
    assert check.status == "fail" and check.fix == "set OTRS_EXT_OTRS_VERSION=auto or znuny71"


def test_not_an_otrs_database(mariadb_server, redis_server, sphinx_server):
    mariadb_server.create_database("empty_rt")
    settings = Settings(db_url=mariadb_server.url("empty_rt"), redis_url=redis_server.url,
                        search_url=sphinx_server.url).validate()
    with pytest.raises(UnsupportedOtrsVersion, match="no 'ticket' table"):
        build_runtime(settings)

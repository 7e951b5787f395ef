from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from otrs_ext.db import migrate


@pytest.fixture
def otrs_engine(otrs_database):
    return otrs_database("znuny71")


def _otrs_shape(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT table_name, column_name, column_type FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name NOT LIKE 'otrs\\_ext\\_%' ORDER BY 1, 2"
        )).all()


def test_upgrade_creates_only_prefixed_tables_and_is_repeatable(otrs_engine):
    before = _otrs_shape(otrs_engine)
    assert migrate.current(otrs_engine) is None
    assert migrate.upgrade(otrs_engine) == migrate.head()
    assert migrate.upgrade(otrs_engine) == migrate.head()
    tables = set(inspect(otrs_engine).get_table_names())
    assert {"otrs_ext_alembic_version", "otrs_ext_seed_run"} <= tables
    assert _otrs_shape(otrs_engine) == before  # no OTRS table was altered
    assert migrate.downgrade(otrs_engine) is None
    assert not {t for t in inspect(otrs_engine).get_table_names() if t.startswith("otrs_ext_") and
                t != "otrs_ext_alembic_version"}


def test_own_tables_in_a_separate_database(otrs_engine, mariadb_server):
    own = "own_" + uuid.uuid4().hex[:8]
    try:
        assert migrate.upgrade(otrs_engine, own_schema=own) == migrate.head()
        assert migrate.current(otrs_engine, own_schema=own) == migrate.head()
        assert migrate.current(otrs_engine) is None
        assert not [t for t in inspect(otrs_engine).get_table_names() if t.startswith("otrs_ext_")]
        assert "otrs_ext_seed_run" in inspect(otrs_engine).get_table_names(schema=own)
    finally:
        mariadb_server.drop_database(own)

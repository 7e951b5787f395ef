from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

import schema_maps
from otrs_ext.errors import UnsupportedOtrsVersion


@pytest.fixture
def scratch(mariadb_server):
    name = "scratch_" + uuid.uuid4().hex[:8]
    mariadb_server.create_database(name)
    engine = create_engine(mariadb_server.url(name))
    yield engine
    engine.dispose()
    mariadb_server.drop_database(name)


@pytest.mark.parametrize("generation", list(schema_maps.GENERATIONS))
def test_own_install_is_detected_as_itself(otrs_database, generation):
    with otrs_database(generation).connect() as conn:
        assert schema_maps.detect(conn).generation == generation


def test_a_database_without_ticket_table_is_not_otrs(scratch):
    with scratch.connect() as conn, pytest.raises(UnsupportedOtrsVersion, match="no 'ticket' table"):
        schema_maps.detect_generation(conn)


def test_an_unknown_layout_is_refused_with_what_was_found(scratch):
    with scratch.begin() as conn:
        conn.execute(text("CREATE TABLE ticket (id BIGINT PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE `groups` (id INT PRIMARY KEY)"))
    with scratch.connect() as conn, pytest.raises(UnsupportedOtrsVersion) as err:
        schema_maps.detect_generation(conn)
    assert "marker tables found: groups, ticket" in err.value.message
    assert "OTRS_EXT_OTRS_VERSION" in err.value.message


def test_unknown_generation_name():
    with pytest.raises(UnsupportedOtrsVersion, match="use one of otrs5, otrs6"):
        schema_maps.load("znuny8")


def test_missing_table_names_the_version():
    with pytest.raises(AttributeError, match="OTRS 5 has no table 'communication_channel'"):
        _ = schema_maps.load("otrs5").tables.communication_channel

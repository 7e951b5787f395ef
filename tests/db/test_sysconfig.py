"""SysConfig as deployed: defaults, an admin's global changes, changes not yet deployed, resets, validity."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support.sysconfig_rows import deployed_version, modify, seed

import schema_maps
from otrs_ext.db.sysconfig import CachedSettings, SysConfig, sub_settings

ATTRIBUTE = "Ticket::SearchIndex::Attribute"
STOP = "Ticket::SearchIndex::StopWords###"


@pytest.fixture
def database(otrs_database):
    engine = otrs_database("znuny71")
    with engine.begin() as conn:
        seed(conn)
    yield engine


def _read(engine, **kwargs):
    with engine.connect() as conn:
        return SysConfig(schema_maps.load("znuny71")).read(conn, **kwargs)


def test_defaults_by_name_and_prefix_without_invalid_settings(database) -> None:
    values = _read(database, names=[ATTRIBUTE, "No::Such::Setting"], prefixes=[STOP])
    assert values[ATTRIBUTE] == {"WordCountMax": "1000", "WordLengthMin": "3", "WordLengthMax": "30"}
    languages = sub_settings(values, "Ticket::SearchIndex::StopWords")
    assert set(languages) == {"en", "de", "nl", "es", "fr", "it"}  # Custom is shipped invalid
    assert "about" in languages["en"] and "No::Such::Setting" not in values


def test_an_admins_deployed_change_wins_and_can_make_a_setting_valid(database) -> None:
    with database.begin() as conn:
        modify(conn, ATTRIBUTE, {"WordCountMax": "5", "WordLengthMin": "2", "WordLengthMax": "10"})
        modify(conn, f"{STOP}Custom", ["Zebra"], valid=1)
        modify(conn, f"{STOP}de", ["ignored"], valid=0)
    values = _read(database, names=[ATTRIBUTE], prefixes=[STOP])
    assert values[ATTRIBUTE]["WordCountMax"] == "5"
    assert values[f"{STOP}Custom"] == ["Zebra"]
    assert f"{STOP}de" not in values


def test_a_change_waiting_for_deployment_is_not_in_force_yet(database) -> None:
    with database.begin() as conn:
        modify(conn, ATTRIBUTE, {"WordCountMax": "7"}, dirty=1)
    assert _read(database, names=[ATTRIBUTE])[ATTRIBUTE]["WordCountMax"] == "1000"  # never deployed: default
    with database.begin() as conn:
        deployed_version(conn, ATTRIBUTE, {"WordCountMax": "3"})
        deployed_version(conn, ATTRIBUTE, {"WordCountMax": "4"})
    assert _read(database, names=[ATTRIBUTE])[ATTRIBUTE] == {"WordCountMax": "4"}  # the last deployed one
    with database.begin() as conn:
        deployed_version(conn, ATTRIBUTE, {"WordCountMax": "9"}, reset=1)
    assert _read(database, names=[ATTRIBUTE])[ATTRIBUTE]["WordCountMax"] == "1000"  # reset deployed


def test_an_agents_own_value_is_not_the_systems(database) -> None:
    with database.begin() as conn:
        conn.execute(text(
            "INSERT INTO sysconfig_modified (sysconfig_default_id, name, user_id, is_valid, "
            "user_modification_active, effective_value, is_dirty, reset_to_default, create_time, create_by, "
            "change_time, change_by) SELECT id, name, 1, 1, 1, '--- {}', 0, 0, NOW(), 1, NOW(), 1 "
            "FROM sysconfig_default WHERE name = :n"), {"n": ATTRIBUTE})
    assert _read(database, names=[ATTRIBUTE])[ATTRIBUTE]["WordCountMax"] == "1000"


def test_otrs5_keeps_its_configuration_in_files(otrs_database) -> None:
    sysconfig = SysConfig(schema_maps.load("otrs5"))
    assert not sysconfig.available
    with otrs_database("otrs5").connect() as conn:
        assert sysconfig.read(conn, names=[ATTRIBUTE]) == {}


def test_cached_settings_are_read_again_after_their_ttl() -> None:
    now = [0.0]
    loads = []
    cached = CachedSettings(lambda conn: loads.append(conn) or len(loads), ttl=60, clock=lambda: now[0])
    assert [cached.get("c"), cached.get("c")] == [1, 1]
    now[0] = 59.9
    assert cached.get("c") == 1
    now[0] = 60.0
    assert cached.get("c") == 2
    cached.forget()
    assert cached.get("c") == 3

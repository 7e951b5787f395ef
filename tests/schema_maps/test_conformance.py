"""The schema maps against the genuine schema and initial-data files of every supported version.

Each genuine version is loaded into the private MariaDB exactly as OTRS's installer does (schema, initial
insert, schema-post); then every mapped table and column must exist there with a compatible type, every
column OTRS requires on INSERT must be mapped, detection must name the version, and otrs-ext's own
install of the same generation must seed the same lookup rows.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import mysql
from support.paths import SHARED, VERSIONS

import schema_maps
from schema_maps.install import install

REFERENCE = SHARED / "reference"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"genuine OTRS schema files not found at {REFERENCE} (../shared beside the clone, or OTRS_EXT_SHARED_DIR)",
)

_DIALECT = mysql.dialect()
_TYPE_NAMES = {"integer": "int", "numeric": "decimal"}


@pytest.fixture(scope="module")
def genuine(mariadb_server):
    """version -> engine of a database loaded from that version's genuine files (loaded once, on demand)."""
    loaded: dict[str, object] = {}

    def get(version: str):
        if version not in loaded:
            database = "genuine_" + version.replace("-", "_").replace(".", "_")
            mariadb_server.create_database(database)
            for relative in VERSIONS[version][:3]:
                mariadb_server.source_file(REFERENCE / relative, database)
            loaded[version] = create_engine(mariadb_server.url(database))
        return loaded[version]

    yield get
    for engine in loaded.values():
        engine.dispose()


def _columns(conn, table: str) -> dict[str, dict]:
    rows = conn.execute(text(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, extra, "
        "numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name = :t"), {"t": table}).mappings()
    return {r["column_name"].lower(): dict(r) for r in rows}


def _mapped_type(column) -> str:
    name = column.type.compile(dialect=_DIALECT).split("(")[0].strip().lower()
    return _TYPE_NAMES.get(name, name)


@pytest.mark.parametrize("version", VERSIONS)
def test_detection_names_the_version(genuine, version):
    with genuine(version).connect() as conn:
        assert schema_maps.detect_generation(conn) == VERSIONS[version][3]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_mapped_column_exists_with_a_compatible_type(genuine, version):
    schema = schema_maps.load(VERSIONS[version][3])
    problems = []
    with genuine(version).connect() as conn:
        for uniform, table in schema.tables.items():
            real = _columns(conn, table.name)
            if not real:
                problems.append(f"{uniform}: table {table.name} missing")
                continue
            for column in table.columns:
                spec = real.get(column.name)
                if spec is None:
                    problems.append(f"{table.name}.{column.name}: missing")
                    continue
                if _mapped_type(column) != spec["data_type"]:
                    problems.append(
                        f"{table.name}.{column.name}: mapped {_mapped_type(column)}, is {spec['data_type']}")
                length = getattr(column.type, "length", None)
                if length is not None and spec["character_maximum_length"] is not None:
                    # A mapped length longer than the real one would let otrs-ext write what MariaDB rejects.
                    if length > spec["character_maximum_length"]:
                        problems.append(f"{table.name}.{column.name}: mapped length {length} > "
                                        f"{spec['character_maximum_length']}")
                if column.nullable != (spec["is_nullable"] == "YES") and not column.primary_key:
                    problems.append(f"{table.name}.{column.name}: nullable {column.nullable} vs {spec['is_nullable']}")
            for name, spec in real.items():
                required = spec["is_nullable"] == "NO" and spec["column_default"] is None \
                    and "auto_increment" not in spec["extra"]
                if required and name not in table.c:
                    problems.append(f"{table.name}.{name}: NOT NULL without default but not mapped")
    assert not problems, "\n".join(problems)


_LOOKUPS = {
    "valid": ("id", "name"),
    "ticket_state_type": ("id", "name"),
    "ticket_state": ("id", "name", "type_id"),
    "ticket_priority": ("id", "name"),
    "ticket_lock_type": ("id", "name"),
    "ticket_type": ("id", "name"),
    "ticket_history_type": ("id", "name"),
    "article_sender_type": ("id", "name"),
    "communication_channel": ("id", "name", "module"),
    "article_type": ("id", "name"),
    "queue": ("id", "name", "group_id"),
    "follow_up_possible": ("id", "name"),
    "users": ("id", "login"),
    "link_type": ("id", "name", "valid_id"),
    "link_state": ("id", "name", "valid_id"),
    "link_object": ("id", "name"),
}


@pytest.mark.parametrize("version", VERSIONS)
def test_own_install_seeds_the_genuine_lookup_rows(genuine, mariadb_server, version):
    generation = VERSIONS[version][3]
    schema = schema_maps.load(generation)
    database = "own_" + version.replace("-", "_").replace(".", "_")
    mariadb_server.create_database(database)
    own = create_engine(mariadb_server.url(database))
    try:
        with own.begin() as conn:
            install(conn, generation)
        with own.connect() as mine, genuine(version).connect() as real:
            assert schema_maps.detect_generation(mine) == generation
            for uniform, cols in _LOOKUPS.items():
                if uniform not in schema.tables:
                    continue
                sql = text(f"SELECT {', '.join(cols)} FROM {schema.tables[uniform].name} ORDER BY id")
                assert mine.execute(sql).all() == real.execute(sql).all(), uniform
            if schema.traits.colors:
                sql = text("SELECT id, color FROM ticket_state UNION ALL SELECT id, color FROM ticket_priority")
                assert mine.execute(sql).all() == real.execute(sql).all()
            real_groups = real.execute(text(f"SELECT id, name FROM {schema.tables.groups.name}")).all()
            groups = schema.tables.groups.name
            assert set(mine.execute(text(f"SELECT id, name FROM {groups}")).all()) <= set(real_groups)
            # the genuine welcome ticket reads through the uniform article select like ours
            for conn in (mine, real):
                article = conn.execute(schema.articles.select().where(text("article.ticket_id = 1"))).mappings().one()
                assert (article["channel"], article["is_visible_for_customer"], article["article_sender_type_id"]) == (
                    "Email", 1, 3)
    finally:
        own.dispose()
        mariadb_server.drop_database(database)

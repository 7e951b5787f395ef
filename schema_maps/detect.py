"""Tell which OTRS generation a live database is, from table and column names alone.

No seeded row records the product version and admins can edit seed data, but table names survive upgrades and
OTOBO's migration renames the group table, so a migrated database reads like a fresh one.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from otrs_ext.errors import UnsupportedOtrsVersion

_MARKER_TABLES = (
    "groups", "permission_groups", "groups_table", "article_data_mime", "article_type", "ticket",
    "article_version", "frontend_mask_definition", "translation_item",
)
_MARKER_COLUMNS = (("ticket_state", "color"), ("ticket_flag", "id"), ("dynamic_field_value", "index_set"))


def detect_generation(conn: Connection) -> str:
    """The generation name (``znuny71``, ``otobo10``, ...) of the database ``conn`` points at."""
    tables = {
        row[0].lower()
        for row in conn.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
        )
    }
    columns = {
        (row[0].lower(), row[1].lower())
        for row in conn.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name IN ('ticket_state', 'ticket_flag', "
                "'dynamic_field_value')"
            )
        )
    }
    database = conn.execute(text("SELECT DATABASE()")).scalar()
    found = sorted(t for t in _MARKER_TABLES if t in tables)
    if "ticket" not in tables:
        raise UnsupportedOtrsVersion(
            f"database {database!r} has no 'ticket' table, so it is not an OTRS/Znuny/OTOBO database; "
            "point OTRS_EXT_DB_URL at the database OTRS uses (Kernel/Config.pm: $Self->{Database})"
        )
    if "groups_table" in tables:
        if {"article_version", "frontend_mask_definition", "translation_item"} & tables or (
            "dynamic_field_value", "index_set") in columns:
            return "otobo11"
        return "otobo10"
    if "permission_groups" in tables:
        if ("ticket_flag", "id") in columns:
            return "znuny71"
        if ("ticket_state", "color") in columns:
            return "znuny7"
        return "znuny6"
    if "groups" in tables:
        if "article_data_mime" in tables:
            return "otrs6"
        if "article_type" in tables:
            return "otrs5"
    raise UnsupportedOtrsVersion(
        f"database {database!r} has a 'ticket' table but an unknown layout (marker tables found: "
        f"{', '.join(found) or 'none'}); otrs-ext knows OTRS 5/6, Znuny 6.x/7.x and OTOBO 10/11. "
        "If this is a supported version with a customised schema, set OTRS_EXT_OTRS_VERSION explicitly."
    )

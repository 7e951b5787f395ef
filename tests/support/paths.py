"""Where the shared reference material lives for the tests (``../shared`` beside the clone)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("OTRS_EXT_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))

# folder, files (schema, initial insert, post), generation the detection must name
VERSIONS = {
    "otrs-5.0": ("znuny/otrs-5.0/otrs-schema.mysql.sql", "znuny/otrs-5.0/otrs-initial_insert.mysql.sql",
                 "znuny/otrs-5.0/otrs-schema-post.mysql.sql", "otrs5"),
    "otrs-6.0": ("znuny/otrs-6.0/otrs-schema.mysql.sql", "znuny/otrs-6.0/otrs-initial_insert.mysql.sql",
                 "znuny/otrs-6.0/otrs-schema-post.mysql.sql", "otrs6"),
    "znuny-6.5": ("znuny/znuny-6.5/schema.mysql.sql", "znuny/znuny-6.5/initial_insert.mysql.sql",
                  "znuny/znuny-6.5/schema-post.mysql.sql", "znuny6"),
    "znuny-7.0": ("znuny/znuny-7.0-preview/schema.mysql.sql", "znuny/znuny-7.0-preview/initial_insert.mysql.sql",
                  "znuny/znuny-7.0-preview/schema-post.mysql.sql", "znuny7"),
    "znuny-7.1": ("znuny/znuny-7.1/schema.mysql.sql", "znuny/znuny-7.1/initial_insert.mysql.sql",
                  "znuny/znuny-7.1/schema-post.mysql.sql", "znuny71"),
    "otobo-10.0": ("otobo/otobo-10.0/otobo-schema.mysql.sql", "otobo/otobo-10.0/otobo-initial_insert.mysql.sql",
                   "otobo/otobo-10.0/otobo-schema-post.mysql.sql", "otobo10"),
    "otobo-10.1": ("otobo/otobo-10.1/mysql-generated/otobo-schema.mysql.sql",
                   "otobo/otobo-10.1/mysql-generated/otobo-initial_insert.mysql.sql",
                   "otobo/otobo-10.1/mysql-generated/otobo-schema-post.mysql.sql", "otobo10"),
    "otobo-11.0": ("otobo/otobo-11.0/mysql-generated/otobo-schema.mysql.sql",
                   "otobo/otobo-11.0/mysql-generated/otobo-initial_insert.mysql.sql",
                   "otobo/otobo-11.0/mysql-generated/otobo-schema-post.mysql.sql", "otobo11"),
}


def genuine_files(generation: str) -> tuple[Path, Path, Path]:
    """(schema, initial insert, schema-post) of the newest genuine version of ``generation``."""
    folder, *_ = [files for files in reversed(VERSIONS.values()) if files[3] == generation]
    return tuple(SHARED / "reference" / f for f in folder[:3])  # type: ignore[return-value]

"""A fresh OTRS database of one generation on a test MariaDB server (the project's own definitions, or the
genuine schema files of ``../shared``), and an OTRS home directory to go with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

import schema_maps
from otrs_ext.localservices import MariaDBServer
from schema_maps import OtrsSchema
from schema_maps.install import install
from support.paths import genuine_files


def new_database(server: MariaDBServer, name: str, generation: str, *,
                 genuine: bool = False) -> tuple[Engine, OtrsSchema]:
    """Database ``name`` holding ``generation``'s schema and standard initial data; ``genuine`` loads the
    genuine schema files instead (the test is skipped where they are missing)."""
    server.create_database(name)
    engine = create_engine(server.url(name))
    if not genuine:
        with engine.begin() as conn:
            return engine, install(conn, generation)
    files = genuine_files(generation)
    if not files[0].is_file():
        pytest.skip(f"genuine schema not found at {files[0]}")
    for file in files:
        server.source_file(file, name)
    return engine, schema_maps.load(generation)


def otrs_home(path: Path) -> Path:
    """var/tmp for the file cache, var/article for FS storage (both part of OTRS's tree), and OTRS 5's ticket
    counter file, which its installer creates."""
    (path / "var" / "tmp").mkdir(parents=True)
    (path / "var" / "article").mkdir()
    (path / "var" / "log").mkdir(parents=True)
    (path / "var" / "log" / "TicketCounter.log").write_text("")
    return path

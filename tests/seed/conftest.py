"""Fresh OTRS databases for the seed tests, on the shared private MariaDB.

The server comes from the root conftest's session fixture ``mariadb_server``; if that is not available (the
seed tests run on their own), a private server is started here and stopped by PID at the end of the session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from support.databases import new_database

from schema_maps import OtrsSchema

_names = itertools.count(1)


@pytest.fixture(scope="session")
def seed_mariadb(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    try:
        return request.getfixturevalue("mariadb_server")
    except pytest.FixtureLookupError:
        from otrs_ext.localservices.mariadb import MariaDBServer

        server = MariaDBServer(tmp_path_factory.mktemp("seed-mariadb"))
        server.start()
        request.addfinalizer(server.stop)
        return server


class Databases:
    """Creates fresh databases with an installed OTRS schema and drops them again."""

    def __init__(self, server) -> None:
        self.server = server
        self.made: list[tuple[str, Engine]] = []

    def __call__(self, generation: str = "znuny71") -> tuple[Engine, OtrsSchema]:
        name = f"seed_{os.getpid()}_{next(_names)}_{generation}"
        engine, schema = new_database(self.server, name, generation)
        self.made.append((name, engine))
        return engine, schema

    def close(self) -> None:
        for name, engine in self.made:
            engine.dispose()
            self.server.drop_database(name)


@pytest.fixture
def otrs_db(seed_mariadb) -> Iterator[Callable[..., tuple[Engine, OtrsSchema]]]:
    """``otrs_db(generation)`` -> (engine, schema) of a fresh database, dropped after the test."""
    dbs = Databases(seed_mariadb)
    yield dbs
    dbs.close()


@pytest.fixture(scope="module")
def module_otrs_db(seed_mariadb) -> Iterator[Callable[..., tuple[Engine, OtrsSchema]]]:
    """Like ``otrs_db`` but shared by the tests of one module (seed once, assert many things)."""
    dbs = Databases(seed_mariadb)
    yield dbs
    dbs.close()

"""Session-wide real services for the test suite: a private mariadbd, redis-server and searchd.

Each fixture starts its server only when a test first asks for it, in a directory from ``tmp_path_factory``
(so every pytest-xdist worker gets its own directory and free ports), and stops it by PID at session end.
A missing server binary fails the run rather than skipping: a green run must mean the code was tested.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from sqlalchemy import Engine
from support.databases import new_database

from otrs_ext.db import migrate
from otrs_ext.errors import MissingBinary
from otrs_ext.localservices import LocalService, MariaDBServer, RedisServer, SphinxServer

ServiceT = TypeVar("ServiceT", bound=LocalService)


def _run(build: Callable[[], ServiceT]) -> Iterator[ServiceT]:
    missing: str | None = None
    try:
        service = build()
    except MissingBinary as exc:
        missing = exc.message
    if missing is not None:  # outside the except block, so pytest shows the message once, unchained
        pytest.fail(missing, pytrace=False)
    try:
        service.start()
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    """mariadbd with ROW binlog and FULL row metadata; TCP user otrs/otrs, see ``MariaDBServer.url()``."""
    yield from _run(lambda: MariaDBServer(tmp_path_factory.mktemp("mariadb")))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Non-persistent redis-server; ``redis_server.url`` is ``redis://127.0.0.1:PORT/0``."""
    yield from _run(lambda: RedisServer(tmp_path_factory.mktemp("redis")))


@pytest.fixture(scope="session")
def sphinx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SphinxServer]:
    """searchd serving the ``articles`` RT index from ``otrs_ext.search.indexdef``."""
    yield from _run(lambda: SphinxServer(tmp_path_factory.mktemp("sphinx")))


@pytest.fixture
def otrs_database(mariadb_server: MariaDBServer) -> Iterator[Callable[..., Engine]]:
    """Factory: ``otrs_database("otrs6")`` is an Engine on a new database holding that generation's schema and
    standard initial data (``migrated=True`` also creates otrs-ext's own tables). Dropped after the test."""
    created: list[tuple[str, Engine]] = []

    def make(generation: str = "znuny71", *, migrated: bool = False) -> Engine:
        name = f"otrs_{generation}_{uuid.uuid4().hex[:8]}"
        engine, _ = new_database(mariadb_server, name, generation)
        created.append((name, engine))
        if migrated:
            migrate.upgrade(engine)
        return engine

    yield make
    for name, engine in created:
        engine.dispose()
        mariadb_server.drop_database(name)

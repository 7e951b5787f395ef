"""Fixtures of the indexer tests, imported by conftest.py. The search tests share the session's searchd: each
test starts and ends with an empty ``articles`` index (other tests, e.g. tests/localservices, add documents).

``search_tailing()`` runs the tailer in a thread with the ``search`` handler, like ``tests/events``'s
``tailing()`` with the event_log handler (both are ``support.tailing.Tail``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from support.tailing import Recorder, Tail, dispatcher

import schema_maps
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.events.dispatch import Dispatcher
from otrs_ext.events.handlers.search_index import SearchHandler
from otrs_ext.search.indexdef import INDEX_NAME


@pytest.fixture
def search(sphinx_server) -> Iterator[SphinxQL]:
    client = SphinxQL(sphinx_server.url)
    client.query(f"TRUNCATE RTINDEX {INDEX_NAME}")
    yield client
    client.query(f"TRUNCATE RTINDEX {INDEX_NAME}")


@pytest.fixture
def redis_client(redis_server):
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class SearchTail(Tail):
    """A Tail whose dispatcher runs the ``search`` handler (plus the recorder, to wait on events)."""

    search: SphinxQL | None = None
    redis: object | None = None

    def dispatcher(self) -> Dispatcher:
        return dispatcher(self.engine, self.schema, {"search": SearchHandler(), "recorder": self.recorder},
                          search=self.search, redis=self.redis)


@pytest.fixture
def search_tailing(otrs_database, search, redis_client) -> Iterator[Callable[..., SearchTail]]:
    tails: list[SearchTail] = []

    def make(generation: str = "znuny71", *, engine: Engine | None = None, **config: object) -> SearchTail:
        engine = engine or otrs_database(generation, migrated=True)
        tail = SearchTail(engine, schema_maps.load(generation), Recorder())
        tail.search, tail.redis = search, redis_client
        tails.append(tail)
        return tail.start(**config)

    yield make
    for tail in tails:
        tail.halt()

"""Fixtures of the indexer tests, imported by conftest.py. The search tests share the session's searchd: each
test starts and ends with an empty ``articles`` index (other tests, e.g. tests/localservices, add documents).

``search_tailing()`` runs the tailer in a thread with the ``search`` handler, like ``tests/events``'s
``tailing()`` with the event_log handler.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pluggy
import pytest
from sqlalchemy import Engine

import schema_maps
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.events import hookspecs
from otrs_ext.events.dispatch import Dispatcher, Services
from otrs_ext.events.handlers.search_index import SearchHandler
from otrs_ext.events.tailer import TailConfig, Tailer
from otrs_ext.search.indexdef import INDEX_NAME

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "events"))
from tail_support import Recorder, Tail


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

    def start(self, **config: object) -> SearchTail:
        import threading

        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        manager.register(SearchHandler(), name="search")
        manager.register(self.recorder, name="recorder")
        services = Services(engine=self.engine, schema=self.schema, search=self.search, redis=self.redis)
        dispatcher = Dispatcher(manager, services)
        self.stop = threading.Event()
        self.tailer = Tailer(self.engine, self.schema, dispatcher,
                             config=TailConfig(**{"debounce": 0.5, "heartbeat": 0.2, "checkpoint_interval": 0.2,
                                                  **config}))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self


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

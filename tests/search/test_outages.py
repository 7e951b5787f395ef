"""The tailer with the ``search`` handler rides out outages of Redis and searchd: it stays up, /healthz and
the lag show the stall, and when the service is back it resumes where it was, losing and duplicating nothing.
Each test runs its own Redis or searchd, stopped and started again on the same port."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from index_support import SearchTail
from support.tailing import Recorder
from test_indexer import _match, _service, _until

import schema_maps
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.localservices import LocalService, RedisServer, SphinxServer, free_port
from otrs_ext.search.freshness import read_freshness
from otrs_ext.tickets.inputs import NewArticle, NewTicket

OUTAGE_SECONDS = 3.0


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", port=free_port())  # a fixed port: the restart takes it again
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_searchd(tmp_path: Path) -> Iterator[SphinxServer]:
    server = SphinxServer(tmp_path / "sphinx", port=free_port())
    server.start()
    yield server
    server.stop()


def _tail(otrs_database, search: SphinxQL, client: redis.Redis) -> SearchTail:
    engine = otrs_database("znuny71", migrated=True)
    tail = SearchTail(engine, schema_maps.load("znuny71"), Recorder())
    tail.search, tail.redis = search, client
    return tail.start()


def _lag(metrics_text: str) -> float:
    return float(re.search(r"^otrs_ext_tail_lag_seconds (\S+)$", metrics_text, re.MULTILINE).group(1))


def _restart(server: LocalService) -> None:
    """After the outage, a new process in the same directory on the same port."""
    time.sleep(OUTAGE_SECONDS)
    port = server.port
    server.start()
    assert server.port == port


def _ride_out(tail: SearchTail, stop, restart) -> None:
    """Index one ticket, take the service away, write another, see the stall, bring it back, see it indexed."""
    service = _service(tail)
    service.create_ticket(1, NewTicket(title="Before", queue="Raw"), NewArticle(body="beforeword", subject="x"))
    _until(lambda: _match(tail.search, "beforeword"))

    stop()
    service.create_ticket(1, NewTicket(title="During", queue="Raw"), NewArticle(body="duringword", subject="y"))
    metrics = tail.tailer.metrics
    _until(lambda: metrics.state == "stalled", 15)
    assert not metrics.healthy()
    _until(lambda: _lag(metrics.render()) >= 1.0, 15)
    assert tail.thread.is_alive() and tail.error is None

    restart()
    _until(lambda: _match(tail.search, "duringword"), 60)
    _until(lambda: metrics.state == "streaming", 15)
    assert metrics.healthy() and tail.thread.is_alive() and tail.error is None
    assert len(_match(tail.search, "beforeword")) == 1 and len(_match(tail.search, "duringword")) == 1


def test_a_redis_outage_stalls_the_search_handler_and_it_resumes(otrs_database, search, private_redis,
                                                                 caplog) -> None:
    client = redis.Redis.from_url(private_redis.url, socket_timeout=2, socket_connect_timeout=2)
    tail = _tail(otrs_database, search, client)
    _ride_out(tail, private_redis.stop, lambda: _restart(private_redis))
    assert read_freshness(client) is not None  # the handler's Redis write happened after the outage
    messages = [r.getMessage() for r in caplog.records if "could not reach a service" in r.getMessage()]
    assert messages and all("--skip" not in m and "nothing is skipped" in m for m in messages)
    tail.halt()


def test_a_searchd_outage_stalls_the_search_handler_and_it_resumes(otrs_database, redis_client,
                                                                   private_searchd) -> None:
    search = SphinxQL(private_searchd.url)
    tail = _tail(otrs_database, search, redis_client)
    _ride_out(tail, private_searchd.stop, lambda: _restart(private_searchd))
    tail.halt()

"""The pool tests' world: a migrated Znuny 7.1 database, the session's Redis under a prefix per test, and a
tailer with the ``pool`` handler on request (``world.tail()``), stopped after the test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from pool_world import World

import schema_maps
from otrs_ext.pool.config import PoolConfig


@pytest.fixture
def redis_client(redis_server) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


@pytest.fixture
def world(otrs_database, redis_client, tmp_path) -> Iterator[World]:
    engine = otrs_database("znuny71", migrated=True)
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
    prefix = f"test-pool-{uuid.uuid4().hex[:8]}:"
    made = World(engine, schema_maps.load("znuny71"), redis_client, tmp_path / "otrs",
                 PoolConfig(redis_prefix=prefix, excluded_queues=("Junk",)))
    try:
        yield made
    finally:
        for tail in made.tails:
            tail.halt()
        keys = list(redis_client.scan_iter(prefix + "*"))
        if keys:
            redis_client.delete(*keys)

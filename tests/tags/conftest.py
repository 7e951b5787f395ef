"""Tag tests: a fresh Znuny 7.1 database with two agents, a tailer running the ``tags`` handler (``tag_tail``),
and the session's searchd with an empty index (``search``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from support.agents import add_agent_with
from support.tailing import Recorder
from tag_support import TagTail, rules_for_tests

import schema_maps
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.search.indexdef import INDEX_NAME
from otrs_ext.tags.rules import TagRules


@pytest.fixture
def engine(otrs_database) -> Engine:
    return otrs_database("znuny71", migrated=True)


@pytest.fixture
def agents(engine) -> dict[str, int]:
    schema = schema_maps.load("znuny71")
    with engine.begin() as conn:
        return {login: add_agent_with(conn, schema, login, "rw", first_name=login, last_name="Agent",
                                      password="secret-pw")
                for login in ("anna.petrova", "ben.miller")}


@pytest.fixture
def tag_tail(engine) -> Iterator[Callable[..., TagTail]]:
    tails: list[TagTail] = []

    def make(*, rules: TagRules | None = None, search: SphinxQL | None = None, redis: object | None = None,
             **config: object) -> TagTail:
        tail = TagTail(engine, schema_maps.load("znuny71"), Recorder())
        tail.rules, tail.search, tail.redis = rules or rules_for_tests(), search, redis
        tails.append(tail)
        return tail.start(**config)

    yield make
    for tail in tails:
        tail.halt()


@pytest.fixture
def search(sphinx_server) -> Iterator[SphinxQL]:
    client = SphinxQL(sphinx_server.url)
    client.query(f"TRUNCATE RTINDEX {INDEX_NAME}")
    yield client
    client.query(f"TRUNCATE RTINDEX {INDEX_NAME}")

"""A tailer running in a thread against a fresh OTRS database on the private ROW-binlog MariaDB.

``tailing()`` starts it (first start: a snapshot of the initial data, then streaming) with the ``event_log``
handler and an in-memory recorder; ``tail.wait(lambda events: ...)`` waits until the recorded events satisfy
a condition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from support.tailing import Recorder, Tail

import schema_maps


@pytest.fixture
def tailing(otrs_database) -> Iterator[Callable[..., Tail]]:
    tails: list[Tail] = []

    def make(generation: str = "znuny71", *, start: bool = True, engine: Engine | None = None, **config) -> Tail:
        engine = engine or otrs_database(generation, migrated=True)
        tail = Tail(engine, schema_maps.load(generation), Recorder())
        tails.append(tail)
        return tail.start(**config) if start else tail

    yield make
    for tail in tails:
        tail.halt()

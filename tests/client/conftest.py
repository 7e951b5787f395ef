"""A running stack per test: ``otrs-ext serve`` + a Celery worker on a fresh Znuny 7.1 database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from outbox_support import OUTBOX_DB, Stack, running_stack


@pytest.fixture
def stack(otrs_database, redis_server, sphinx_server, tmp_path: Path, monkeypatch) -> Iterator[Stack]:
    # the alert sink reads the outbox Redis from the environment, in this process as in the worker
    monkeypatch.setenv("OTRS_EXT_OUTBOX_REDIS_URL", redis_server.url.rsplit("/", 1)[0] + f"/{OUTBOX_DB}")
    engine = otrs_database("znuny71", migrated=True)
    with running_stack(engine, redis_server.url, sphinx_server.url, tmp_path) as running:
        yield running

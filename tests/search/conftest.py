"""Search tests: an OTRS world indexed into the session's searchd (``world``).

NOTE: this file was accidentally overwritten by the indexer helper while both worked in tests/search; the
``world`` fixture below is a reconstruction from search_support.py. The indexer's own fixtures live in
index_support.py (imported below), so this file stays the query/service side's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from index_support import redis_client, search, search_tailing  # noqa: F401 - the indexer tests' fixtures
from search_support import World, build_world, truncate
from support.runtimes import runtime_for

from otrs_ext.search.compose import build_search_service
from otrs_ext.tickets.compose import build_ticket_core


@pytest.fixture
def world(otrs_database, sphinx_server, redis_server, tmp_path: Path) -> Iterator[World]:
    engine = otrs_database("znuny71", migrated=True)
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path, otrs_version="znuny71",
                          otrs_base_url="https://otrs.example/otrs/")
    core = build_ticket_core(runtime)
    service = build_search_service(runtime, core.permissions)
    built = build_world(runtime, core, service)
    built.reindex()
    yield built
    truncate(runtime.search)
    runtime.close()

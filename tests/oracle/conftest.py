"""Fixtures of the Znuny oracle tests: ``oracle`` (one per xdist worker, see README.md) and the running test's
name, which ``deliberate.py`` entries are matched against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from oracle_harness import Oracle, OracleError
from pending import names_of


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oracle_pending(*names): scenario of tests/oracle/pending.py issues (fixed)")


@pytest.fixture(scope="session")
def oracle(mariadb_server, redis_server) -> Iterator[Oracle]:
    """The Znuny 7.0 oracle on this worker's private MariaDB: set up once, restored per scenario. A machine
    where Perl or Znuny cannot be set up fails here, with setup-znuny's log; it never skips."""
    instance = Oracle(mariadb_server, redis_server.url)
    failure = None
    try:
        instance.start()
    except OracleError as exc:
        failure = str(exc)
    if failure is not None:
        instance.stop()
        pytest.fail(f"the Znuny oracle could not be set up: {failure}", pytrace=False)
    yield instance
    instance.stop()


@pytest.fixture(autouse=True)
def _oracle_scenario(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tells the oracle which test runs (for ``deliberate.py``) and which pending issues it is marked with."""
    if "oracle" not in request.fixturenames:
        yield
        return
    instance: Oracle = request.getfixturevalue("oracle")
    instance.scenario_name = request.node.name
    instance.pending = names_of(request.node)
    yield
    instance.scenario_name = None
    instance.pending = ()


def pytest_assertrepr_compare(op: str, left: object, right: object) -> list[str] | None:
    """``assert diff == []`` shows every difference line in full, not pytest's truncated list repr."""
    if op == "==" and right == [] and isinstance(left, list) and left and all(isinstance(x, str) for x in left):
        return [f"{len(left)} difference(s) from Znuny:", *left]
    return None

"""The API app on a fresh Znuny 7.1 database: an agent with rights on the standard queues, one without, and
keys of every scope. ``api.client`` is Flask's test client; ``api.auth(key)`` the header for a key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gi_support import PASSWORD
from sqlalchemy import Engine, text
from support.agents import add_agent, add_agent_with, otrs_password
from support.runtimes import app_on, runtime_for

from otrs_ext.api.keys import ApiKeys
from otrs_ext.runtime import Runtime


@dataclass
class Api:
    app: Flask
    client: FlaskClient
    runtime: Runtime
    engine: Engine
    agent_key: str
    outsider_key: str
    intake_key: str
    agent_id: int
    outsider_id: int

    @staticmethod
    def auth(key: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", **headers}


@pytest.fixture
def api(otrs_database, redis_server, sphinx_server, tmp_path: Path) -> Iterator[Api]:
    engine = otrs_database("znuny71", migrated=True)
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path, attachment_max_bytes=200_000,
                          api_max_request_bytes=2_000_000, secret_key="test-secret-key")
    agent = {"first_name": "Api", "at": "2026-01-01"}
    with engine.begin() as conn:
        agent_id = add_agent_with(conn, runtime.schema, "agent1", "rw", last_name="agent1", **agent)
        outsider_id = add_agent(conn, runtime.schema, "outsider", last_name="outsider", **agent)
    keys = ApiKeys(engine)
    with app_on(runtime, testing=True) as app:
        yield Api(app=app, client=app.test_client(), runtime=runtime, engine=engine,
                  agent_key=keys.create("agent", name="agent", agent_id=agent_id),
                  outsider_key=keys.create("agent", name="outsider", agent_id=outsider_id),
                  intake_key=keys.create("intake", name="website", rate_per_minute=1000),
                  agent_id=agent_id, outsider_id=outsider_id)


@pytest.fixture
def gi(api):
    """The ``api`` fixture with agent1's OTRS password set (SHA-256 hex, OTRS's default) and an e-mail."""
    with api.engine.begin() as conn:
        conn.execute(text("UPDATE users SET pw = :pw WHERE id = :id"),
                     {"pw": otrs_password(PASSWORD), "id": api.agent_id})
        conn.execute(text("INSERT INTO user_preferences (user_id, preferences_key, preferences_value) "
                          "VALUES (:id, 'UserEmail', 'agent1@example.test')"), {"id": api.agent_id})
    stale = api.runtime.redis.keys("otrs_ext:gi:*")  # Redis lives for the session: no failed logins of others
    if stale:
        api.runtime.redis.delete(*stale)
    return api

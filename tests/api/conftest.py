"""The API app on a fresh Znuny 7.1 database: an agent with rights on the standard queues, one without, and
keys of every scope. ``api.client`` is Flask's test client; ``api.auth(key)`` the header for a key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from gi_support import PASSWORD
from sqlalchemy import Engine, select, text

from otrs_ext.api.app import create_app
from otrs_ext.api.keys import ApiKeys
from otrs_ext.runtime import Runtime, build_runtime
from otrs_ext.settings import Settings


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


def _agent(conn, schema, login: str) -> int:
    users = schema.tables.users
    result = conn.execute(users.insert().values(login=login, pw="", first_name="Api", last_name=login, valid_id=1,
                                                create_time="2026-01-01", create_by=1, change_time="2026-01-01",
                                                change_by=1))
    return result.inserted_primary_key[0]


@pytest.fixture
def api(otrs_database, redis_server, sphinx_server, tmp_path: Path) -> Iterator[Api]:
    engine = otrs_database("znuny71", migrated=True)
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
    settings = Settings(db_url=engine.url.render_as_string(hide_password=False), redis_url=redis_server.url,
                        search_url=sphinx_server.url, otrs_home=tmp_path / "otrs", state_dir=tmp_path / "state",
                        attachment_max_bytes=200_000, api_max_request_bytes=2_000_000,
                        secret_key="test-secret-key").validate()
    runtime = build_runtime(settings)
    schema = runtime.schema
    with engine.begin() as conn:
        agent_id = _agent(conn, schema, "agent1")
        outsider_id = _agent(conn, schema, "outsider")
        groups = schema.tables.groups
        users_group = conn.execute(select(groups.c.id).where(groups.c.name == "users")).scalar_one()
        conn.execute(schema.tables.group_user.insert().values(
            user_id=agent_id, group_id=users_group, permission_key="rw", create_time="2026-01-01", create_by=1,
            change_time="2026-01-01", change_by=1))
    keys = ApiKeys(engine)
    app = create_app(runtime)
    app.testing = True
    yield Api(app=app, client=app.test_client(), runtime=runtime, engine=engine,
              agent_key=keys.create("agent", name="agent", agent_id=agent_id),
              outsider_key=keys.create("agent", name="outsider", agent_id=outsider_id),
              intake_key=keys.create("intake", name="website", rate_per_minute=1000),
              agent_id=agent_id, outsider_id=outsider_id)
    app.extensions["otrs_ext"].core.close()
    runtime.close()


@pytest.fixture
def gi(api):
    """The ``api`` fixture with agent1's OTRS password set (SHA-256 hex, OTRS's default) and an e-mail."""
    with api.engine.begin() as conn:
        conn.execute(text("UPDATE users SET pw = :pw WHERE id = :id"),
                     {"pw": hashlib.sha256(PASSWORD.encode()).hexdigest(), "id": api.agent_id})
        conn.execute(text("INSERT INTO user_preferences (user_id, preferences_key, preferences_value) "
                          "VALUES (:id, 'UserEmail', 'agent1@example.test')"), {"id": api.agent_id})
    stale = api.runtime.redis.keys("otrs_ext:gi:*")  # Redis lives for the session: no failed logins of others
    if stale:
        api.runtime.redis.delete(*stale)
    return api

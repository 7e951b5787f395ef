"""A searchable world for the agent screens: a Znuny 7.1 database, an agent with a real OTRS password (SHA-256,
as OTRS stores it) and read rights on the standard queues, two tickets made through the API and indexed, and
the Flask app (``screens.app``)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from screens_support import OTRS_URL, PASSWORD
from sqlalchemy import Engine, select, text

from otrs_ext.api.app import create_app
from otrs_ext.api.keys import ApiKeys
from otrs_ext.runtime import Runtime, build_runtime
from otrs_ext.search.indexer import Indexer
from otrs_ext.settings import Settings


@dataclass
class Screens:
    app: Flask
    runtime: Runtime
    engine: Engine
    login: str
    password: str
    tickets: dict[str, int]


def _agent(conn, schema, login: str, pw: str) -> int:
    users = schema.tables.users
    return conn.execute(users.insert().values(
        login=login, pw=pw, first_name="Screen", last_name=login, valid_id=1, create_time="2026-01-01",
        create_by=1, change_time="2026-01-01", change_by=1)).inserted_primary_key[0]


@pytest.fixture
def screens(otrs_database, redis_server, sphinx_server, tmp_path: Path) -> Iterator[Screens]:
    engine = otrs_database("znuny71", migrated=True)
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
    settings = Settings(db_url=engine.url.render_as_string(hide_password=False), redis_url=redis_server.url,
                        search_url=sphinx_server.url, otrs_home=tmp_path / "otrs", state_dir=tmp_path / "state",
                        otrs_base_url=OTRS_URL, secret_key="test-secret-key").validate()
    runtime = build_runtime(settings)
    schema = runtime.schema
    # its own login: the failed-login counters live in the Redis every test worker shares
    login = f"screenagent-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        agent_id = _agent(conn, schema, login, hashlib.sha256(PASSWORD.encode()).hexdigest())
        groups = schema.tables.groups
        users_group = conn.execute(select(groups.c.id).where(groups.c.name == "users")).scalar_one()
        conn.execute(schema.tables.group_user.insert().values(
            user_id=agent_id, group_id=users_group, permission_key="rw", create_time="2026-01-01", create_by=1,
            change_time="2026-01-01", change_by=1))
    app = create_app(runtime)
    key = {"Authorization": "Bearer " + ApiKeys(engine).create("agent", name="screens", agent_id=agent_id)}
    client = app.test_client()
    made = {}
    for name, title, body in (
            ("dns", "DNS для reg.ru <b>bold</b>", "После смены серверов example.reg.ru не открывается"),
            ("printer", "Printer", "printer on fire, see support@reg.ru")):
        answer = client.post("/api/v1/tickets", headers=key, json={
            "title": title, "queue": "Raw", "customer_user": "jane@acme.test", "customer_id": "ACME",
            "article": {"body": body, "channel": "Email", "sender_type": "customer", "visible_for_customer": True}})
        assert answer.status_code == 201, answer.get_json()
        made[name] = answer.get_json()["id"]
    with engine.begin() as conn:  # one ticket elsewhere, for a second state in the facets
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = 'open') "
                          "WHERE id = :id"), {"id": made["printer"]})
        article_ids = [r[0] for r in conn.execute(text("SELECT id FROM article"))]
    runtime.search.query("TRUNCATE RTINDEX articles")
    Indexer(engine, schema, runtime.search).index_articles(article_ids)
    yield Screens(app=app, runtime=runtime, engine=engine, login=login, password=PASSWORD, tickets=made)
    runtime.search.query("TRUNCATE RTINDEX articles")
    app.extensions["otrs_ext"].core.close()
    runtime.close()

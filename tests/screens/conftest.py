"""A searchable world for the agent screens: a Znuny 7.1 database, an agent with a real OTRS password (SHA-256,
as OTRS stores it) and read rights on the standard queues, two tickets made through the API and indexed, and
the Flask app (``screens.app``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from screens_support import OTRS_URL, PASSWORD
from sqlalchemy import Engine, text
from support.agents import add_agent_with
from support.runtimes import app_on, runtime_for

from otrs_ext.api.keys import ApiKeys
from otrs_ext.runtime import Runtime
from otrs_ext.search.indexer import Indexer


@dataclass
class Screens:
    app: Flask
    runtime: Runtime
    engine: Engine
    login: str
    password: str
    tickets: dict[str, int]


@pytest.fixture
def screens(otrs_database, redis_server, sphinx_server, tmp_path: Path) -> Iterator[Screens]:
    engine = otrs_database("znuny71", migrated=True)
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path, otrs_base_url=OTRS_URL,
                          secret_key="test-secret-key")
    # its own login: the failed-login counters live in the Redis every test worker shares
    login = f"screenagent-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        agent_id = add_agent_with(conn, runtime.schema, login, "rw", password=PASSWORD, first_name="Screen",
                                  last_name=login, at="2026-01-01")
    with app_on(runtime) as app:
        yield _world(app, runtime, engine, login, agent_id)
        runtime.search.query("TRUNCATE RTINDEX articles")


def _world(app: Flask, runtime: Runtime, engine: Engine, login: str, agent_id: int) -> Screens:
    """Two tickets made through the API, one moved to another state, all articles indexed."""
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
    Indexer(engine, runtime.schema, runtime.search).index_articles(article_ids)
    return Screens(app=app, runtime=runtime, engine=engine, login=login, password=PASSWORD, tickets=made)

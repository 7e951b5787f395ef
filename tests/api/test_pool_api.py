"""``/api/v1/pool/*`` and ``/api/v1/points*`` on a real database and Redis: entering and leaving, the current
ticket, the event stream, the per-agent limit and audit, points, adjustments and the monthly report."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from support.agents import grant, group_id

from otrs_ext.api import pool as pool_api
from otrs_ext.db.own_tables import own_table

MONTH = datetime.now().strftime("%Y-%m")


@pytest.fixture
def pool_api_(api) -> Iterator:
    """The ``api`` fixture with the pool's Redis state cleared (Redis lives for the whole session)."""
    client, prefix = api.runtime.redis, api.app.extensions["otrs_ext"].pool.config.redis_prefix

    def clear() -> None:
        stale = list(client.scan_iter(prefix + "*")) + list(client.scan_iter("otrs_ext:rl:*pool-agent*")) \
            + list(client.scan_iter("otrs_ext:pool-audit:*"))
        if stale:
            client.delete(*stale)

    clear()
    yield api
    clear()


def _ticket(api, title: str = "printer on fire") -> int:
    created = api.client.post("/api/v1/tickets", headers=api.auth(api.agent_key), json={
        "title": title, "queue": "Raw", "customer_user": "jane@acme.test", "article": {"subject": title, "body": "b"}})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _ledger_rows(api) -> int:
    with api.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(own_table("points_ledger"))).scalar_one()


def test_enter_hands_the_agent_one_ticket_and_current_shows_it(pool_api_) -> None:
    api = pool_api_
    with api.engine.begin() as conn:  # the installer's welcome ticket out of the way: ours is the oldest
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                          "'closed successful') WHERE id = 1"))
    ticket_id = _ticket(api)
    entered = api.client.post("/api/v1/pool/enter", headers=api.auth(api.agent_key))
    assert entered.status_code == 200, entered.get_json()
    body = entered.get_json()
    assert body["in_pool"] is True and body["ticket"]["id"] == ticket_id
    ticket = body["ticket"]
    assert ticket["title"] == "printer on fire" and ticket["customer"] == "jane@acme.test"
    assert ticket["number"] and float(ticket["points"]) > 0 and ticket["age_seconds"] >= 0
    assert ticket["zoom_url"].endswith(f"index.pl?Action=AgentTicketZoom;TicketID={ticket_id}")
    current = api.client.get("/api/v1/pool/current", headers=api.auth(api.agent_key)).get_json()
    assert current["ticket"]["id"] == ticket_id and current["place"] is None
    assert "items" not in current  # the pool never answers a ticket list

    left = api.client.post("/api/v1/pool/leave", headers=api.auth(api.agent_key)).get_json()
    assert left == {"in_pool": False, "place": None, "waiting": 0, "agents": 0, "ticket": None}
    with api.engine.connect() as conn:
        lock = conn.execute(text("SELECT tl.name FROM ticket t JOIN ticket_lock_type tl ON tl.id = t.ticket_lock_id "
                                 "WHERE t.id = :id"), {"id": ticket_id}).scalar_one()
    assert lock == "unlock"  # the unanswered ticket went back


def test_waiting_agent_sees_his_place_and_a_second_session_is_refused(pool_api_) -> None:
    api = pool_api_
    with api.engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET ticket_state_id = (SELECT id FROM ticket_state WHERE name = "
                          "'closed successful')"))
    body = api.client.post("/api/v1/pool/enter", headers=api.auth(api.agent_key)).get_json()
    assert body["ticket"] is None and body["place"] == 1 and body["waiting"] == 1
    other = api.client.post("/api/v1/pool/enter", headers=api.auth(api.agent_key, **{"X-Pool-Session": "tab-2"}))
    assert other.status_code == 409
    assert other.headers["Content-Type"].startswith("application/problem+json")
    assert "another session" in other.get_json()["detail"]


def test_pool_routes_are_for_agent_keys_only_and_need_a_pool_queue(pool_api_) -> None:
    api = pool_api_
    for method, path in (("post", "/api/v1/pool/enter"), ("get", "/api/v1/pool/current"), ("get", "/api/v1/points")):
        refused = getattr(api.client, method)(path, headers=api.auth(api.intake_key))
        assert refused.status_code == 403, path
    no_queue = api.client.post("/api/v1/pool/enter", headers=api.auth(api.outsider_key))
    assert no_queue.status_code == 422 and no_queue.get_json()["type"].endswith("/pool-no-queue")
    assert api.client.get("/api/v1/pool/current", headers=api.auth(api.outsider_key)).get_json()["in_pool"] is False


def test_pool_routes_are_limited_per_agent_and_audited(pool_api_, caplog) -> None:
    api = pool_api_
    caplog.set_level(logging.WARNING, logger="otrs_ext.api.pool")
    answers = [api.client.get("/api/v1/pool/current", headers=api.auth(api.agent_key)).status_code
               for _ in range(pool_api.RATE_PER_MINUTE + 1)]
    if answers[-1] != 429:  # the minute turned over in the middle: one more full round is within the next minute
        answers = [api.client.get("/api/v1/pool/current", headers=api.auth(api.agent_key)).status_code
                   for _ in range(pool_api.RATE_PER_MINUTE + 1)]
    assert answers[-1] == 429
    refused = api.client.get("/api/v1/pool/current", headers=api.auth(api.agent_key))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    alerts = [r for r in caplog.records if getattr(r, "event", None) == "pool_rate_alert"]
    assert alerts and alerts[0].agent_id == api.agent_id


def test_event_stream_sends_status_then_pushed_messages(pool_api_) -> None:
    api = pool_api_
    response = api.client.get("/api/v1/pool/events", headers=api.auth(api.agent_key), buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    first = next(chunks)
    first = first.decode() if isinstance(first, bytes) else first
    assert "event: status" in first and '"ticket": null' in first
    sessions = api.app.extensions["otrs_ext"].pool.sessions
    sessions.publish(api.agent_id, {"type": "assigned", "ticket": {"id": 42}})
    pushed = ""
    while "event: assigned" not in pushed:
        chunk = next(chunks)
        pushed += chunk.decode() if isinstance(chunk, bytes) else chunk
    data = pushed.split("event: assigned\ndata: ", 1)[1].split("\n", 1)[0]
    assert json.loads(data)["ticket"]["id"] == 42
    response.close()


def test_points_own_entries_adjustments_by_heads_and_the_report(pool_api_) -> None:
    api = pool_api_
    refused = api.client.post("/api/v1/points/adjust", headers=api.auth(api.agent_key),
                              json={"agent": "outsider", "points": "5", "reason": "helped out"})
    assert refused.status_code == 403 and _ledger_rows(api) == 0  # not a head of support: nothing written
    with api.engine.begin() as conn:
        grant(conn, api.runtime.schema, api.agent_id, group_id(conn, api.runtime.schema, "admin"), "rw")
        grant(conn, api.runtime.schema, api.outsider_id, group_id(conn, api.runtime.schema, "users"), "rw")
    no_reason = api.client.post("/api/v1/points/adjust", headers=api.auth(api.agent_key),
                                json={"agent": "outsider", "points": "5", "reason": " "})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["path"] == "reason"
    assert _ledger_rows(api) == 0
    made = api.client.post("/api/v1/points/adjust", headers=api.auth(api.agent_key, **{"Idempotency-Key": "k1"}),
                           json={"agent": "outsider", "points": "5", "reason": "helped out"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["kind"] == "adjust" and made.get_json()["points"] == "5.00"
    again = api.client.post("/api/v1/points/adjust", headers=api.auth(api.agent_key, **{"Idempotency-Key": "k1"}),
                            json={"agent": "outsider", "points": "5", "reason": "helped out"})
    assert again.status_code == 201 and _ledger_rows(api) == 1

    own = api.client.get(f"/api/v1/points?month={MONTH}", headers=api.auth(api.outsider_key)).get_json()
    assert [e["kind"] for e in own["items"]] == ["adjust"] and own["balance"]["total"] == "5.00"
    other = api.client.get("/api/v1/points?agent=agent1", headers=api.auth(api.outsider_key))
    assert other.status_code == 403  # an agent reads only his own points
    by_head = api.client.get(f"/api/v1/points?agent={api.outsider_id}", headers=api.auth(api.agent_key))
    assert by_head.status_code == 200 and len(by_head.get_json()["items"]) == 1
    bad_month = api.client.get("/api/v1/points?month=2026-13", headers=api.auth(api.agent_key))
    assert bad_month.status_code == 422 and bad_month.get_json()["errors"][0]["path"] == "month"

    report = api.client.get(f"/api/v1/points/report?month={MONTH}", headers=api.auth(api.agent_key)).get_json()
    line = next(a for a in report["agents"] if a["login"] == "outsider")
    assert line["adjustments"] == "5.00" and line["total"] == "5.00"
    csv = api.client.get(f"/api/v1/points/report?month={MONTH}&format=csv", headers=api.auth(api.agent_key))
    assert csv.mimetype == "text/csv"
    rows = csv.get_data(as_text=True).splitlines()
    assert rows[0].startswith("login,name,departments") and any(r.startswith("outsider,") for r in rows)
    assert api.client.get(f"/api/v1/points/report?month={MONTH}",
                          headers=api.auth(api.outsider_key)).status_code == 403

"""``/api/v1/tags`` and ``/api/v1/tickets/{id}/tags``, and the ``tag`` / ``tag_kind`` filters of ``/tickets`` and
``/search``: who may read and change what, clear problems for bad input with nothing written, the index kept
along. Rule-set tags are made with the TagStore directly (the ``tags`` handler is not needed here)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from support.agents import add_agent_with

from otrs_ext.api.keys import ApiKeys
from otrs_ext.db.own_tables import own_table
from otrs_ext.search.indexer import Indexer
from otrs_ext.tags.store import Tag, TagStore


@dataclass
class Tagged:
    tickets: dict[str, int]
    tags: dict[str, Tag]
    token: str  # jane's customer token: her ticket is "jane"
    reader_key: str  # an agent with ro only on the standard queues


@pytest.fixture
def tagged(api) -> Tagged:
    with api.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO customer_user (login, email, customer_id, pw, first_name, last_name, valid_id, create_time, "
            "create_by, change_time, change_by) VALUES ('jane@acme.test', 'jane@acme.test', 'ACME', '', 'J', 'D', 1, "
            "NOW(), 1, NOW(), 1)"))
        reader = add_agent_with(conn, api.runtime.schema, "reader", "ro", first_name="R", last_name="reader")
    agent = api.auth(api.agent_key)
    tickets = {}
    for key, customer, company, body in (("jane", "jane@acme.test", "ACME", "printer on fire in room 5"),
                                         ("other", "someone@else.test", "ELSE", "printer out of toner")):
        answer = api.client.post("/api/v1/tickets", headers=agent, json={
            "title": f"Printer {key}", "queue": "Raw", "customer_user": customer, "customer_id": company,
            "article": {"body": body, "channel": "Email", "sender_type": "customer", "visible_for_customer": True}})
        assert answer.status_code == 201, answer.get_json()
        tickets[key] = answer.get_json()["id"]
    store = TagStore()
    with api.engine.begin() as conn:
        tags = {"manual:vip": store.ensure(conn, "manual", "vip", created_by="1", colour="#d73a49",
                                           labels={"en": "VIP", "ru": "ВИП"}),
                "manual:old": store.ensure(conn, "manual", "old", created_by="1"),
                "source:email": store.ensure(conn, "source", "email", created_by="rule:source"),
                "participant:agent1": store.ensure(conn, "participant", "agent1", created_by="rule:participant")}
        store.set_valid(conn, tags["manual:old"].id, False)
        store.link(conn, tickets["jane"], tags["source:email"], rule="rule:source")
        store.link(conn, tickets["other"], tags["source:email"], rule="rule:source")
        store.link(conn, tickets["other"], tags["participant:agent1"], rule="rule:participant", article_id=None)
        article_ids = [r[0] for r in conn.execute(text("SELECT id FROM article"))]
    api.runtime.search.query("TRUNCATE RTINDEX articles")
    Indexer(api.engine, api.runtime.schema, api.runtime.search).index_articles(article_ids)
    token = api.client.post("/api/v1/customer-tokens", json={"customer_user": "jane@acme.test"},
                            headers=api.auth(api.intake_key)).get_json()["token"]
    return Tagged(tickets=tickets, tags=tags, token=token,
                  reader_key=ApiKeys(api.engine).create("agent", name="reader", agent_id=reader))


def _rows(api) -> tuple[int, int]:
    """Links and audit rows: what a refused request must leave as it was."""
    with api.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(own_table(name))).scalar_one()
                     for name in ("ticket_tag", "ticket_tag_audit"))


def _problem(answer, status: int, path: str | None = None) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    if path is not None:
        assert [e["path"] for e in answer.get_json()["errors"]] == [path], answer.get_json()


def test_catalogue_lists_valid_tags_by_kind(api, tagged) -> None:
    agent = api.auth(api.agent_key)
    items = api.client.get("/api/v1/tags", headers=agent).get_json()["items"]
    assert [t["ref"] for t in items] == ["manual:vip", "participant:agent1", "source:email"]
    vip = items[0]
    assert vip == {"id": tagged.tags["manual:vip"].id, "ref": "manual:vip", "kind": "manual", "name": "vip",
                   "label": "VIP", "labels": {"en": "VIP", "ru": "ВИП"}, "colour": "#d73a49", "valid": True}
    manual = api.client.get("/api/v1/tags?kind=manual&all=1", headers=agent).get_json()["items"]
    assert [(t["ref"], t["valid"]) for t in manual] == [("manual:old", False), ("manual:vip", True)]
    _problem(api.client.get("/api/v1/tags?kind=colour", headers=agent), 422, "kind")
    _problem(api.client.get("/api/v1/tags", headers=api.auth(api.intake_key)), 403)
    _problem(api.client.get("/api/v1/tags", headers=api.auth(tagged.token)), 403)
    _problem(api.client.get("/api/v1/tags"), 401)


def test_ticket_tags_for_agents_with_ro_and_the_tickets_customer(api, tagged) -> None:
    other = tagged.tickets["other"]
    for key in (api.agent_key, tagged.reader_key):
        answer = api.client.get(f"/api/v1/tickets/{other}/tags", headers=api.auth(key))
        assert answer.status_code == 200, answer.get_json()
        items = answer.get_json()["items"]
        assert [(t["ref"], t["rule"], t["agent"]) for t in items] == [
            ("participant:agent1", "rule:participant", None), ("source:email", "rule:source", None)]
        assert all(t["set_at"] for t in items)
    mine = api.client.get(f"/api/v1/tickets/{tagged.tickets['jane']}/tags", headers=api.auth(tagged.token))
    assert mine.status_code == 200, mine.get_json()
    assert mine.get_json()["items"] == []  # tags are the agents' classification: customers see none
    _problem(api.client.get(f"/api/v1/tickets/{other}/tags", headers=api.auth(tagged.token)), 404)
    _problem(api.client.get(f"/api/v1/tickets/{other}/tags", headers=api.auth(api.outsider_key)), 404)
    _problem(api.client.get(f"/api/v1/tickets/{other}/tags", headers=api.auth(api.intake_key)), 403)
    _problem(api.client.get("/api/v1/tickets/999999/tags", headers=api.auth(api.agent_key)), 404)


def test_add_and_remove_a_manual_tag_with_audit_and_the_index_along(api, tagged) -> None:
    agent = api.auth(api.agent_key)
    ticket = tagged.tickets["jane"]
    by_vip = "/api/v1/search?q=printer&tag=manual:vip"
    assert api.client.get(by_vip, headers=agent).get_json()["total"] == 0
    added = api.client.post(f"/api/v1/tickets/{ticket}/tags", headers=agent, json={"tag": "VIP"})
    assert added.status_code == 201, added.get_json()
    vip = next(t for t in added.get_json()["items"] if t["ref"] == "manual:vip")
    assert (vip["agent"], vip["rule"], vip["label"], vip["colour"]) == ("agent1", None, "VIP", "#d73a49")
    again = api.client.post(f"/api/v1/tickets/{ticket}/tags", headers=agent, json={"tag": "manual:vip"})
    assert again.status_code == 200 and again.get_json()["items"] == added.get_json()["items"]
    assert _rows(api)[1] == 1  # one audit row: the second add changed nothing
    # the index knows at once: the search filter and the ticket list find it
    found = api.client.get(by_vip, headers=agent).get_json()
    assert [h["ticket_id"] for h in found["hits"]] == [ticket] and found["total"] == 1
    assert [t["ref"] for t in found["hits"][0]["tags"]] == ["manual:vip", "source:email"]
    listed = api.client.get("/api/v1/tickets?tag=vip", headers=agent).get_json()
    assert [t["ticket_id"] for t in listed["items"]] == [ticket] and listed["total"] == 1

    removed = api.client.delete(f"/api/v1/tickets/{ticket}/tags?tag=manual:vip", headers=agent)
    assert removed.status_code == 200, removed.get_json()
    assert [t["ref"] for t in removed.get_json()["items"]] == ["source:email"]
    assert api.client.get(by_vip, headers=agent).get_json()["total"] == 0
    assert api.client.get("/api/v1/tickets?tag=vip", headers=agent).get_json()["total"] == 0
    audit = own_table("ticket_tag_audit")
    with api.engine.connect() as conn:
        rows = conn.execute(select(audit.c.action, audit.c.agent_id, audit.c.ticket_id).order_by(audit.c.id)).all()
    assert [tuple(r) for r in rows] == [("added", api.agent_id, ticket), ("removed", api.agent_id, ticket)]
    # the path form; removing what is not there is a no-op
    assert api.client.post(f"/api/v1/tickets/{ticket}/tags", headers=agent, json={"tag": "vip"}).status_code == 201
    assert api.client.delete(f"/api/v1/tickets/{ticket}/tags/manual:vip", headers=agent).status_code == 200
    before = _rows(api)
    gone = api.client.delete(f"/api/v1/tickets/{ticket}/tags/vip", headers=agent)
    assert gone.status_code == 200 and _rows(api) == before


def test_bad_requests_are_clear_problems_and_write_nothing(api, tagged) -> None:
    agent = api.auth(api.agent_key)
    ticket = tagged.tickets["jane"]
    url = f"/api/v1/tickets/{ticket}/tags"
    before = _rows(api)
    for body, path in (({"tag": "nope"}, "tag"), ({"tag": "source:email"}, "tag"),  # rules set those
                       ({"tag": "manual:old"}, "tag"),  # taken out of use
                       ({"tag": ""}, "tag"), ({"tag": 5}, "tag"), ({}, "tag"), ({"tag": "vip", "x": 1}, "x"),
                       ({"tag": "manual: vip"}, "tag")):
        _problem(api.client.post(url, headers=agent, json=body), 422, path)
    _problem(api.client.post(url, headers=agent, data="tag=vip", content_type="text/plain"), 422, "tag")
    _problem(api.client.post(url, headers=agent, json=["vip"]), 422, "body")
    for refused in ("source:email", "nope"):
        _problem(api.client.delete(f"{url}?tag={refused}", headers=agent), 422, "tag")
    _problem(api.client.delete(url, headers=agent), 422, "tag")
    _problem(api.client.post(url, headers=api.auth(tagged.reader_key), json={"tag": "vip"}), 403)  # ro only
    _problem(api.client.delete(f"{url}?tag=vip", headers=api.auth(tagged.reader_key)), 403)
    _problem(api.client.post(url, headers=api.auth(api.outsider_key), json={"tag": "vip"}), 404)  # cannot read it
    _problem(api.client.post(url, headers=api.auth(api.intake_key), json={"tag": "vip"}), 403)
    _problem(api.client.post(url, headers=api.auth(tagged.token), json={"tag": "vip"}), 403)
    _problem(api.client.delete(f"{url}/vip", headers=api.auth(tagged.token)), 403)
    _problem(api.client.post("/api/v1/tickets/999999/tags", headers=agent, json={"tag": "vip"}), 404)
    assert _rows(api) == before


def test_tag_filters_and_facet_in_search_and_lists_respect_rights(api, tagged) -> None:
    agent, reader = api.auth(api.agent_key), api.auth(tagged.reader_key)
    jane, other = tagged.tickets["jane"], tagged.tickets["other"]
    body = api.client.get("/api/v1/search?q=printer", headers=reader).get_json()
    assert {(f["name"], f["label"], f["count"]) for f in body["facets"]["tag"]} == {
        ("source:email", "email", 2), ("participant:agent1", "agent1", 1)}
    assert {h["ticket_id"]: [t["ref"] for t in h["tags"]] for h in body["hits"]} == {
        jane: ["source:email"], other: ["participant:agent1", "source:email"]}
    counts = api.client.get("/api/v1/search/counts?q=printer&tag_kind=participant", headers=agent).get_json()
    assert counts["total"] == 1 and {f["name"]: f["count"] for f in counts["facets"]["tag"]} == {
        "participant:agent1": 1, "source:email": 1}
    both = api.client.get("/api/v1/search?q=printer&tag=source:email&tag=participant:agent1", headers=agent)
    assert [h["ticket_id"] for h in both.get_json()["hits"]] == [other]
    assert api.client.get("/api/v1/tickets?tag_kind=source&tag_kind=participant", headers=agent).get_json()[
        "total"] == 1
    assert {t["ticket_id"] for t in api.client.get("/api/v1/tickets?tag=source:email", headers=reader)
            .get_json()["items"]} == {jane, other}
    # a customer: her own ticket, without tags, no tag facet, and no tag filter (nor a hint which tags exist)
    mine = api.client.get("/api/v1/search?q=printer", headers=api.auth(tagged.token)).get_json()
    assert [h["ticket_id"] for h in mine["hits"]] == [jane] and mine["total"] == 1
    assert mine["hits"][0]["tags"] == [] and mine["facets"]["tag"] == []
    for route in ("/api/v1/search?q=printer&", "/api/v1/tickets?"):
        _problem(api.client.get(f"{route}tag=source:email", headers=api.auth(tagged.token)), 422, "tag")
        _problem(api.client.get(f"{route}tag=nope", headers=api.auth(tagged.token)), 422, "tag")
        _problem(api.client.get(f"{route}tag_kind=source", headers=api.auth(tagged.token)), 422, "tag_kind")
    # an agent without rights: nothing, and no tag counts
    outsider = api.auth(api.outsider_key)
    nothing = api.client.get("/api/v1/search?q=printer&tag=source:email", headers=outsider).get_json()
    assert nothing["total"] == 0 and nothing["facets"] == {"queue": [], "state": [], "tag": []}
    assert api.client.get("/api/v1/tickets?tag=source:email", headers=outsider).get_json()["total"] == 0
    # unknown tags and kinds, named like unknown queues
    for route in ("/api/v1/search?q=printer&", "/api/v1/search/counts?q=printer&", "/api/v1/tickets?"):
        _problem(api.client.get(f"{route}tag=source:email&tag=nope", headers=agent), 422, "tag[1]")
        _problem(api.client.get(f"{route}tag_kind=colour", headers=agent), 422, "tag_kind[0]")

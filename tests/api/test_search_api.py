"""``GET /api/v1/search`` for agent keys and customer tokens, and ``otrs-ext search query``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from otrs_ext.cli import main
from otrs_ext.search.indexer import Indexer


@pytest.fixture
def indexed(api):
    """Two tickets through the API (one of them with an internal note), a customer, everything indexed."""
    with api.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO customer_user (login, email, customer_id, pw, first_name, last_name, valid_id, create_time, "
            "create_by, change_time, change_by) VALUES ('jane@acme.test', 'jane@acme.test', 'ACME', '', 'J', 'D', 1, "
            "NOW(), 1, NOW(), 1)"))
    agent = api.auth(api.agent_key)
    made = {}
    for key, title, body, customer in (
            ("dns", "DNS для reg.ru", "После смены серверов example.reg.ru не открывается", "jane@acme.test"),
            ("other", "Printer", "printer on fire, see support@reg.ru", "someone@else.test")):
        answer = api.client.post("/api/v1/tickets", headers=agent, json={
            "title": title, "queue": "Raw", "customer_user": customer,
            "customer_id": customer.split("@")[1][:4].upper(),
            "article": {"body": body, "channel": "Email", "sender_type": "customer", "visible_for_customer": True}})
        assert answer.status_code == 201, answer.get_json()
        made[key] = answer.get_json()["id"]
    api.client.post(f"/api/v1/tickets/{made['dns']}/articles", headers=agent,
                    json={"body": "internal: the registrar reg.ru is slow"})
    with api.engine.connect() as conn:
        article_ids = [r[0] for r in conn.execute(text("SELECT id FROM article"))]
    api.runtime.search.query("TRUNCATE RTINDEX articles")
    Indexer(api.engine, api.runtime.schema, api.runtime.search).index_articles(article_ids)
    token = api.client.post("/api/v1/customer-tokens", json={"customer_user": "jane@acme.test"},
                            headers=api.auth(api.intake_key)).get_json()["token"]
    return made, token


def test_agent_search_answers_hits_facets_and_links(api, indexed) -> None:
    made, _ = indexed
    answer = api.client.get("/api/v1/search?q=reg.ru", headers=api.auth(api.agent_key))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["total"] == 2 and {h["ticket_id"] for h in body["hits"]} == set(made.values())
    assert body["indexed_as_of"] is None or isinstance(body["indexed_as_of"], str)
    assert body["facets"]["queue"] == [{"id": body["facets"]["queue"][0]["id"], "name": "Raw", "count": 2}]
    hit = body["hits"][0]
    assert hit["links"]["api"] == f"/api/v1/tickets/{hit['ticket_id']}"
    assert "Action=AgentTicketZoom;TicketID=" in hit["links"]["otrs"] and "<mark>" in hit["snippet"] + hit["title"] \
        + hit["subject_snippet"]
    assert api.client.get(hit["links"]["api"], headers=api.auth(api.agent_key)).status_code == 200
    page = api.client.get("/api/v1/search?q=reg.ru&limit=1&sort=recent&queue=Raw",
                          headers=api.auth(api.agent_key)).get_json()
    assert len(page["hits"]) == 1 and page["next_cursor"]
    rest = api.client.get(f"/api/v1/search?q=reg.ru&limit=1&sort=recent&queue=Raw&cursor={page['next_cursor']}",
                          headers=api.auth(api.agent_key)).get_json()
    assert rest["next_cursor"] is None and rest["hits"][0]["ticket_id"] != page["hits"][0]["ticket_id"]


def test_customers_and_outsiders_see_only_what_they_may(api, indexed) -> None:
    made, token = indexed
    mine = api.client.get("/api/v1/search?q=reg.ru", headers=api.auth(token)).get_json()
    assert [h["ticket_id"] for h in mine["hits"]] == [made["dns"]] and mine["total"] == 1
    assert "customer.pl?Action=CustomerTicketZoom;TicketNumber=" in mine["hits"][0]["links"]["otrs"]
    internal = api.client.get("/api/v1/search?q=registrar", headers=api.auth(token)).get_json()
    assert internal["total"] == 0 and internal["hits"] == []
    assert api.client.get("/api/v1/search?q=registrar", headers=api.auth(api.agent_key)).get_json()["total"] == 1
    outsider = api.client.get("/api/v1/search?q=reg.ru", headers=api.auth(api.outsider_key)).get_json()
    assert outsider["total"] == 0 and outsider["facets"] == {"queue": [], "state": [], "tag": []}


def test_bad_requests_are_problems(api, indexed) -> None:
    agent = api.auth(api.agent_key)
    for query, path in (("", "q"), ("q=", "q"), ("q=-spam", "q"), ("q=dns+OR", "q"), ("q=x&limit=0", "limit"),
                        ("q=x&limit=abc", "limit"), ("q=x&sort=best", "sort"), ("q=x&cursor=zz", "cursor"),
                        ("q=x&queue=Nope", "queue[0]"), ("q=x&tag=a", "tag[0]")):
        answer = api.client.get(f"/api/v1/search?{query}", headers=agent)
        assert answer.status_code == 422, (query, answer.get_json())
        assert answer.mimetype == "application/problem+json"
        assert answer.get_json()["errors"][0]["path"] == path, query
    assert api.client.get("/api/v1/search?q=x", headers=api.auth(api.intake_key)).status_code == 403
    assert api.client.get("/api/v1/search?q=x").status_code == 401
    hostile = api.client.get("/api/v1/search", query_string={"q": "x'); DELETE FROM articles; --"}, headers=agent)
    assert hostile.status_code == 200 and hostile.get_json()["total"] == 0
    assert "/search" in api.client.get("/api/v1/openapi.json").get_json()["paths"]


def test_cli_search_query_prints_json(api, indexed, monkeypatch) -> None:
    settings = api.runtime.settings
    monkeypatch.setenv("OTRS_EXT_DB_URL", settings.db_url)
    monkeypatch.setenv("OTRS_EXT_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("OTRS_EXT_SEARCH_URL", settings.search_url)
    monkeypatch.setenv("OTRS_EXT_OTRS_HOME", str(settings.otrs_home))
    monkeypatch.setenv("OTRS_EXT_STATE_DIR", str(settings.state_dir))
    result = CliRunner().invoke(main, ["search", "query", "reg.ru", "--queue", "Raw", "--limit", "5", "--as", "agent1"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)  # log lines go to stderr
    assert printed["total"] == 2 and printed["match"] == "(=reg.ru | =reg\ue000ru)"
    refused = CliRunner().invoke(main, ["search", "query", "--as", "agent1", "--", "-spam"])
    assert refused.exit_code == 2 and "exclusions (-word) alone cannot be searched" in refused.output


def test_counts_route_answers_the_exact_total_and_facets_alone(api, indexed) -> None:
    """A client showing the page first asks with facets=false and fetches the counts beside it."""
    made, token = indexed
    agent = api.auth(api.agent_key)
    page = api.client.get("/api/v1/search?q=reg.ru&facets=false", headers=agent).get_json()
    assert page["total"] == 2 and page["facets"] == {} and len(page["hits"]) == 2
    counts = api.client.get("/api/v1/search/counts?q=reg.ru", headers=agent).get_json()
    assert counts["total"] == 2 and "hits" not in counts
    assert [(f["name"], f["count"]) for f in counts["facets"]["queue"]] == [("Raw", 2)]
    by_article = api.client.get("/api/v1/search/counts?q=reg.ru&group=article", headers=agent).get_json()
    assert by_article["total"] == 3  # the internal note too
    mine = api.client.get("/api/v1/search/counts?q=reg.ru", headers=api.auth(token)).get_json()
    assert mine["total"] == 1 and [f["count"] for f in mine["facets"]["queue"]] == [1]
    assert api.client.get("/api/v1/search/counts?q=reg.ru", headers=api.auth(api.outsider_key)).get_json()["total"] == 0
    refused = api.client.get("/api/v1/search/counts?q=-spam", headers=agent)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["path"] == "q"
    assert api.client.get("/api/v1/search/counts?q=x&group=thread", headers=agent).status_code == 422
    assert "/search/counts" in api.client.get("/api/v1/openapi.json").get_json()["paths"]

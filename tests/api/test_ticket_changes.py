"""API v1: type, customer, responsible, pending time, dynamic fields and merge, against real MariaDB - what an
agent's tool sees, and what stays unwritten when it is refused."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from support.agents import add_agent_with

from otrs_ext.api.app import create_app
from otrs_ext.api.keys import ApiKeys
from otrs_ext.runtime import build_runtime

AUDIT = "'2026-01-01', 1, '2026-01-01', 1"
# dynamic_field.config as Znuny stores it (Perl's YAML::XS: 'yes' and numbers left unquoted)
FIELDS = {
    "Product": ("Dropdown", "---\nDefaultValue: ''\nPossibleNone: '1'\nPossibleValues:\n  '1': One\n"
                            "  domains: Domains\n  hosting: Hosting\n  yes: Yes\nTranslatableValues: '0'\n"),
    "Tags": ("Multiselect", "---\nPossibleValues:\n  blue: Blue\n  green: Green\n  red: Red\n"),
    "Due": ("Date", "---\nDateRestriction: DisablePastDates\nDefaultValue: 0\nYearsInFuture: 5\n"),
    "CallBack": ("DateTime", "---\nDateRestriction: ''\nDefaultValue: 0\n"),
    "Urgent": ("Checkbox", "---\nDefaultValue: 0\n"),
    "Contract": ("Text", "---\nDefaultValue: ''\nRegExList:\n- ErrorMessage: digits only\n  Value: ^\\d+\\z\n"),
    "Retired": ("Text", "---\nDefaultValue: ''\n"),
}


def _new(api, title: str = "Printer on fire") -> int:
    created = api.client.post("/api/v1/tickets", headers=api.auth(api.agent_key), json={
        "title": title, "queue": "Raw", "article": {"subject": "s", "body": "it smokes"}})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _rows(api, ticket_id: int) -> dict[str, object]:
    """Everything a change could touch: the ticket row, its history, field values, articles and links."""
    with api.engine.connect() as conn:
        def q(sql: str) -> list[tuple]:
            return [tuple(r) for r in conn.execute(text(sql), {"t": ticket_id})]
        return {"ticket": q("SELECT * FROM ticket WHERE id = :t"),
                "history": q("SELECT id, name FROM ticket_history WHERE ticket_id = :t ORDER BY id"),
                "fields": q("SELECT field_id, value_text, value_date, value_int FROM dynamic_field_value "
                            "WHERE object_id = :t ORDER BY id"),
                "articles": q("SELECT id, ticket_id FROM article WHERE ticket_id = :t ORDER BY id"),
                "links": q("SELECT COUNT(*) FROM link_relation")}


def _agent_with(api, login: str, *keys: str) -> str:
    """A new agent holding ``keys`` on the users group, and an API key for him."""
    with api.engine.begin() as conn:
        user_id = add_agent_with(conn, api.runtime.schema, login, *keys, first_name="A", last_name=login,
                                 at="2026-01-01")
    return ApiKeys(api.engine).create("agent", name=login, agent_id=user_id)


@pytest.fixture
def fields(api):
    with api.engine.begin() as conn:
        for order, (name, (kind, config)) in enumerate(FIELDS.items(), start=1):
            conn.execute(text(f"INSERT INTO dynamic_field (internal_field, name, label, field_order, field_type, "
                              f"object_type, config, valid_id, create_time, create_by, change_time, change_by) "
                              f"VALUES (0, :n, :n, :o, :k, 'Ticket', :c, :v, {AUDIT})"),
                         {"n": name, "o": order, "k": kind, "c": config.encode(), "v": 2 if name == "Retired" else 1})
    return api


def test_type_customer_and_pending_time(api) -> None:
    ticket_id = _new(api)
    base, auth = f"/api/v1/tickets/{ticket_id}", api.auth(api.agent_key)
    with api.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO ticket_type (name, valid_id, create_time, create_by, change_time, change_by) "
                          f"VALUES ('Incident', 1, {AUDIT})"))
        conn.execute(text(f"INSERT INTO customer_user (login, email, customer_id, first_name, last_name, valid_id, "
                          f"create_time, create_by, change_time, change_by) VALUES ('jane@acme.test', "
                          f"'jane@acme.test', 'ACME', 'Jane', 'Doe', 1, {AUDIT})"))

    assert api.client.put(base + "/type", json={"type": "Incident"}, headers=auth).get_json()["type"] == "Incident"
    # a known customer user brings her company, as OTRS's customer screen fills it in
    ticket = api.client.put(base + "/customer", json={"customer_user": "jane@acme.test"}, headers=auth).get_json()
    assert (ticket["customer_user"], ticket["customer_id"]) == ("jane@acme.test", "ACME")
    ticket = api.client.put(base + "/customer", json={"customer_id": "GLOBEX"}, headers=auth).get_json()
    assert (ticket["customer_user"], ticket["customer_id"]) == ("jane@acme.test", "GLOBEX")
    ticket = api.client.put(base + "/customer", json={"customer_user": "walk-in@example.test"}, headers=auth).get_json()
    assert (ticket["customer_user"], ticket["customer_id"]) == ("walk-in@example.test", "")

    # a pending time needs a pending state; an offset is converted to OTRS's time zone (UTC here)
    refused = api.client.put(base + "/pending-until", json={"pending_until": "2030-01-02T10:00:00"}, headers=auth)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["path"] == "pending_until"
    assert "'new'" in refused.get_json()["errors"][0]["message"]
    api.client.put(base + "/state", json={"state": "pending reminder", "pending_until": "2030-01-01T08:00:00"},
                   headers=auth)
    ticket = api.client.put(base + "/pending-until", json={"pending_until": "2030-01-02T10:00:00+03:00"},
                            headers=auth).get_json()
    assert ticket["pending_until"] == int(datetime(2030, 1, 2, 7, 0, tzinfo=UTC).timestamp())
    assert api.client.put(base + "/pending-until", json={"pending_until": None},
                          headers=auth).get_json()["pending_until"] == 0

    history = [(h["history_type"], h["name"]) for h in
               api.client.get(base + "/history", headers=auth).get_json()["items"]]
    assert ("TypeUpdate", "%%Incident%%2%%Unclassified%%1") in history
    assert ("CustomerUpdate", "%%CustomerID=ACME;CustomerUser=jane@acme.test;") in history
    assert ("CustomerUpdate", "%%CustomerID=GLOBEX;") in history
    assert history[-2:] == [("SetPendingTime", "%%2030-01-02 07:00"), ("SetPendingTime", "%%00-00-00 00:00")]


def test_bad_changes_are_problems_with_paths_and_write_nothing(api) -> None:
    ticket_id = _new(api)
    base, auth = f"/api/v1/tickets/{ticket_id}", api.auth(api.agent_key)
    before = _rows(api, ticket_id)
    cases = [
        ("/type", {"type": "Nonsense"}, "type"),
        ("/type", {}, "type"),
        ("/customer", {}, "body"),
        ("/customer", {"customer_user": ""}, "customer_user"),
        ("/customer", {"customer_id": "x" * 151}, "customer_id"),
        ("/pending-until", {"pending_until": "next tuesday"}, "pending_until"),
        ("/pending-until", {}, "pending_until"),
        ("/responsible", {"responsible": ""}, "responsible"),
        ("/dynamic-fields/Product", {}, "value"),
        ("/state", {"state": "pending reminder", "pending_until": "soon"}, "pending_until"),
    ]
    for route, body, path in cases:
        answer = api.client.put(base + route, json=body, headers=auth)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json", (route, body)
        assert path in {e["path"] for e in answer.get_json()["errors"]}, (route, answer.get_json())
    merge = api.client.post(base + "/merge", json={"main_ticket_id": "two"}, headers=auth)
    assert merge.status_code == 422 and merge.get_json()["errors"][0]["path"] == "main_ticket_id"
    assert _rows(api, ticket_id) == before


def test_responsible_needs_the_feature_and_rw(api) -> None:
    ticket_id = _new(api)
    base = f"/api/v1/tickets/{ticket_id}"
    before = _rows(api, ticket_id)
    off = api.client.put(base + "/responsible", json={"responsible": "agent1"}, headers=api.auth(api.agent_key))
    assert off.status_code == 403 and "OTRS_EXT_TICKET_RESPONSIBLE" in off.get_json()["detail"]
    assert _rows(api, ticket_id) == before

    runtime = build_runtime(dataclasses.replace(api.runtime.settings, ticket_responsible=True))
    app = create_app(runtime)
    try:
        client = app.test_client()
        # 'owner' and 'ro' are not 'rw': OTRS asks for the responsible key, which only rw grants by default
        owner_only = _agent_with(api, "owner-only", "ro", "owner")
        denied = client.put(base + "/responsible", json={"responsible": "agent1"}, headers=api.auth(owner_only))
        assert denied.status_code == 403 and "'rw'" in denied.get_json()["detail"]
        unknown = client.put(base + "/responsible", json={"responsible": "ghost"}, headers=api.auth(api.agent_key))
        assert unknown.status_code == 404
        assert _rows(api, ticket_id) == before
        ticket = client.put(base + "/responsible", json={"responsible": "outsider"},
                            headers=api.auth(api.agent_key)).get_json()
        assert (ticket["responsible"], ticket["responsible_id"]) == ("outsider", api.outsider_id)
        # with the feature on, the responsible may now work the ticket (OTRS's ResponsibleCheck)
        seen = client.get(base, headers=api.auth(api.outsider_key))
        assert seen.status_code == 200 and seen.get_json()["responsible"] == "outsider"
    finally:
        app.extensions["otrs_ext"].core.close()
        runtime.close()


def test_dynamic_fields_are_checked_against_their_configuration(fields) -> None:
    api = fields
    ticket_id = _new(api)
    base, auth = f"/api/v1/tickets/{ticket_id}/dynamic-fields", api.auth(api.agent_key)
    before = _rows(api, ticket_id)
    refused = [
        ("Product", "printers", "value", "is not a possible value of 'Product'; possible: '1', 'domains'"),
        ("Product", ["hosting"], "value", "takes one value"),
        ("Tags", ["red", "pink"], "value[1]", "'pink' is not a possible value"),
        ("Tags", ["red", ""], "value[1]", "send [] or null to clear"),
        ("Due", "2099-02-30", "value", "must be a date, YYYY-MM-DD"),
        ("Due", "2099-01-01 10:00:00", "value", "without a time"),
        ("Due", "2001-01-01", "value", "no dates in the past"),
        ("CallBack", "tomorrow", "value", "must be a date and time"),
        ("Urgent", 2, "value", "a checkbox takes 1"),
        ("Contract", "12a", "value", "does not match /^\\d+\\z/ (digits only)"),
        ("Contract", {"a": 1}, "value", "takes one value"),
        ("Nope", "x", "name", "no ticket dynamic field 'Nope'; known: CallBack, Contract, Due, Product, Tags, Urgent"),
        ("Retired", "x", "name", "is invalid in OTRS"),
    ]
    for name, value, path, message in refused:
        answer = api.client.put(f"{base}/{name}", json={"value": value}, headers=auth)
        assert answer.status_code == 422, (name, value, answer.get_json())
        [error] = answer.get_json()["errors"]
        assert error["path"] == path and message in error["message"], (name, value, error)
    assert _rows(api, ticket_id) == before

    for name, value in (("Product", "yes"), ("Tags", ["red", "blue"]), ("Due", "2099-01-01"),
                        ("CallBack", "2030-01-02T10:00:00+03:00"), ("Urgent", 1), ("Contract", "12345")):
        answer = api.client.put(f"{base}/{name}", json={"value": value}, headers=auth)
        assert answer.status_code == 200, (name, answer.get_json())
    ticket = answer.get_json()
    assert ticket["dynamic_fields"] == {"Product": "yes", "Tags": ["red", "blue"], "Due": "2099-01-01T00:00:00",
                                        "CallBack": "2030-01-02T07:00:00", "Urgent": 1, "Contract": "12345"}

    assert "Tags" not in api.client.delete(f"{base}/Tags", headers=auth).get_json()["dynamic_fields"]
    cleared = api.client.put(f"{base}/Product", json={"value": None}, headers=auth).get_json()["dynamic_fields"]
    assert "Product" not in cleared and set(cleared) == {"Due", "CallBack", "Urgent", "Contract"}
    history = [h["name"] for h in api.client.get(f"/api/v1/tickets/{ticket_id}/history",
                                                 headers=auth).get_json()["items"]]
    assert "%%FieldName%%Tags%%Value%%red, blue%%OldValue%%" in history


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2), max_leaves=6)
_LIKELY = st.sampled_from(["hosting", "yes", "1", 1, 1.0, 0, "0", "", "2099-01-01", "2099-01-01 00:00:00",
                           "2030-01-02 10:00", "2030-01-02T10:00:00Z", "2030-01-02T10:00:00.5", "0001-01-01",
                           "12345", "12345\n", "\U0001F600", "red", ["red"], ["red", "blue"], [], [""], [None]])


def test_any_json_value_is_stored_or_refused_with_a_path_never_a_crash(fields) -> None:
    api = fields
    ticket_id = _new(api)
    auth = api.auth(api.agent_key)

    @settings(max_examples=120, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(name=st.sampled_from(sorted(FIELDS)), value=st.one_of(_LIKELY, _JSON))
    def run(name: str, value: object) -> None:
        before = _rows(api, ticket_id)
        answer = api.client.put(f"/api/v1/tickets/{ticket_id}/dynamic-fields/{name}", json={"value": value},
                                headers=auth)
        assert answer.status_code in (200, 422), (name, value, answer.get_json())
        if answer.status_code == 422:
            paths = {e["path"] for e in answer.get_json()["errors"]}
            assert all(p == "name" or p == "value" or p.startswith("value[") for p in paths), paths
            assert _rows(api, ticket_id) == before, (name, value)
        else:
            assert api.client.get(f"/api/v1/tickets/{ticket_id}", headers=auth).status_code == 200

    run()


def test_a_ticket_create_checks_its_dynamic_fields(fields) -> None:
    api = fields
    with api.engine.connect() as conn:
        tickets = conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one()
    bad = api.client.post("/api/v1/tickets", headers=api.auth(api.agent_key), json={
        "title": "x", "queue": "Raw", "dynamic_fields": {"Product": "printers", "Tags": ["red", 7]}})
    assert bad.status_code == 422
    assert {e["path"] for e in bad.get_json()["errors"]} == {"ticket.dynamic_fields.Product",
                                                             "ticket.dynamic_fields.Tags[1]"}
    with api.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one() == tickets
    good = api.client.post("/api/v1/tickets", headers=api.auth(api.agent_key), json={
        "title": "x", "queue": "Raw", "dynamic_fields": {"Product": "hosting", "Tags": ["green"]}})
    assert good.status_code == 201
    ticket = api.client.get(good.headers["Location"], headers=api.auth(api.agent_key)).get_json()
    assert ticket["dynamic_fields"] == {"Product": "hosting", "Tags": ["green"]}


def test_merge_is_exactly_once_per_idempotency_key_and_needs_rw_on_both(api) -> None:
    merged_id, main_id = _new(api, "Duplicate"), _new(api, "Original")
    auth = api.auth(api.agent_key)
    url = f"/api/v1/tickets/{merged_id}/merge"
    before = (_rows(api, merged_id), _rows(api, main_id))
    for body, message in (({"main_ticket_id": merged_id}, "merged into itself"),
                          ({"main_ticket_id": 999999}, "no ticket with id 999999")):
        refused = api.client.post(url, json=body, headers=auth)
        assert refused.status_code == 422, refused.get_json()
        [error] = refused.get_json()["errors"]
        assert error["path"] == "main_ticket_id" and message in error["message"]
    read_only = _agent_with(api, "reader", "ro")
    denied = api.client.post(url, json={"main_ticket_id": main_id}, headers=api.auth(read_only))
    assert denied.status_code == 403 and "'rw'" in denied.get_json()["detail"]
    assert (_rows(api, merged_id), _rows(api, main_id)) == before

    headers = api.auth(api.agent_key, **{"Idempotency-Key": "merge-1"})
    first = api.client.post(url, json={"main_ticket_id": main_id}, headers=headers)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["state"] == "merged" and first.headers["Location"] == f"/api/v1/tickets/{main_id}"
    after = (_rows(api, merged_id), _rows(api, main_id))
    again = api.client.post(url, json={"main_ticket_id": main_id}, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert (_rows(api, merged_id), _rows(api, main_id)) == after  # the replay merged nothing again

    main = api.client.get(f"/api/v1/tickets/{main_id}", headers=auth).get_json()
    assert len(main["articles"]) == 2  # its own and the merged ticket's
    merged = api.client.get(f"/api/v1/tickets/{merged_id}?history=1", headers=auth).get_json()
    assert [a["subject"] for a in merged["articles"]] == ["Ticket Merged"]
    assert "Merged" in {h["history_type"] for h in merged["history"]}

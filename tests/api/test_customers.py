"""The customer portal's view through the API: own and company tickets only, customer-visible articles only."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from otrs_ext.api.customers import CustomerTokens
from otrs_ext.api.keys import Unauthorized


@pytest.fixture
def portal(api):
    with api.engine.begin() as conn:
        for login, company in (("jane@acme.test", "ACME"), ("joe@acme.test", "ACME"), ("eve@evil.test", "EVIL")):
            conn.execute(text(
                "INSERT INTO customer_user (login, email, customer_id, pw, first_name, last_name, valid_id, "
                "create_time, create_by, change_time, change_by) VALUES (:l, :l, :c, '', 'C', 'U', 1, NOW(), 1, "
                "NOW(), 1)"), {"l": login, "c": company})

    def token(login: str) -> str:
        answer = api.client.post("/api/v1/customer-tokens", json={"customer_user": login},
                                 headers=api.auth(api.intake_key))
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()["token"]

    return token


def test_customer_sees_own_and_company_tickets_and_only_visible_articles(api, portal) -> None:
    jane, eve = portal("jane@acme.test"), portal("eve@evil.test")
    created = api.client.post("/api/v1/tickets", json={"title": "Мой сайт", "queue": "Raw",
                                                       "customer_user": "someone-else", "article": {"body": "help"}},
                              headers=api.auth(jane))
    assert created.status_code == 201, created.get_json()
    ticket_id = created.get_json()["id"]
    agent = api.auth(api.agent_key)
    api.client.post(f"/api/v1/tickets/{ticket_id}/articles", json={"body": "internal: check DNS"}, headers=agent)
    api.client.post(f"/api/v1/tickets/{ticket_id}/articles", json={"body": "We are on it", "channel": "Email",
                                                                   "visible_for_customer": True}, headers=agent)

    mine = api.client.get(f"/api/v1/tickets/{ticket_id}", headers=api.auth(jane)).get_json()
    assert mine["customer_user"] == "jane@acme.test" and mine["customer_id"] == "ACME"  # the token decides
    assert [a["body"] for a in mine["articles"]] == ["help", "We are on it"]
    colleague = portal("joe@acme.test")
    assert api.client.get(f"/api/v1/tickets/{ticket_id}", headers=api.auth(colleague)).status_code == 200
    assert api.client.get(f"/api/v1/tickets/{ticket_id}", headers=api.auth(eve)).status_code == 404
    assert api.client.get("/api/v1/tickets", headers=api.auth(eve)).get_json()["total"] == 0
    assert api.client.get("/api/v1/tickets", headers=api.auth(jane)).get_json()["total"] == 1

    reply = api.client.post(f"/api/v1/tickets/{ticket_id}/articles", json={"body": "thanks"}, headers=api.auth(jane))
    assert reply.status_code == 201
    assert api.client.post(f"/api/v1/tickets/{ticket_id}/articles", json={"body": "x"},
                           headers=api.auth(eve)).status_code == 404
    assert api.client.post(f"/api/v1/tickets/{ticket_id}/lock", headers=api.auth(jane)).status_code == 403
    history = api.client.get(f"/api/v1/tickets/{ticket_id}?history=1", headers=agent).get_json()["history"]
    # the customer's reply is a FollowUp (after it OTRS may reset the unlock timeout: a "Misc" row)
    assert [h["history_type"] for h in history if h["history_type"] != "Misc"][-1] == "FollowUp"


def test_tokens_are_signed_expire_and_are_issued_only_to_intake_keys(api, portal) -> None:
    tokens = CustomerTokens("s3cret", ttl_seconds=60)
    issued = tokens.issue("jane@acme.test", now=1000)
    assert tokens.verify(issued.token, now=1059) == "jane@acme.test"
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(issued.token, now=1061)
    forged = issued.token.replace("ctk_", "ctk_x", 1)
    with pytest.raises(Unauthorized, match="invalid"):
        tokens.verify(forged, now=1000)
    with pytest.raises(Unauthorized):
        CustomerTokens("other").verify(issued.token, now=1000)
    assert api.client.post("/api/v1/customer-tokens", json={"customer_user": "jane@acme.test"},
                           headers=api.auth(api.agent_key)).status_code == 403
    assert api.client.post("/api/v1/customer-tokens", json={"customer_user": "nobody@x"},
                           headers=api.auth(api.intake_key)).status_code == 404


def test_a_customer_token_on_an_instance_without_a_secret_key_is_a_401(api) -> None:
    token = CustomerTokens("some-other-instance-secret").issue("jane@acme.test").token
    api.app.extensions["otrs_ext"].customer_tokens = CustomerTokens("")  # as built without OTRS_EXT_SECRET_KEY
    answer = api.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == "customer tokens are not enabled on this instance"
    with pytest.raises(Unauthorized):
        CustomerTokens("").verify(token)

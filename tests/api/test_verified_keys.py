"""API keys verified once per worker: a revocation still reaches every worker with the very next request."""

from __future__ import annotations

from otrs_ext.api.app import create_app
from otrs_ext.api.keys import ApiKeys


def test_a_revoked_key_is_refused_at_once_by_a_worker_that_verified_it(api) -> None:
    other = create_app(api.runtime)  # a second worker: its own verified keys, the same database and Redis
    try:
        headers = api.auth(api.agent_key)
        assert api.client.get("/api/v1/tickets", headers=headers).status_code == 200
        assert api.client.get("/api/v1/tickets", headers=headers).status_code == 200  # from its cache now
        key_id = ApiKeys(api.engine).authenticate(api.agent_key).key_id
        other.extensions["otrs_ext"].keys.revoke(key_id)
        refused = api.client.get("/api/v1/tickets", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["detail"] == "unknown or revoked API key"
        # other keys go on working, re-verified once
        assert api.client.get("/api/v1/tickets", headers=api.auth(api.outsider_key)).status_code == 200
    finally:
        other.extensions["otrs_ext"].core.close()


def test_a_key_revoked_in_this_worker_is_refused(api) -> None:
    headers = api.auth(api.intake_key)
    body = {"title": "from the website", "queue": "Raw", "customer_user": "jane@example.test",
            "article": {"subject": "hello", "body": "a question"}}
    assert api.client.post("/api/v1/tickets", json=body, headers=headers).status_code == 201
    keys = api.app.extensions["otrs_ext"].keys
    keys.revoke(keys.authenticate(api.intake_key).key_id)
    assert api.client.post("/api/v1/tickets", json=body, headers=headers).status_code == 401

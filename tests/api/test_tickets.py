"""API v1 tickets against real MariaDB and Redis: what the website and agents' tools see."""

from __future__ import annotations

import base64
import io

from sqlalchemy import text

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _new(api, key=None, **extra):
    body = {"title": "Не работает почта", "queue": "Raw", "customer_user": "jane@acme.test", "source": "site-anonymous",
            "article": {"subject": "Почта", "body": "Since 10:00 mail to reg.ru bounces", "from": "jane@acme.test"},
            **extra}
    return api.client.post("/api/v1/tickets", json=body, headers=api.auth(key or api.intake_key))


def test_website_creates_a_ticket_with_an_attachment_the_agent_downloads_byte_for_byte(api) -> None:
    created = _new(api, attachments=[{"filename": "скрин.png", "content_type": "image/png", "content": _b64(PNG)}])
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/tickets/{body['id']}" and len(body["number"]) >= 14

    ticket = api.client.get(created.headers["Location"] + "?history=1", headers=api.auth(api.agent_key)).get_json()
    assert ticket["title"] == "Не работает почта" and ticket["customer_user"] == "jane@acme.test"
    [article] = ticket["articles"]
    assert article["sender_type"] == "customer" and article["visible_for_customer"]
    assert ticket["history"][2]["history_type"] == "WebRequestCustomer"
    [attachment] = article["attachments"]
    download = api.client.get(f"/api/v1/tickets/{body['id']}/articles/{article['article_id']}/attachments/"
                              f"{attachment['file_id']}", headers=api.auth(api.agent_key))
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    with api.engine.connect() as conn:
        source = conn.execute(text("SELECT source FROM otrs_ext_ticket_source WHERE ticket_id = :t"),
                              {"t": body["id"]}).scalar()
    assert source == "site-anonymous"


def test_multipart_upload_carries_the_same_fields_and_binary_files(api) -> None:
    data = {"title": "Счёт", "queue": "Raw", "customer_user": "bob@acme.test", "article.subject": "Invoice",
            "article.body": "see attached", "attachments": [(io.BytesIO(PNG), "invoice.png", "image/png"),
                                                             (io.BytesIO(b"%PDF-1.4 fake"), "a.png", "image/png")]}
    created = api.client.post("/api/v1/tickets", data=data, content_type="multipart/form-data",
                              headers=api.auth(api.intake_key))
    assert created.status_code == 201, created.get_json()
    ticket = api.client.get(created.headers["Location"], headers=api.auth(api.agent_key)).get_json()
    files = {a["filename"]: a for a in ticket["articles"][0]["attachments"]}
    assert files["invoice.png"]["size"] == len(PNG) and files["invoice.png"]["content_type"] == "image/png"
    assert files["a.png"]["content_type"] == "application/octet-stream"  # claimed PNG, is not one


def test_bad_input_is_a_problem_with_field_paths_and_writes_nothing(api) -> None:
    def tickets() -> int:
        with api.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one()

    before = tickets()
    bad = api.client.post("/api/v1/tickets", json={"queue": "Raw", "attachments": [{"filename": "x", "content": "%%"}]},
                          headers=api.auth(api.intake_key))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    paths = {e["path"] for e in bad.get_json()["errors"]}
    assert {"title", "attachments[0].content"} <= paths
    unknown = _new(api, queue="Nowhere", state="bogus")
    assert unknown.status_code == 422
    assert {e["path"] for e in unknown.get_json()["errors"]} == {"ticket.queue", "ticket.state"}
    big = _new(api, attachments=[{"filename": "big.bin", "content": _b64(b"x" * 200_001)}])
    assert big.status_code == 413 and "200000 bytes" in big.get_json()["detail"]
    assert api.client.post("/api/v1/tickets", data="not json", content_type="text/plain",
                           headers=api.auth(api.intake_key)).status_code == 422
    assert tickets() == before


def test_idempotency_key_makes_retries_create_one_ticket(api) -> None:
    headers = {"Idempotency-Key": "order-4711"}
    body = {"title": "Retry me", "queue": "Raw", "article": {"body": "once"}}
    first = api.client.post("/api/v1/tickets", json=body, headers=api.auth(api.intake_key, **headers))
    again = api.client.post("/api/v1/tickets", json=body, headers=api.auth(api.intake_key, **headers))
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = api.client.post("/api/v1/tickets", json={**body, "title": "Something else"},
                            headers=api.auth(api.intake_key, **headers))
    assert other.status_code == 422 and other.get_json()["errors"][0]["path"] == "Idempotency-Key"
    with api.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ticket WHERE title = 'Retry me'")).scalar() == 1


def test_an_agent_without_rights_gets_404_everywhere_and_intake_may_only_create(api) -> None:
    ticket_id = _new(api).get_json()["id"]
    base = f"/api/v1/tickets/{ticket_id}"
    calls = [("get", base, None), ("get", base + "/history", None), ("post", base + "/lock", None),
             ("post", base + "/unlock", None), ("put", base + "/owner", {"owner": "outsider"}),
             ("put", base + "/queue", {"queue": "Misc"}), ("put", base + "/state", {"state": "open"}),
             ("put", base + "/priority", {"priority": "4 high"}), ("put", base + "/title", {"title": "x"}),
             ("put", base + "/type", {"type": "Unclassified"}), ("put", base + "/responsible", {"responsible": "x"}),
             ("put", base + "/customer", {"customer_id": "ACME"}),
             ("put", base + "/pending-until", {"pending_until": None}),
             ("put", base + "/dynamic-fields/Topic", {"value": "x"}), ("delete", base + "/dynamic-fields/Topic", None),
             ("post", base + "/merge", {"main_ticket_id": 1}),
             ("post", base + "/articles", {"body": "hi"}), ("get", base + "/articles/1/attachments/1", None)]
    for method, path, body in calls:
        answer = getattr(api.client, method)(path, json=body, headers=api.auth(api.outsider_key))
        assert answer.status_code == 404, (method, path, answer.get_json())
        assert getattr(api.client, method)(path, json=body, headers=api.auth(api.intake_key)).status_code == 403
    listed = api.client.get("/api/v1/tickets", headers=api.auth(api.outsider_key)).get_json()
    assert listed == {"items": [], "total": 0, "next_cursor": None}


def test_an_agent_works_the_ticket(api) -> None:
    ticket_id = _new(api).get_json()["id"]
    base, auth = f"/api/v1/tickets/{ticket_id}", api.auth(api.agent_key)
    assert api.client.post(base + "/lock", headers=auth).get_json()["lock"] == "lock"
    assert api.client.put(base + "/owner", json={"owner": "agent1"}, headers=auth).get_json()["owner"] == "agent1"
    reply = api.client.post(base + "/articles", json={"body": "<p>Fixed</p>", "content_type": "text/html",
                                                      "channel": "Email", "visible_for_customer": True,
                                                      "move_to": "Misc"}, headers=auth)
    assert reply.status_code == 201
    assert api.client.put(base + "/priority", json={"priority": "4 high"}, headers=auth).get_json()["priority"] == \
        "4 high"
    closed = api.client.put(base + "/state", json={"state": "closed successful"}, headers=auth).get_json()
    assert (closed["state"], closed["queue"], closed["lock"]) == ("closed successful", "Misc", "unlock")
    history = [h["history_type"] for h in api.client.get(base + "/history", headers=auth).get_json()["items"]]
    assert {"Lock", "OwnerUpdate", "EmailAgent", "Move", "PriorityUpdate", "StateUpdate"} <= set(history)


def test_list_filters_pages_and_counts(api) -> None:
    ids = [_new(api, title=f"t{i}").get_json()["id"] for i in range(5)]
    auth = api.auth(api.agent_key)
    first = api.client.get("/api/v1/tickets?queue=Raw&limit=2", headers=auth).get_json()
    assert first["total"] == 6 and [t["ticket_id"] for t in first["items"]] == ids[:-3:-1]  # + welcome ticket
    second = api.client.get(f"/api/v1/tickets?queue=Raw&limit=2&cursor={first['next_cursor']}", headers=auth).get_json()
    assert [t["ticket_id"] for t in second["items"]] == [ids[2], ids[1]]
    closed = api.client.get("/api/v1/tickets?state_type=closed", headers=auth).get_json()
    assert closed["total"] == 0
    bad = api.client.get("/api/v1/tickets?queue=Nope&cursor=zzz", headers=auth)
    assert bad.status_code == 422


def test_authentication_and_rate_limits(api) -> None:
    assert api.client.get("/api/v1/tickets").status_code == 401
    assert api.client.get("/api/v1/tickets", headers=api.auth("oxk_nope_nope")).status_code == 401
    from otrs_ext.api.keys import ApiKeys

    slow = ApiKeys(api.engine).create("agent", name="slow", agent_id=api.agent_id, rate_per_minute=2)
    answers = [api.client.get("/api/v1/tickets", headers=api.auth(slow)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1


def test_openapi_document_and_page(api) -> None:
    doc = api.client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0" and "/tickets" in doc["paths"]
    assert "TicketCreate" in doc["components"]["schemas"]
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200 and b"POST /api/v1/tickets" in page.data

"""The durable client against a real API process, real Redis and a real Celery worker."""

from __future__ import annotations

import hashlib
import random

import pytest
import requests
from click.testing import CliRunner
from outbox_support import alerts
from support.waiting import wait_for

from otrs_ext.cli import main
from otrs_ext.client import Refused, Upload
from otrs_ext.client.backoff import delay, next_attempt
from otrs_ext.client.transport import retry_after

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _download(stack, sent) -> dict[str, bytes]:
    auth = {"Authorization": f"Bearer {stack.agent_key}"}
    ticket = requests.get(f"{stack.api.url}/api/v1/tickets/{sent.ticket_id}", headers=auth, timeout=10).json()
    files = {}
    for article in ticket["articles"]:
        for a in article["attachments"]:
            url = (f"{stack.api.url}/api/v1/tickets/{sent.ticket_id}/articles/{article['article_id']}/attachments/"
                   f"{a['file_id']}")
            files[a["filename"]] = requests.get(url, headers=auth, timeout=10).content
    return files


def test_creates_and_replies_directly_with_attachments_from_bytes_and_paths(stack, tmp_path) -> None:
    report = tmp_path / "отчёт.pdf"
    report.write_bytes(b"%PDF-1.4 " + bytes(range(256)))
    sent = stack.client().create_ticket(title="Сайт: форма", queue="Raw", body="Не могу войти",
                                        customer_user="jane@acme.test", source="site-anonymous",
                                        attachments=[Upload("скрин.png", PNG, "image/png"), report])
    assert sent.delivered and sent.status == 201 and sent.number and sent.ticket_id
    reply = stack.client(stack.agent_key).reply(sent.ticket_id, body="Проверьте пароль",
                                                attachments=[("log.txt", b"\x00\x01binary\xff")])
    assert reply.delivered and reply.body["ticket_id"] == sent.ticket_id
    files = _download(stack, sent)
    assert files == {"скрин.png": PNG, "отчёт.pdf": report.read_bytes(), "log.txt": b"\x00\x01binary\xff"}
    assert stack.outbox().store.status().counters == {}  # a direct delivery never touches the outbox


def test_api_down_queues_the_request_and_the_worker_delivers_it_once(stack) -> None:
    stack.api.kill()
    client = stack.client()
    queued = [client.create_ticket(title=f"queued-{i}", queue="Raw", body="while the API was down",
                                   attachments=[(f"f{i}.bin", bytes([i]) * 3000)]) for i in range(3)]
    assert not any(s.delivered for s in queued)
    status = stack.outbox().store.status()
    assert status.pending == 3
    wait_for(lambda: stack.outbox().store.status().retrying == 3, 20, "the worker's failed retries")
    stack.api.start()
    wait_for(stack.drained, 30, "the outbox to drain")
    tickets = stack.tickets("queued-")
    assert sorted(tickets) == ["queued-0", "queued-1", "queued-2"]
    digests = stack.attachment_digests("queued-")
    for i in range(3):
        assert digests[f"queued-{i}"] == [(f"f{i}.bin", hashlib.sha256(bytes([i]) * 3000).hexdigest())]
        result = client.result(queued[i].outbox_id)
        assert result is not None and result.ticket_id == tickets[f"queued-{i}"]
    counters = stack.outbox().store.status().counters
    assert counters["delivered"] == 3 and counters["delivered_after_retry"] == 3 and counters["retries"] >= 3


def test_the_same_request_delivered_twice_is_one_ticket(stack) -> None:
    client = stack.client()
    sent = client.create_ticket(title="twice", queue="Raw", body="x", attachments=[("a.bin", b"abc")])
    assert sent.delivered
    # the website crashed after the API answered but before it noted the answer: the request is queued again
    # under the same key, as an outbox retry would send it
    outbox = stack.outbox()
    from otrs_ext.client.envelope import Envelope

    envelope, contents = Envelope.build("create_ticket", "/api/v1/tickets",
                                        {"title": "twice", "queue": "Raw",
                                         "article": {"subject": "twice", "body": "x", "content_type": "text/plain"}},
                                        [Upload("a.bin", b"abc", "application/octet-stream")], stack.api.url,
                                        stack.intake_key)
    envelope.id = sent.outbox_id
    outbox.keep(envelope, contents, None)
    wait_for(stack.drained, 20, "the outbox to drain")
    assert len(stack.tickets("twice")) == 1
    assert outbox.store.status().counters["replayed"] == 1
    assert client.result(sent.outbox_id).ticket_id == sent.ticket_id


def test_a_refusal_is_dead_at_once_with_its_problem_and_alerts_and_can_be_retried(stack) -> None:
    client = stack.client()
    with pytest.raises(Refused) as refused:
        client.create_ticket(title="bad queue", queue="Nowhere", body="x", attachments=[("a.bin", b"keep me")])
    assert refused.value.status == 422
    assert {e["path"] for e in refused.value.problem["errors"]} == {"ticket.queue"}
    status = stack.outbox().store.status()
    assert status.dead == 1 and status.pending == 0
    [dead] = status.newest_dead
    assert dead.dead_reason == "refused" and dead.problem["status"] == 422
    assert stack.outbox().store.load(dead.id)[1] == [b"keep me"]  # the files stay for a retry
    assert alerts(stack) == [{"id": dead.id, "reason": "refused", "problem": dead.problem, "error": dead.last_error}]

    env = {"OTRS_EXT_OUTBOX_REDIS_URL": stack.settings.outbox_redis_url}
    shown = CliRunner().invoke(main, ["outbox", "status"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "pending 0 (retried 0), dead 1" in shown.output and f"dead {dead.id}" in shown.output
    assert "refused after 1 attempts: HTTP 422" in shown.output and "appendonly off" in shown.output

    # an operator who fixed nothing gets it dead again, through the worker this time
    retried = CliRunner().invoke(main, ["outbox", "retry-dead", "--all"], env={**stack.settings.environ()})
    assert retried.exit_code == 0 and "1 request(s)" in retried.output
    wait_for(lambda: len(alerts(stack)) == 2, 20, "the second dead letter")
    assert stack.outbox().store.status().dead == 1


def test_past_the_deadline_the_request_is_dead_with_the_last_error(stack) -> None:
    stack.worker.stop()
    stack.api.kill()
    short = stack.settings.with_changes(outbox_deadline_seconds=2.0)
    from otrs_ext.client import OtrsExtClient
    from otrs_ext.client.compose import outbox_from_settings

    client = OtrsExtClient(stack.api.url, short.client_api_key, outbox=outbox_from_settings(short))
    sent = client.create_ticket(title="late", queue="Raw", body="x")
    assert not sent.delivered
    stack.worker.start()
    wait_for(lambda: stack.outbox().store.status().dead == 1, 20, "the dead letter")
    [dead] = stack.outbox().store.status().newest_dead
    assert dead.dead_reason == "deadline" and "ConnectionError" in dead.last_error and dead.attempts >= 2
    assert alerts(stack)[0]["reason"] == "deadline"


def test_rate_limited_requests_wait_for_retry_after(stack) -> None:
    from otrs_ext.api.keys import ApiKeys

    slow = ApiKeys(stack.engine).create("intake", name="slow", rate_per_minute=1)
    client = stack.client(slow)
    # the limit counts per minute: a pair straddling a minute boundary both pass, a third does not
    sent = [client.create_ticket(title=f"rl-{i}", queue="Raw", body="x") for i in range(3)]
    assert sent[0].delivered
    second = next(s for s in sent if not s.delivered)
    envelope = stack.outbox().store.meta(second.outbox_id)
    assert "HTTP 429" in envelope.last_error
    assert envelope.next_at - envelope.created_at >= 1.0  # Retry-After (seconds to the next minute) honoured


def test_backoff_doubles_with_jitter_and_respects_retry_after_and_deadline() -> None:
    rng = random.Random(1)
    waits = [delay(n, 1.0, 30.0, rng=rng) for n in range(1, 8)]
    for n, wait in enumerate(waits, start=1):
        step = min(30.0, 2 ** (n - 1))
        assert step / 2 <= wait <= step
    assert delay(1, 1.0, 30.0, retry_after=120.0) == 120.0
    assert next_attempt(100.0, 105.0, 10.0) == 105.0 and next_attempt(105.0, 105.0, 1.0) is None
    assert retry_after("7") == 7.0 and retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None

"""The outbox: keeps a request the API did not take, delivers it from a Celery worker with backoff until
its deadline, and dead-letters it (with an alert) when it was refused or the deadline passed.

Redis (store.py) is the truth; a Celery message only says "try item X now". A lost message (Redis restarted
without it, a worker killed) leaves the item in ``pending`` with an overdue time, and ``sweep`` (run by every
worker at start and each minute, or ``otrs-ext outbox sweep``) sends it again. Two messages for one item are
harmless: one delivery runs at a time (``lock``) and the Idempotency-Key makes the API answer a repeat with
the first answer instead of a second ticket.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import requests

from .alerts import Alert, fire
from .backoff import delay, next_attempt
from .envelope import Envelope, key_fingerprint
from .store import OutboxStore
from .transport import Outcome, attempt

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("otrs_ext.outbox")
TASK = "otrs_ext.outbox.deliver"
QUEUE = "otrs-ext-outbox"
#: a message due this much later than now is a duplicate of one still scheduled (clocks may differ a little)
EARLY_TOLERANCE = 30.0


class Outbox:
    def __init__(self, store: OutboxStore, celery: Celery, *, api_key: str, deadline: float, backoff: float,
                 backoff_max: float, timeout: float, alerts: list[Alert]) -> None:
        self.store = store
        self.celery = celery
        self.api_key = api_key
        self.deadline = deadline
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.alerts = alerts
        self._local = threading.local()

    # --- the client's side ------------------------------------------------------------------------------
    def keep(self, envelope: Envelope, contents: list[bytes], outcome: Outcome | None) -> None:
        """Store a request the API did not take now (``outcome`` of the client's own attempt, if any) and
        schedule its delivery."""
        now = time.time()
        envelope.deadline_at = envelope.created_at + self.deadline
        wait = 0.0
        if outcome is not None:
            envelope.attempts, envelope.last_error = 1, outcome.error
            wait = delay(1, self.backoff, self.backoff_max, outcome.retry_after)
        envelope.next_at = now + wait
        self.store.put(envelope, contents)
        self._schedule(envelope.id, wait)

    def refused(self, envelope: Envelope, contents: list[bytes], outcome: Outcome) -> None:
        """The client's own attempt was refused for good: dead-letter it at once, files included."""
        envelope.attempts = 1
        envelope.deadline_at = envelope.created_at + self.deadline
        self._bury(envelope, "refused", outcome, contents)

    # --- the worker's side ------------------------------------------------------------------------------
    def deliver(self, item_id: str) -> str:
        """One attempt of item ``item_id``; returns what happened (for logs and tests)."""
        if not self.store.lock(item_id, self.timeout + 30):
            return "busy"
        try:
            loaded = self.store.load(item_id)
            if loaded is None:
                return "gone"  # delivered by a twin message
            envelope, contents = loaded
            if envelope.state != "pending":
                return envelope.state
            if envelope.next_at > time.time() + EARLY_TOLERANCE:
                return "early"
            if envelope.key_fp != key_fingerprint(self.api_key):
                envelope.last_error = ("the worker's OTRS_EXT_CLIENT_API_KEY is not the key the client used; "
                                       "with another key the Idempotency-Key would not protect against doubles")
                self._bury(envelope, "key-mismatch", None)
                return "dead"
            outcome = attempt(self._session(), envelope, contents, self.api_key, self.timeout)
            envelope.attempts += 1
            return self._settle(envelope, outcome)
        finally:
            self.store.unlock(item_id)

    def _settle(self, envelope: Envelope, outcome: Outcome) -> str:
        if outcome.kind == "delivered":
            self.store.delivered(envelope, _result(outcome), replayed=outcome.replayed)
            log.info("outbox request %s delivered after %d attempts", envelope.id, envelope.attempts,
                     extra={"event": "outbox_delivered", "outbox_id": envelope.id, "attempts": envelope.attempts,
                            "replayed": outcome.replayed})
            return "delivered"
        if outcome.kind == "refused":
            self._bury(envelope, "refused", outcome)
            return "dead"
        envelope.last_error = outcome.error
        now = time.time()
        at = next_attempt(now, envelope.deadline_at,
                          delay(envelope.attempts, self.backoff, self.backoff_max, outcome.retry_after))
        if at is None:
            self._bury(envelope, "deadline", outcome)
            return "dead"
        envelope.next_at = at
        self.store.reschedule(envelope)
        self._schedule(envelope.id, at - now)
        return "retry"

    # --- operations -------------------------------------------------------------------------------------
    def sweep(self, grace: float) -> int:
        """Send again the pending items overdue by more than ``grace`` seconds (their message was lost)."""
        ids = self.store.overdue(time.time() - grace)
        for item_id in ids:
            self._schedule(item_id, 0.0)
        if ids:
            log.warning("outbox sweep re-sent %d overdue requests", len(ids), extra={"event": "outbox_sweep"})
        return len(ids)

    def retry_dead(self, ids: list[str] | None = None) -> int:
        """Give dead requests (all, or ``ids``) a fresh deadline and try them again now."""
        revived = 0
        for item_id in ids if ids is not None else self.store.dead_ids():
            envelope = self.store.meta(item_id)
            if envelope is None or envelope.state != "dead":
                continue
            now = time.time()
            envelope.state, envelope.dead_reason, envelope.problem = "pending", "", None
            envelope.deadline_at, envelope.next_at = now + self.deadline, now
            self.store.revive(envelope)
            self._schedule(item_id, 0.0)
            revived += 1
        return revived

    # --- plumbing ---------------------------------------------------------------------------------------
    def _bury(self, envelope: Envelope, reason: str, outcome: Outcome | None,
              contents: list[bytes] | None = None) -> None:
        envelope.state, envelope.dead_reason, envelope.dead_at = "dead", reason, time.time()
        if outcome is not None:
            envelope.last_error = outcome.error
            envelope.problem = outcome.body if outcome.kind == "refused" else None
        self.store.bury(envelope, contents)
        fire(self.alerts, envelope)

    def _schedule(self, item_id: str, wait: float) -> None:
        try:
            self.celery.send_task(TASK, args=[item_id], countdown=max(0.0, wait), queue=QUEUE)
        except Exception as error:  # noqa: BLE001 - the item is stored; the sweep sends it later
            log.warning("outbox could not schedule %s (%s); the sweep will", item_id, error,
                        extra={"event": "outbox_schedule_failed", "outbox_id": item_id})

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def _result(outcome: Outcome) -> dict[str, Any]:
    return {"status": outcome.status, "body": outcome.body, "location": outcome.location,
            "replayed": outcome.replayed}

"""``OtrsExtClient``: create tickets and replies over the JSON API; what the API cannot take now goes to the
outbox instead of being lost.

Each call is one logical request with its own Idempotency-Key, kept across every retry, so however often it
is sent the API creates one ticket. The call tries the API once itself (the caller usually wants the ticket
number at once); when the API is unreachable, overloaded (429, honouring Retry-After) or failing (5xx), the
request with its files is stored in the outbox and ``Sent.delivered`` is False. A refusal (other 4xx) will not
change by retrying: it is dead-lettered with the problem details and raised as ``Refused``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
import requests

from ..errors import OtrsExtError
from .envelope import Envelope, Upload
from .outbox import Outbox
from .transport import attempt

Attachments = Iterable[Upload | str | Any]


class Refused(OtrsExtError):
    """The API refused the request (4xx other than 408/409/425/429); retrying the same request cannot help."""

    code = "api-refused"

    def __init__(self, status: int, problem: dict[str, Any], outbox_id: str) -> None:
        super().__init__(f"the API refused the request with {status}: {problem.get('detail') or problem}")
        self.status, self.problem, self.outbox_id = status, problem, outbox_id


class Unavailable(OtrsExtError):
    """The API did not take the request and there is no outbox to keep it (or the outbox is down too)."""

    code = "api-unavailable"


@dataclass(frozen=True)
class Sent:
    """``delivered``: the API answered now (``body`` is its answer); otherwise the outbox delivers it later,
    and ``OtrsExtClient.result(outbox_id)`` has the answer once it did."""

    outbox_id: str
    delivered: bool
    status: int | None = None
    body: dict[str, Any] | None = None
    location: str | None = None

    @property
    def ticket_id(self) -> int | None:
        body = self.body or {}
        return body.get("ticket_id", body.get("id"))

    @property
    def number(self) -> str | None:
        return (self.body or {}).get("number")


class OtrsExtClient:
    def __init__(self, base_url: str, api_key: str, *, outbox: Outbox | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.outbox = outbox
        self.timeout = timeout
        self._local = threading.local()  # requests.Session is not documented thread-safe: one per thread

    # --- requests -----------------------------------------------------------------------------------------
    def create_ticket(self, *, title: str, queue: str, body: str, subject: str = "", customer_user: str | None = None,
                      customer_id: str | None = None, from_: str = "", content_type: str = "text/plain",
                      priority: str | None = None, state: str | None = None, type: str | None = None,
                      source: str | None = None, dynamic_fields: dict[str, Any] | None = None,
                      attachments: Attachments = (), queue_only: bool = False) -> Sent:
        """A new ticket with its first article; ``attachments`` are Uploads, paths or (name, bytes[, type])."""
        fields = _present(title=title, queue=queue, customer_user=customer_user, customer_id=customer_id,
                          priority=priority, state=state, type=type, source=source, dynamic_fields=dynamic_fields)
        fields["article"] = _present(subject=subject or title, body=body, content_type=content_type,
                                     **{"from": from_ or None})
        return self.submit("create_ticket", "/api/v1/tickets", fields, attachments, queue_only=queue_only)

    def reply(self, ticket_id: int, *, body: str, subject: str = "", from_: str = "", to: str = "",
              content_type: str = "text/plain", channel: str | None = None, sender_type: str | None = None,
              visible_for_customer: bool | None = None, move_to: str | None = None, attachments: Attachments = (),
              queue_only: bool = False) -> Sent:
        """A new article on ticket ``ticket_id`` (needs an agent key)."""
        fields = _present(subject=subject, body=body, content_type=content_type, to=to or None, channel=channel,
                          sender_type=sender_type, visible_for_customer=visible_for_customer, move_to=move_to,
                          **{"from": from_ or None})
        return self.submit("reply", f"/api/v1/tickets/{int(ticket_id)}/articles", fields, attachments,
                           queue_only=queue_only)

    def submit(self, kind: str, path: str, fields: dict[str, Any], attachments: Attachments = (), *,
               queue_only: bool = False) -> Sent:
        """Any create-like POST of the API. ``queue_only`` skips the direct attempt (fire and forget)."""
        envelope, contents = Envelope.build(kind, path, fields, (Upload.of(a) for a in attachments), self.base_url,
                                            self.api_key)
        outcome = None
        if not queue_only:
            outcome = attempt(self._session(), envelope, contents, self.api_key, self.timeout)
            if outcome.kind == "delivered":
                return Sent(envelope.id, True, outcome.status, outcome.body, outcome.location)
            if outcome.kind == "refused":
                if self.outbox is not None:
                    self.outbox.refused(envelope, contents, outcome)
                raise Refused(outcome.status or 0, outcome.body or {}, envelope.id)
        if self.outbox is None:
            raise Unavailable(f"the API did not take the request ({outcome.error if outcome else 'queue_only'}) "
                              "and this client has no outbox")
        try:
            self.outbox.keep(envelope, contents, outcome)
        except redis.RedisError as error:
            raise Unavailable(f"the API did not take the request ({outcome.error if outcome else 'queue_only'}) "
                              f"and the outbox Redis failed too: {error}") from None
        return Sent(envelope.id, False)

    def result(self, outbox_id: str) -> Sent | None:
        """The API's answer to a request the outbox delivered (kept a week); None while it is not delivered."""
        if self.outbox is None:
            return None
        stored = self.outbox.store.result(outbox_id)
        if stored is None:
            return None
        return Sent(outbox_id, True, stored["status"], stored["body"], stored["location"])

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def _present(**values: Any) -> dict[str, Any]:
    """Only the fields given: the API's models forbid nulls where they have defaults."""
    return {k: v for k, v in values.items() if v is not None}

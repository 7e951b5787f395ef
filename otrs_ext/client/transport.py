"""One HTTP attempt of an envelope and what it means: delivered, worth retrying, or refused for good."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any, Literal

import requests

from .envelope import Envelope

#: Statuses that say "not now" rather than "never": overload, rate limit, a twin request still running (409
#: from the idempotency store), timeouts and every server-side failure.
RETRYABLE = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class Outcome:
    kind: Literal["delivered", "retry", "refused"]
    status: int | None = None
    body: dict[str, Any] | None = None
    location: str | None = None
    retry_after: float | None = None
    error: str = ""
    replayed: bool = False


def attempt(session: requests.Session, envelope: Envelope, contents: list[bytes], api_key: str,
            timeout: float) -> Outcome:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": envelope.id,
               "Content-Type": "application/json", "X-Request-Id": f"outbox-{envelope.id}-{envelope.attempts}"}
    try:
        response = session.request(envelope.method, envelope.base_url + envelope.path, data=envelope.body(contents),
                                   headers=headers, timeout=timeout)
    except requests.RequestException as error:
        return Outcome("retry", error=f"{type(error).__name__}: {error}"[:500])
    return classify(response)


def classify(response: requests.Response) -> Outcome:
    status = response.status_code
    body = _json(response)
    if 200 <= status < 300:
        return Outcome("delivered", status, body, response.headers.get("Location"),
                       replayed=response.headers.get("Idempotent-Replayed") == "true")
    detail = (body or {}).get("detail") or response.text[:300]
    if status >= 500 or status in RETRYABLE:
        return Outcome("retry", status, body, retry_after=retry_after(response.headers.get("Retry-After")),
                       error=f"HTTP {status}: {detail}"[:500])
    return Outcome("refused", status, body or {"status": status, "detail": response.text[:2000]},
                   error=f"HTTP {status}: {detail}"[:500])


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _json(response: requests.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None

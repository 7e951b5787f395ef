"""How fresh the search index is: the last event the ``search`` handler applied, when, and its lag.

Kept in Redis (one small hash, written per event) rather than in a table: it is advisory, losing it only means
"unknown" until the next event, and a per-event database write would slow the tailer. Search answers carry
``indexed_as_of`` from ``read_freshness``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..events.domain import DomainEvent

KEY = "otrs_ext:search:freshness"


@dataclass(frozen=True)
class Freshness:
    event_id: str
    occurred_at: datetime  # commit time of the last applied change (UTC): the index holds everything up to it
    applied_at: datetime  # when the handler applied it (UTC)
    lag_seconds: float  # applied_at - occurred_at

    @property
    def indexed_as_of(self) -> datetime:
        """Changes committed up to here are searchable. When OTRS is idle this lags the wall clock without the
        index being stale; compare ``applied_at`` to tell a quiet helpdesk from a stopped tailer."""
        return self.occurred_at

    def as_json(self) -> dict[str, Any]:
        return {"indexed_as_of": _iso(self.occurred_at), "last_event_id": self.event_id,
                "applied_at": _iso(self.applied_at), "lag_seconds": round(self.lag_seconds, 3)}


def record_applied(redis: Any, event: DomainEvent, *, now: float | None = None) -> None:
    """Note that ``event`` is in the index. Events come in commit order, so the last one wins."""
    if redis is None:
        return
    occurred = _utc(event.occurred_at)
    applied = time.time() if now is None else now
    redis.hset(KEY, mapping={"event_id": event.event_id, "occurred_at": f"{occurred.timestamp():.3f}",
                             "applied_at": f"{applied:.3f}", "lag": f"{max(0.0, applied - occurred.timestamp()):.3f}"})


def read_freshness(redis: Any) -> Freshness | None:
    """The last applied event, or None when nothing was recorded (no tailer with the ``search`` handler yet)."""
    raw = redis.hgetall(KEY) if redis is not None else None
    if not raw:
        return None
    values = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
              for k, v in raw.items()}
    return Freshness(
        event_id=values["event_id"],
        occurred_at=datetime.fromtimestamp(float(values["occurred_at"]), UTC),
        applied_at=datetime.fromtimestamp(float(values["applied_at"]), UTC),
        lag_seconds=float(values["lag"]),
    )


def _utc(value: datetime) -> datetime:
    # the tailer's timestamps are naive UTC (binlog event times), see otrs_ext/events/tailer.py
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def indexed_as_of(runtime: Any) -> datetime | None:
    """When the index last caught up with the database (``runtime`` is anything with a ``redis`` client):
    what ``otrs_ext/search/compose.py`` hands the search service for ``indexed_as_of`` in answers."""
    found = read_freshness(getattr(runtime, "redis", None))
    return found.indexed_as_of if found is not None else None

"""Where "now" comes from for a write.

OTRS stamps ``create_time``/``change_time`` with the database's ``current_timestamp`` and computes epoch
columns (``timeout``, ``incoming_time``) from the same moment in OTRSTimeZone. The default clock asks the
database, inside the write's transaction; tests replaying OTRS's golden rows freeze it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select


class Clock(Protocol):
    def now(self, conn: Connection) -> datetime:
        """Naive datetime in the database session's time zone, as ``current_timestamp`` gives it."""


_NOW = select(func.current_timestamp())  # built once: every write asks


class DatabaseClock:
    def now(self, conn: Connection) -> datetime:
        return conn.execute(_NOW).scalar_one()


class FixedClock:
    """A frozen clock that moves only when told to (tests, replays)."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self, conn: Connection) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def epoch(moment: datetime, timezone: str) -> int:
    """Seconds since the epoch of a naive ``moment`` read in ``timezone`` (OTRSTimeZone)."""
    return int(moment.replace(tzinfo=ZoneInfo(timezone)).timestamp())

"""Seeded ticket numbers in OTRS's default DateChecksum format (OTRS_INTERNALS §4.1), per creation day.

``YYYYMMDD`` of the ticket's creation day + SystemID + a per-day counter padded to 5 digits + one check digit.
Seeding on top of existing tickets continues each day's counter above the highest number already used that
day, so numbers stay unique and OTRS's own counter (which retries on a collision) is never confused.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from ..tickets.numbers import date_checksum_number


class DayCounters:
    """Allocates DateChecksum numbers per creation day, continuing above the numbers already in the table."""

    def __init__(self, system_id: str, used: dict[str, int] | None = None) -> None:
        self.system_id = system_id
        self.last: dict[str, int] = dict(used or {})  # YYYYMMDD -> highest counter used that day

    @classmethod
    def load(cls, conn: Connection, schema: OtrsSchema, system_id: str = "10") -> DayCounters:
        """Read the highest counter per day of the date-based numbers already in ``ticket``."""
        ticket = schema.tables.ticket
        width = 8 + len(system_id)
        used: dict[str, int] = {}
        # Only numbers of our SystemID matter; a full scan of tn is cheap next to the seeding itself.
        rows = conn.execute(select(ticket.c.tn).where(ticket.c.tn.like(f"________{system_id}%")))
        for (tn,) in rows:
            counter = tn[width:-1]
            if tn[:8].isdigit() and counter.isdigit():
                day = tn[:8]
                used[day] = max(used.get(day, 0), int(counter))
        return cls(system_id, used)

    def next(self, epoch: int) -> str:
        """The next number for a ticket created at ``epoch`` (UTC seconds, OTRSTimeZone = UTC)."""
        t = time.gmtime(epoch)
        day = f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}"
        counter = self.last.get(day, 0) + 1
        self.last[day] = counter
        return date_checksum_number(day, self.system_id, counter)

    def counter_of(self, day: str) -> int:
        return self.last.get(day, 0)

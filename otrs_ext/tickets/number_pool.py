"""Ticket numbers drawn ahead of time, so a create does not wait for OTRS's 50 ms counter pause.

``TicketNumbers.allocate`` keeps OTRS's algorithm, pause included (OTRS processes drawing at the same moment
must see each other's rows). The pool runs that algorithm in a background thread and keeps a few numbers
ready. A date-based number is only handed out on the day it carries; the rest of an old day's numbers are
dropped. Dropped and unused numbers leave gaps in the day's sequence, as a failed OTRS create does: numbers
are unique, not gapless, in OTRS too.
"""

from __future__ import annotations

import logging
import queue
import threading

from .numbers import DATE_BASED, TicketNumbers

log = logging.getLogger(__name__)


class NumberPool:
    def __init__(self, numbers: TicketNumbers, size: int) -> None:
        self.numbers = numbers
        self.size = size
        self._ready: queue.Queue[str] = queue.Queue(maxsize=size)
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="ticket-number-pool", daemon=True)
        self._thread.start()

    def allocate(self) -> str:
        """A pooled number of today, or one drawn now when the pool is empty."""
        self._wanted.set()
        today = self.numbers.today()
        while True:
            try:
                tn = self._ready.get_nowait()
            except queue.Empty:
                return self.numbers.allocate()
            if self.numbers.generator not in DATE_BASED or tn[:8] == today:
                return tn
            log.info("dropping ticket number %s of a past day", tn, extra={"event": "ticket_number_dropped"})

    def close(self) -> None:
        self._stopped.set()
        self._wanted.set()
        self._thread.join(5)  # a draw in flight finishes against a database that still exists

    def _fill(self) -> None:
        pause = 1.0
        while not self._stopped.is_set():
            if self._ready.full():
                self._wanted.wait(1.0)
                self._wanted.clear()
                continue
            try:
                self._ready.put(self.numbers.allocate())
                pause = 1.0
            except Exception:  # noqa: BLE001 - creates draw their own numbers meanwhile; try again later
                log.warning("could not draw a ticket number ahead; retrying in %.0fs", pause, exc_info=True,
                            extra={"event": "ticket_number_pool_error"})
                self._stopped.wait(pause)
                pause = min(pause * 2, 60.0)


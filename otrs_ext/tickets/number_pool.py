"""Ticket numbers drawn ahead of time, so a create does not wait for OTRS's 50 ms counter pause.

``TicketNumbers.allocate`` keeps OTRS's algorithm, pause included (OTRS processes drawing at the same moment
must see each other's rows). The pool runs that algorithm in a background thread and keeps a few numbers ready.
It draws them in batches (``TicketNumbers.allocate_many``: one pause for the whole batch), as many as the pool
lacks plus the creates waiting for one, so a burst of creates costs one pause per batch instead of one each. A
batch starts when the pool is down to half its target (or a create waits), so batches are not single numbers:
most of a batch's statements are the same whatever its size. Under load the target grows beyond the pool's size,
to four times what was taken while the last batch was drawn, so that creates rarely find the pool empty; after a
second without demand it is the size again. A date-based number is only handed out on the day it carries; the
rest of an old day's numbers are dropped. Dropped and unused numbers leave gaps in the day's sequence, as a
failed OTRS create does: numbers are unique, not gapless, in OTRS too.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

from .numbers import DATE_BASED, TicketNumbers

log = logging.getLogger(__name__)
#: Most numbers one batch draws, however many creates wait (each is a counter row and an UPDATE).
MAX_BATCH = 64
#: How long a create waits for the drawing thread before drawing its own number.
WAIT_SECONDS = 2.0


class NumberPool:
    def __init__(self, numbers: TicketNumbers, size: int) -> None:
        self.numbers = numbers
        self.size = size
        self._ready: collections.deque[str] = collections.deque()
        lock = threading.Lock()
        self._filled = threading.Condition(lock)  # creates wait on it for the next batch
        self._short = threading.Condition(lock)  # the drawing thread waits on it until numbers are wanted
        self._waiting = 0  # creates waiting for the next batch
        self._taken = 0  # numbers handed out since the current batch began
        self._target = size  # what the pool is filled to: its size, or more under load
        self._last_taken = time.monotonic()  # when a create last took a number
        self._failing = False  # the last batch failed: creates draw their own meanwhile
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="ticket-number-pool", daemon=True)
        self._thread.start()

    def ready(self) -> int:
        """How many numbers are drawn and waiting."""
        return len(self._ready)

    def allocate(self) -> str:
        """A pooled number of today; when none is left, one of the next batch (or, while the drawing thread
        is failing or stopped, one drawn now)."""
        today = self.numbers.today()
        deadline = time.monotonic() + WAIT_SECONDS
        with self._filled:
            while True:
                while self._ready:
                    tn = self._ready.popleft()
                    if self.numbers.generator not in DATE_BASED or tn[:8] == today:
                        self._taken += 1
                        self._last_taken = time.monotonic()
                        if len(self._ready) <= self._target // 2:
                            # short now: the drawing thread tops it up. Not woken before: each wake-up is a
                            # thread switch per create, for a thread that would only go back to sleep.
                            self._short.notify()
                        return tn
                    log.info("dropping ticket number %s of a past day", tn, extra={"event": "ticket_number_dropped"})
                left = deadline - time.monotonic()
                if self._failing or self._stopped.is_set() or left <= 0:
                    break
                self._waiting += 1  # the next batch draws one for us too
                self._short.notify()
                try:
                    self._filled.wait(left)
                finally:
                    self._waiting -= 1
        return self.numbers.allocate()

    def close(self) -> None:
        self._stopped.set()
        with self._filled:
            self._filled.notify_all()
            self._short.notify()
        self._thread.join(5)  # a draw in flight finishes against a database that still exists

    def _fill(self) -> None:
        pause = 1.0
        while not self._stopped.is_set():
            with self._short:
                while not self._stopped.is_set() and not self._waiting and len(self._ready) > self._target // 2:
                    if not self._short.wait(1.0) and time.monotonic() - self._last_taken >= 1.0:
                        self._target = self.size  # a second without a number taken: back to the plain size
                wanted = min(MAX_BATCH, self._target + self._waiting - len(self._ready))
                self._taken = 0
            if self._stopped.is_set():
                return
            try:
                drawn = self.numbers.allocate_many(max(1, wanted))
            except Exception:
                log.warning("could not draw ticket numbers ahead; retrying in %.0fs", pause, exc_info=True,
                            extra={"event": "ticket_number_pool_error"})
                with self._filled:
                    self._failing = True
                    self._filled.notify_all()
                self._stopped.wait(pause)
                pause = min(pause * 2, 60.0)
                continue
            pause = 1.0
            with self._filled:
                self._failing = False
                self._ready.extend(drawn)
                self._target = min(MAX_BATCH, max(self.size, 4 * self._taken))
                self._filled.notify_all()

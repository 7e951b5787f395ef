"""Ticket numbers (``ticket.tn``) drawn exactly as OTRS draws them (OTRS_INTERNALS §4.1).

OTRS 6+ / Znuny / OTOBO share the counter table ``ticket_number_counter`` between all processes that create
tickets. Its algorithm needs no lock: every process INSERTs a ``counter = 0`` row, waits ~50 ms so that rows
of concurrent processes become visible, then numbers *every* still-unnumbered row up to its own in id order
(``UPDATE … WHERE id = ? AND counter = 0``, so concurrent processes agree on the values) and reads its own
back. otrs-ext runs the very same steps, on its own autocommitted connection: OTRS processes allocating at
the same moment must see our row at once, which they could not if it sat in the caller's ticket transaction.

OTRS 5 kept the counter in the file ``<OTRS home>/var/log/TicketCounter.log`` instead. Its generators read
the first ``;``-separated field as the counter (DateChecksum writes ``<counter>;YYYY-MM-DD;`` and starts
again at 1 when the date differs; AutoIncrement and Date write ``<counter>`` alone and never reset), reading
under a shared ``flock`` and rewriting in place (open ``+<``, exclusive ``flock``, truncate, print).
otrs-ext holds one exclusive ``flock`` over the whole read–rewrite, so it never interleaves with OTRS's
own read or write and its own processes are serialised; it rewrites in place (never rename), because OTRS
locks the file it has open.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Connection, Engine, Select, Update, bindparam, func, insert, select, true, update

from schema_maps import OtrsSchema

from ..errors import ConfigurationError, OtrsExtError

log = logging.getLogger(__name__)

GENERATORS = ("DateChecksum", "AutoIncrement", "Date", "Random")
DATE_BASED = frozenset({"DateChecksum", "Date"})
#: OTRS gives up after this many "tn already exists" retries (``CounterLoopProtection``).
MAX_TRIES = 16000
#: OTRS sleeps this long after inserting its counter row so that concurrent sessions see each other's rows.
OTRS_SETTLE_SECONDS = 0.05
COUNTER_FILE = Path("var/log/TicketCounter.log")
#: How far below our row a twin (same counter) is looked for: bounds a search over an unindexed column.
TWIN_WINDOW = 10_000


class TicketNumberError(OtrsExtError):
    """No unique ticket number could be drawn (loop protection hit, or the counter row vanished)."""

    status = 503
    code = "ticket-number"


def check_digit(base: str) -> str:
    """DateChecksum's check digit: weights 1,2,1,2… left to right, 10 − sum mod 10, and 1 instead of 10."""
    total = sum((1 if i % 2 == 0 else 2) * int(ch) for i, ch in enumerate(base))
    digit = 10 - total % 10
    return "1" if digit == 10 else str(digit)


def date_checksum_number(day: str, system_id: str, counter: int) -> str:
    """``YYYYMMDD`` + SystemID + counter (at least 5 digits, like ``%.5u``) + check digit."""
    base = f"{day}{system_id}{counter:05d}"
    return base + check_digit(base)


def is_date_checksum(tn: str, system_id: str = "10") -> bool:
    """True if ``tn`` is a well-formed DateChecksum number of ``system_id`` with a correct check digit."""
    if not re.fullmatch(rf"\d{{8}}{re.escape(system_id)}\d{{5,}}\d", tn):
        return False
    return check_digit(tn[:-1]) == tn[-1]


def new_counter_uid(node_id: int = 1) -> str:
    """A 32-character ``counter_uid`` built like OTRS's: pid, seconds, microseconds, NodeID, random hex."""
    now = time.time_ns() // 1000
    prefix = f"{os.getpid()}{now // 1_000_000}{now % 1_000_000}{node_id}"[:32]
    return prefix + secrets.token_hex(16)[: 32 - len(prefix)]


def counter_file_path(otrs_home: Path) -> Path:
    """OTRS 5's ``Ticket::CounterLog`` default under the OTRS home."""
    return Path(otrs_home) / COUNTER_FILE


class TicketNumbers:
    """Draws new, unique ticket numbers with OTRS's generator and counter (table or OTRS 5 file).

    ``clock`` returns "now" (a naive value is read as UTC); the date in numbers and counter rows is that
    moment in ``timezone`` (OTRSTimeZone). ``sleep(settle_seconds)`` is OTRS's pause after inserting the
    counter row; tests may shorten it. ``use_formatted_counter`` is OTRS's
    ``Ticket::NumberGenerator::Date::UseFormattedCounter``; ``min_counter_size`` its ``MinCounterSize``.
    """

    def __init__(
        self,
        engine: Engine,
        schema: OtrsSchema,
        *,
        generator: str = "DateChecksum",
        system_id: str = "10",
        timezone: str = "UTC",
        otrs_home: Path | None = None,
        min_counter_size: int = 5,
        use_formatted_counter: bool = False,
        node_id: int = 1,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        settle_seconds: float = OTRS_SETTLE_SECONDS,
    ) -> None:
        if generator not in GENERATORS:
            raise ConfigurationError(
                f"unknown ticket number generator {generator!r}; set OTRS_EXT_TICKET_NUMBER_GENERATOR to "
                f"OTRS's Ticket::NumberGenerator, one of {', '.join(GENERATORS)}"
            )
        if not system_id.isdigit():
            raise ConfigurationError(f"SystemID {system_id!r} is not a number; set OTRS_EXT_SYSTEM_ID")
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"unknown time zone {timezone!r}; set OTRS_EXT_OTRS_TIMEZONE to OTRS's OTRSTimeZone"
            ) from None
        self.engine = engine
        self.schema = schema
        self.generator = generator
        self.system_id = system_id
        self.min_counter_size = min_counter_size
        self.use_formatted_counter = use_formatted_counter
        self.node_id = node_id
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self.settle_seconds = settle_seconds
        self.counter_file: Path | None = None
        if generator != "Random" and not schema.has_ticket_counter_table:
            self.counter_file = self._check_counter_file(otrs_home)

    # --- public -----------------------------------------------------------------------------------------
    def allocate(self) -> str:
        """A new ticket number, unused in ``ticket``; its counter is committed before this returns."""
        with self.engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            if self.generator == "Random":
                return self._random(conn)
            if self.counter_file is not None:
                return self._from_file(conn, self.counter_file)
            return self._from_table(conn)

    def allocate_many(self, count: int) -> list[str]:
        """Up to ``count`` new numbers from one pass of OTRS's counter steps (one 50 ms pause for all of them).

        The counter rows are those ``count`` OTRS processes drawing at the same moment would leave: one row
        each, numbered in id order by whoever comes first. A number that turns out to be in use, or whose
        counter was given twice, is dropped rather than drawn again, so fewer may come back (a caller that
        needs one more asks again). Generators without the counter table draw one by one."""
        if count <= 1 or self.generator == "Random" or self.counter_file is not None:
            return [self.allocate() for _ in range(count)]
        with self.engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            return self._many_from_table(conn, count)

    # --- OTRS 6+: ticket_number_counter -----------------------------------------------------------------
    def _many_from_table(self, conn: Connection, count: int) -> list[str]:
        t = self.schema.tables.ticket_number_counter
        now = self._now()
        offset = 1
        if self.generator == "AutoIncrement" and \
                conn.execute(select(func.count()).select_from(t)).scalar_one() == 0:
            offset = self._initial_counter(conn)
        uids = [new_counter_uid(self.node_id) for _ in range(count)]
        created = now.replace(tzinfo=None, microsecond=0)
        today = self._today(now)
        try:
            conn.execute(insert(t), [{"counter": 0, "counter_uid": uid, "create_time": created} for uid in uids])
            self._sleep(self.settle_seconds)
            mine = dict(conn.execute(select(t.c.id, t.c.counter_uid).where(t.c.counter_uid.in_(uids))).all())
            self._number_up_to(conn, max(mine), offset, now)
            counters = dict(conn.execute(select(t.c.id, t.c.counter).where(t.c.id.in_(mine))).all())
        except BaseException:
            self._forget(*uids)
            raise
        unnumbered = [mine[row_id] for row_id, counter in counters.items() if not counter]
        if unnumbered or len(counters) < count:
            self._forget(*unnumbered)
            log.warning("%d of %d counter rows were left unnumbered or deleted by another process",
                        count - len(counters) + len(unnumbered), count)
        drawn = {row_id: counter for row_id, counter in counters.items() if counter}
        if not drawn:
            return []
        tns = {row_id: self._format(counter, now) for row_id, counter in drawn.items()}
        ticket = self.schema.tables.ticket
        used = set(conn.execute(select(ticket.c.tn).where(ticket.c.tn.in_(list(tns.values())))).scalars())
        # the same twin check as allocate's, for all of them in one query
        holders = conn.execute(select(t.c.id, t.c.counter).where(
            t.c.counter.in_(list(drawn.values())), t.c.id > min(drawn) - TWIN_WINDOW, today)).all()
        twinned = {counter for row_id, counter in holders if drawn.get(row_id) != counter}
        for row_id in sorted(drawn):
            if tns[row_id] in used:
                log.info("ticket number %s exists; dropped", tns[row_id])
            elif drawn[row_id] in twinned:
                log.warning("counter %s of ticket number %s was given twice; dropped", drawn[row_id], tns[row_id])
        return [tns[row_id] for row_id in sorted(drawn) if tns[row_id] not in used and drawn[row_id] not in twinned]

    def _from_table(self, conn: Connection) -> str:
        t = self.schema.tables.ticket_number_counter
        for loop in range(MAX_TRIES):
            now = self._now()
            if self.generator == "AutoIncrement":
                # OTRS re-checks emptiness on every try; only a migrated, never-used table continues the tns.
                empty = conn.execute(select(func.count()).select_from(t)).scalar_one() == 0
                offset = (self._initial_counter(conn) if empty else 1) + loop
            else:
                offset = 1 + loop
            row_id, counter = self._counter_add(conn, offset, now)
            tn = self._format(counter, now)
            if self._tn_exists(conn, tn):
                log.info("ticket number %s exists; drawing a new one", tn)
                continue
            # Not an OTRS step: a row that became visible only after our numbering pass can share our
            # counter. Whoever sees the twin draws again (as OTRS does on a used tn), so no duplicate reaches
            # the ticket table's unique index and the day's sequence keeps no hole when both are ours.
            twin = select(t.c.id).where(
                t.c.counter == counter, t.c.id != row_id, t.c.id > row_id - TWIN_WINDOW, self._today(now)
            ).limit(1)
            if conn.execute(twin).first() is not None:
                log.warning("counter %s of ticket number %s was given twice; drawing a new one", counter, tn)
                continue
            return tn
        raise TicketNumberError(f"no unused ticket number after {MAX_TRIES} tries (OTRS's loop protection)")

    def _counter_add(self, conn: Connection, offset: int, now: datetime) -> tuple[int, int]:
        """Steps 1–4 of OTRS's counter: (id, counter) of a new, numbered row of ours."""
        t = self.schema.tables.ticket_number_counter
        uid = new_counter_uid(self.node_id)
        created = now.replace(tzinfo=None, microsecond=0)  # OTRS writes an OTRSTimeZone "Y-m-d H:M:S" string
        try:
            row_id = conn.execute(insert(t).values(counter=0, counter_uid=uid, create_time=created)).lastrowid
            self._sleep(self.settle_seconds)
            self._number_up_to(conn, row_id, offset, now)
            counter = conn.execute(select(t.c.counter).where(t.c.counter_uid == uid)).scalar()
        except BaseException:
            self._forget(uid)
            raise
        if not counter:
            self._forget(uid)
            raise TicketNumberError(f"counter row {uid} was left unnumbered or deleted by another process")
        return row_id, counter

    def _number_up_to(self, conn: Connection, row_id: int, offset: int, now: datetime) -> None:
        """Steps 3–4 of OTRS's counter: number every unset row up to ``row_id`` in id order, the first one
        ``offset`` above the row before it, each further one 1 above its predecessor."""
        unset_rows, previous_row, number_row = self._numbering
        day = {"day_start": now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)} \
            if self.generator in DATE_BASED else {}
        unset = conn.execute(unset_rows, {"up_to": row_id, **day}).scalars().all()
        step = offset  # the offset applies to the first row this process numbers, whoever's it is
        known: tuple[int, int] | None = None  # (id, counter) of the row we numbered last
        for unset_id in unset:
            if known is not None and known[0] == unset_id - 1:
                # OTRS would SELECT the nearest lower row here: that is the row we have just numbered
                # ourselves, and numbered counters never change. Skipping the query halves the
                # statements of a burst (whose rows have consecutive ids) with the same result.
                previous = known[1]
            else:
                previous = conn.execute(previous_row, {"below": unset_id, **day}).scalar() or 0
            numbered = conn.execute(number_row, {"row_id": unset_id, "value": previous + step}).rowcount
            known = (unset_id, previous + step) if numbered == 1 else None
            step = 1

    @functools.cached_property
    def _numbering(self) -> tuple[Select[Any], Select[Any], Update]:
        """The statements of ``_number_up_to``, built once (a burst runs them many times)."""
        t = self.schema.tables.ticket_number_counter
        today = t.c.create_time >= bindparam("day_start") if self.generator in DATE_BASED else true()
        return (select(t.c.id).where(t.c.counter == 0, t.c.id <= bindparam("up_to"), today).order_by(t.c.id),
                select(t.c.counter).where(t.c.id < bindparam("below"), today).order_by(t.c.id.desc()).limit(1),
                update(t).where(t.c.id == bindparam("row_id"), t.c.counter == 0).values(counter=bindparam("value")))

    def _forget(self, *uids: str) -> None:
        """Delete our rows that are still unnumbered; a fresh connection, as the failed one may be dead."""
        if not uids:
            return
        t = self.schema.tables.ticket_number_counter
        try:
            with self.engine.connect() as raw:
                conn = raw.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(t.delete().where(t.c.counter_uid.in_(uids), t.c.counter == 0))
        except Exception:
            # The original error is re-raised by the caller; this one must not replace it.
            log.exception("could not delete unnumbered ticket_number_counter rows %s", ", ".join(uids))

    def _today(self, now: datetime) -> ColumnElement[bool]:
        """OTRS's ``create_time >= today 00:00:00`` condition, for date-based generators only."""
        if self.generator not in DATE_BASED:
            return true()
        t = self.schema.tables.ticket_number_counter
        return t.c.create_time >= now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)

    def _initial_counter(self, conn: Connection) -> int:
        """AutoIncrement on an empty counter table continues after the newest ticket's number (OTRS 6+)."""
        ticket = self.schema.tables.ticket
        last_id = conn.execute(select(func.max(ticket.c.id))).scalar()
        if not last_id or last_id == 1:  # id 1 is the welcome ticket
            return 1
        tn = conn.execute(select(ticket.c.tn).where(ticket.c.id == last_id)).scalar() or ""
        if _looks_date_based(tn):
            return 1
        rest = tn[len(self.system_id):] if tn.startswith(self.system_id) else tn
        rest = rest.lstrip("0")
        return int(rest) + 1 if rest.isdigit() else 1

    # --- OTRS 5: var/log/TicketCounter.log --------------------------------------------------------------
    def _check_counter_file(self, otrs_home: Path | None) -> Path:
        if otrs_home is None:
            raise ConfigurationError(
                f"{self.schema.label} keeps the ticket counter in <OTRS home>/{COUNTER_FILE}, not in the "
                "database; set OTRS_EXT_OTRS_HOME to the OTRS home directory (e.g. /opt/otrs) so that "
                "otrs-ext shares that counter file"
            )
        path = counter_file_path(otrs_home)
        # A missing file means a wrong home (OTRS ships it): a fresh file would restart the counter at 1.
        if not path.is_file() or not os.access(path, os.R_OK | os.W_OK):
            raise ConfigurationError(
                f"cannot read and write the OTRS 5 ticket counter file {path}; set OTRS_EXT_OTRS_HOME to the "
                "OTRS home directory and give otrs-ext's user read/write access to that file (OTRS's group, "
                "mode 660)"
            )
        return path

    def _from_file(self, conn: Connection, path: Path) -> str:
        try:
            handle = open(path, "r+b")  # closed by the with below, which also drops the flock
        except OSError as exc:
            raise ConfigurationError(
                f"cannot open the OTRS 5 ticket counter file {path} ({exc.strerror}); check "
                "OTRS_EXT_OTRS_HOME and the file's permissions"
            ) from exc
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            now = self._now()
            stamp = now.strftime("%Y-%m-%d")
            fields = handle.read().decode("ascii", "replace").split(";")
            count = _perl_number(fields[0])
            if self.generator == "DateChecksum" and (len(fields) < 2 or fields[1] != stamp):
                count = 0
            count += 1
            for loop in range(1, MAX_TRIES + 1):
                tn = self._format(count, now)
                if not self._tn_exists(conn, tn):
                    break
                log.info("ticket number %s exists; drawing a new one", tn)
                count += 1 + loop  # OTRS 5 re-reads what it wrote and adds 1 + its loop counter
            else:
                raise TicketNumberError(f"no unused ticket number after {MAX_TRIES} tries")
            content = f"{count};{stamp};" if self.generator == "DateChecksum" else str(count)
            handle.seek(0)
            handle.truncate()
            handle.write(content.encode("ascii"))
            handle.flush()
            return tn

    # --- shared -----------------------------------------------------------------------------------------
    def _random(self, conn: Connection) -> str:
        for _ in range(MAX_TRIES):
            tn = f"{self.system_id}{secrets.randbelow(9_999_999_999):010d}"  # Perl: int(rand(9999999999))
            if not self._tn_exists(conn, tn):
                return tn
        raise TicketNumberError(f"no unused random ticket number after {MAX_TRIES} tries")

    def _format(self, counter: int, now: datetime) -> str:
        day = now.strftime("%Y%m%d")
        if self.generator == "DateChecksum":
            return date_checksum_number(day, self.system_id, counter)
        if self.generator == "Date":
            digits = f"{counter:0{self.min_counter_size}d}" if self.use_formatted_counter else str(counter)
            return f"{day}{self.system_id}{digits}"
        return f"{self.system_id}{counter:0{self.min_counter_size}d}"  # AutoIncrement

    def _tn_exists(self, conn: Connection, tn: str) -> bool:
        ticket = self.schema.tables.ticket
        return conn.execute(select(ticket.c.id).where(ticket.c.tn == tn).limit(1)).first() is not None

    def today(self) -> str:
        """``YYYYMMDD`` of now in OTRS's time zone: the day a date-based number drawn now carries."""
        return self._now().strftime("%Y%m%d")

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self._zone)


def _looks_date_based(tn: str) -> bool:
    """OTRS's test: do the first 8 characters form a valid ``YYYYMMDD`` date?"""
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", tn[:8])
    if not match:
        return False
    try:
        date(*(int(g) for g in match.groups()))
    except ValueError:
        return False
    return True


def _perl_number(text: str) -> int:
    """The counter as Perl's numeric context reads it: leading digits, else 0 (an empty file is 0)."""
    match = re.match(r"\s*(\d+)", text)
    return int(match.group(1)) if match else 0

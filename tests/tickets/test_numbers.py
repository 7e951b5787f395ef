"""Ticket numbers as OTRS draws them: formats, the counter table (OTRS 6+), the counter file (OTRS 5).

Each test gets a fresh database (the counter table must start empty, as on a new installation). The clock is
frozen at the moment of the Znuny golden sample (2025-11-25 20:00:00 UTC). ``OtrsCounter`` replays OTRS's
own counter steps in raw SQL, so tests can interleave a genuine-looking OTRS process with ours; the
concurrency test imports it too.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import add_ticket
from sqlalchemy import Engine, select

import schema_maps
from otrs_ext.errors import ConfigurationError
from otrs_ext.tickets import numbers as numbers_module
from otrs_ext.tickets.numbers import TicketNumbers, check_digit, date_checksum_number

GOLDEN_MOMENT = datetime(2025, 11, 25, 20, 0, 0, tzinfo=UTC)
GOLDEN_TN = "2025112510000019"  # znuny-golden/sample_rows.txt, SystemID 10, first ticket of the day


class Clock:
    """A frozen, movable clock for ``TicketNumbers(clock=...)``."""

    def __init__(self, moment: datetime = GOLDEN_MOMENT) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


class OtrsCounter:
    """OTRS 6+'s ``TicketNumberCounterAdd`` in raw SQL, one step at a time (OTRS_INTERNALS §4.1).

    Written independently of ``otrs_ext.tickets.numbers`` on purpose: it is the "other process" whose rows
    ours must interleave with. ``now`` is the OTRSTimeZone wall clock string OTRS binds as create_time.
    """

    def __init__(self, dbapi: Any, now: str, *, date_based: bool = True) -> None:
        self.dbapi = dbapi
        self.now = now
        self.date_condition = f" AND create_time >= '{now[:10]} 00:00:00'" if date_based else ""
        seconds, micro = divmod(time.time_ns() // 1000, 1_000_000)
        prefix = f"{os.getpid()}{seconds}{micro}1"
        self.uid = prefix + secrets.token_hex(16)[: 32 - len(prefix)]

    def _rows(self, sql: str, *args: Any) -> list[tuple]:
        cursor = self.dbapi.cursor()
        cursor.execute(sql, args)
        rows = list(cursor.fetchall())
        cursor.close()
        return rows

    def insert(self) -> None:
        self._rows("INSERT INTO ticket_number_counter (counter, counter_uid, create_time) VALUES (0, %s, %s)",
                   self.uid, self.now)

    def number(self, offset: int = 1) -> int:
        """Number every unset row up to ours (first one with ``offset``), then read ours back."""
        (mine,), = self._rows("SELECT id FROM ticket_number_counter WHERE counter_uid = %s", self.uid)
        unset = self._rows("SELECT id FROM ticket_number_counter WHERE counter = 0 AND id <= %s"
                           + self.date_condition + " ORDER BY id ASC", mine)
        first = True
        for (unset_id,) in unset:
            previous = self._rows("SELECT counter FROM ticket_number_counter WHERE id < %s"
                                  + self.date_condition + " ORDER BY id DESC LIMIT 1", unset_id)
            new = (previous[0][0] if previous else 0) + (offset if first else 1)
            first = False
            self._rows("UPDATE ticket_number_counter SET counter = %s WHERE id = %s AND counter = 0",
                       new, unset_id)
        (counter,), = self._rows("SELECT counter FROM ticket_number_counter WHERE counter_uid = %s", self.uid)
        return counter

    def add(self, settle: float = 0.05) -> int:
        self.insert()
        time.sleep(settle)
        return self.number()


def autocommit_dbapi(engine: Engine) -> Any:
    raw = engine.raw_connection()
    raw.driver_connection.autocommit(True)
    return raw


def make(engine: Engine, generation: str = "znuny71", *, clock: Clock | None = None,
         sleep: Callable[[float], None] = lambda s: None, **kwargs: Any) -> TicketNumbers:
    return TicketNumbers(engine, schema_maps.load(generation), clock=clock or Clock(), sleep=sleep, **kwargs)


def counter_rows(engine: Engine) -> list[tuple]:
    t = schema_maps.load("znuny71").tables.ticket_number_counter
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.c.counter, t.c.counter_uid, t.c.create_time)
                                                .order_by(t.c.id))]


def add_tn(engine: Engine, generation: str, tn: str) -> None:
    with engine.begin() as conn:
        add_ticket(conn, schema_maps.load(generation), tn=tn)


# --- formats ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("base", "digit"), [
    ("202501151000001", "1"),   # OTRS_INTERNALS §4.1 example
    ("202511251000001", "9"),   # the golden sample's tn
    ("202511251000018", "1"),   # sum 40: 10 - 0 = 10 becomes 1, never 0
    ("202511251000002", "8"),
])
def test_check_digit(base: str, digit: str) -> None:
    assert check_digit(base) == digit


def test_date_checksum_number_pads_to_five_and_widens() -> None:
    assert date_checksum_number("20250115", "10", 1) == "2025011510000011"
    assert date_checksum_number("20251125", "10", 123456)[:-1] == "2025112510123456"


# --- counter table (OTRS 6+) --------------------------------------------------------------------------
def test_golden_number_on_a_fresh_database(otrs_database) -> None:
    engine = otrs_database("znuny71")
    assert make(engine).allocate() == GOLDEN_TN
    [(counter, uid, created)] = counter_rows(engine)
    # the golden ticket_number_counter row: counter 1, a 32-char uid, create_time = OTRSTimeZone now
    assert (counter, len(uid), created) == (1, 32, datetime(2025, 11, 25, 20, 0, 0))


def test_sleeps_after_insert_and_counts_up(otrs_database) -> None:
    engine = otrs_database("znuny71")
    slept: list[float] = []
    numbers = make(engine, sleep=slept.append)
    tns = [numbers.allocate() for _ in range(3)]
    assert tns == [date_checksum_number("20251125", "10", c) for c in (1, 2, 3)]
    assert slept == [0.05, 0.05, 0.05]


def test_date_rollover_restarts_the_counter(otrs_database) -> None:
    engine = otrs_database("znuny71")
    clock = Clock(datetime(2025, 11, 25, 23, 59, 59, tzinfo=UTC))
    numbers = make(engine, clock=clock)
    assert [numbers.allocate() for _ in range(2)] == ["2025112510000019", "2025112510000028"]
    clock.moment += timedelta(seconds=1)
    assert numbers.allocate() == date_checksum_number("20251126", "10", 1)
    assert [r[0] for r in counter_rows(engine)] == [1, 2, 1]


def test_date_and_create_time_are_in_otrs_timezone(otrs_database) -> None:
    engine = otrs_database("znuny71")
    # 23:30 UTC is already 00:30 the next day in Berlin
    numbers = make(engine, clock=Clock(datetime(2025, 11, 25, 23, 30, tzinfo=UTC)), timezone="Europe/Berlin")
    assert numbers.allocate() == date_checksum_number("20251126", "10", 1)
    assert counter_rows(engine)[0][2] == datetime(2025, 11, 26, 0, 30)


def test_used_number_is_skipped_with_a_larger_offset(otrs_database) -> None:
    engine = otrs_database("znuny71")
    add_tn(engine, "znuny71", GOLDEN_TN)
    # OTRS: counter 1 -> tn exists -> new row with offset 2 -> previous (1) + 2 = 3
    assert make(engine).allocate() == date_checksum_number("20251125", "10", 3)
    assert [r[0] for r in counter_rows(engine)] == [1, 3]


def test_date_generator(otrs_database) -> None:
    engine = otrs_database("znuny71")
    assert make(engine, generator="Date").allocate() == "20251125101"
    assert make(engine, generator="Date", use_formatted_counter=True).allocate() == "202511251000002"


def test_autoincrement_continues_from_the_last_ticket(otrs_database) -> None:
    engine = otrs_database("znuny71")
    add_tn(engine, "znuny71", "1000041")
    numbers = make(engine, generator="AutoIncrement")
    assert [numbers.allocate() for _ in range(2)] == ["1000042", "1000043"]


@pytest.mark.parametrize(("last_tn", "expected"), [
    (None, "1000001"),                  # only the welcome ticket (id 1): start at 1
    (GOLDEN_TN, "1000001"),             # a date-based number is not continued
    ("1012345678", "1012345679"),       # wider than MinCounterSize
])
def test_autoincrement_start(otrs_database, last_tn: str | None, expected: str) -> None:
    engine = otrs_database("znuny71")
    if last_tn:
        add_tn(engine, "znuny71", last_tn)
    assert make(engine, generator="AutoIncrement").allocate() == expected


def test_random_format_and_retry(otrs_database, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = otrs_database("znuny71")
    add_tn(engine, "znuny71", "100000000042")
    draws = iter([42, 4711])
    monkeypatch.setattr(numbers_module.secrets, "randbelow", lambda n: next(draws))
    assert make(engine, generator="Random").allocate() == "100000004711"
    monkeypatch.undo()
    assert re.fullmatch(r"10\d{10}", make(engine, generator="Random").allocate())
    assert counter_rows(engine) == []


def test_interleaved_with_otrs_own_counter(otrs_database) -> None:
    """OTRS processes inserting, numbering or finishing while we sleep after our INSERT."""
    engine = otrs_database("znuny71")
    dbapi = autocommit_dbapi(engine)
    now = "2025-11-25 20:00:00"
    got: list[int] = []

    def during_our_sleep(script: Callable[[], None]) -> TicketNumbers:
        return make(engine, sleep=lambda s: script())

    # 1. OTRS inserted before us and is still asleep: we number its row (1) and ours (2)
    early = OtrsCounter(dbapi, now)
    early.insert()
    ours = make(engine).allocate()
    got += [early.number(), int(ours[10:15])]
    # 2. OTRS inserts after us and numbers after we finished: it sees ours numbered and goes on
    late = OtrsCounter(dbapi, now)
    ours = during_our_sleep(late.insert).allocate()
    got += [int(ours[10:15]), late.number()]
    # 3. OTRS runs its whole allocation while we sleep: it numbers our row for us
    whole = OtrsCounter(dbapi, now)
    ours = during_our_sleep(lambda: got.append(whole.add(settle=0))).allocate()
    got.append(int(ours[10:15]))
    dbapi.close()
    assert got == [1, 2, 3, 4, 6, 5]
    assert sorted(r[0] for r in counter_rows(engine)) == [1, 2, 3, 4, 5, 6]


def test_a_batch_is_what_as_many_otrs_processes_would_draw(otrs_database) -> None:
    """allocate_many: one pause, one counter row per number, numbered in id order together with an OTRS
    process's row that sat between; every row as OTRS leaves it."""
    engine = otrs_database("znuny71")
    dbapi = autocommit_dbapi(engine)
    early = OtrsCounter(dbapi, "2025-11-25 20:00:00")
    early.insert()  # OTRS inserted before us and is still asleep
    late = OtrsCounter(dbapi, "2025-11-25 20:00:00")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        late.insert()  # and another one after our rows, while we sleep: not ours to number

    tns = make(engine, sleep=sleep).allocate_many(4)
    assert (early.number(), late.number()) == (1, 6)
    dbapi.close()
    assert slept == [0.05]
    assert tns == [date_checksum_number("20251125", "10", c) for c in (2, 3, 4, 5)]
    rows = counter_rows(engine)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(len(uid) == 32 and created == datetime(2025, 11, 25, 20, 0, 0) for _, uid, created in rows)
    assert len({uid for _, uid, _ in rows}) == 6


def test_a_batch_drops_a_number_in_use(otrs_database) -> None:
    engine = otrs_database("znuny71")
    add_tn(engine, "znuny71", date_checksum_number("20251125", "10", 2))
    assert make(engine).allocate_many(3) == [date_checksum_number("20251125", "10", c) for c in (1, 3)]
    assert [r[0] for r in counter_rows(engine)] == [1, 2, 3]


def test_no_unnumbered_row_is_left_after_a_failure(otrs_database) -> None:
    engine = otrs_database("znuny71")

    def boom(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make(engine, sleep=boom).allocate()
    with pytest.raises(KeyboardInterrupt):
        make(engine, sleep=boom).allocate_many(3)
    assert counter_rows(engine) == []


# --- counter file (OTRS 5) ----------------------------------------------------------------------------
@pytest.fixture
def otrs_home(tmp_path: Path) -> Path:
    (tmp_path / "var" / "log").mkdir(parents=True)
    (tmp_path / "var" / "log" / "TicketCounter.log").write_bytes(b"")  # OTRS ships it empty
    return tmp_path


def counter_file(home: Path) -> str:
    return (home / "var" / "log" / "TicketCounter.log").read_text()


def test_otrs5_date_checksum_file(otrs_database, otrs_home: Path) -> None:
    engine = otrs_database("otrs5")
    clock = Clock()
    numbers = make(engine, "otrs5", clock=clock, otrs_home=otrs_home)
    assert [numbers.allocate() for _ in range(2)] == ["2025112510000019", "2025112510000028"]
    assert counter_file(otrs_home) == "2;2025-11-25;"
    clock.moment += timedelta(days=1)
    assert numbers.allocate() == date_checksum_number("20251126", "10", 1)
    assert counter_file(otrs_home) == "1;2025-11-26;"


def test_otrs5_continues_what_otrs_wrote_and_skips_used_numbers(otrs_database, otrs_home: Path) -> None:
    engine = otrs_database("otrs5")
    (otrs_home / "var/log/TicketCounter.log").write_text("41;2025-11-25;")
    add_tn(engine, "otrs5", date_checksum_number("20251125", "10", 42))
    # 42 is used: OTRS 5 adds 1 + its loop counter (1) to what it wrote -> 44
    assert make(engine, "otrs5", otrs_home=otrs_home).allocate() == date_checksum_number("20251125", "10", 44)
    assert counter_file(otrs_home) == "44;2025-11-25;"


@pytest.mark.parametrize(("generator", "content", "tn", "written"), [
    ("AutoIncrement", "123\n", "1000124", "124"),     # older OTRS wrote a newline; no date, no reset
    ("AutoIncrement", "", "1000001", "1"),
    ("Date", "7;2025-11-24;", "20251125108", "8"),   # OTRS 5's Date generator never resets
])
def test_otrs5_other_generators(otrs_database, otrs_home: Path, generator: str, content: str, tn: str,
                                written: str) -> None:
    engine = otrs_database("otrs5")
    (otrs_home / "var/log/TicketCounter.log").write_text(content)
    assert make(engine, "otrs5", generator=generator, otrs_home=otrs_home).allocate() == tn
    assert counter_file(otrs_home) == written


def test_otrs5_holds_an_exclusive_lock_over_read_and_rewrite(otrs_database, otrs_home: Path) -> None:
    engine = otrs_database("otrs5")
    path = otrs_home / "var/log/TicketCounter.log"
    seen_locked: list[bool] = []

    def probing_clock() -> datetime:  # runs after the file is locked; OTRS's FileRead takes LOCK_SH
        with open(path, "rb") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_SH | fcntl.LOCK_NB)
                seen_locked.append(False)
            except BlockingIOError:
                seen_locked.append(True)
        return GOLDEN_MOMENT

    result: list[str] = []
    numbers = make(engine, "otrs5", otrs_home=otrs_home, clock=probing_clock)
    with open(path, "r+b") as otrs:  # an OTRS process inside FileWrite
        fcntl.flock(otrs, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: result.append(numbers.allocate()))
        worker.start()
        time.sleep(0.3)
        assert result == []  # waiting for OTRS's lock
        otrs.truncate(0)
        otrs.write(b"7;2025-11-25;")
    worker.join(10)
    assert result == [date_checksum_number("20251125", "10", 8)]
    assert seen_locked == [True]


def test_otrs5_without_otrs_home_is_a_clear_error(otrs_database, tmp_path: Path) -> None:
    engine = otrs_database("otrs5")
    with pytest.raises(ConfigurationError) as err:
        make(engine, "otrs5")
    assert "OTRS_EXT_OTRS_HOME" in err.value.message and "var/log/TicketCounter.log" in err.value.message
    with pytest.raises(ConfigurationError) as err:
        make(engine, "otrs5", otrs_home=tmp_path)
    assert "OTRS_EXT_OTRS_HOME" in err.value.message
    assert str(tmp_path / "var/log/TicketCounter.log") in err.value.message
    # Random needs no counter at all
    assert re.fullmatch(r"10\d{10}", make(engine, "otrs5", generator="Random").allocate())

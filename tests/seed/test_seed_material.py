"""The seed generator's pure parts: ticket numbers, plurals, times, text, attachments, SQL rendering."""

from __future__ import annotations

import random
import re
import time

import pytest
from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table

from otrs_ext.seed.attachments import Attachment, dedupe
from otrs_ext.seed.numbers import DayCounters
from otrs_ext.seed.roster import agent_roster, customer_roster
from otrs_ext.seed.text import TextMaker, render_html, render_plain
from otrs_ext.seed.timeline import DAY, creation_times
from otrs_ext.seed.vocabulary import feminine_surname, plural_ru, translit
from otrs_ext.seed.writer import escapes, render
from otrs_ext.tickets.numbers import check_digit, date_checksum_number, is_date_checksum

NOW = 1_764_100_800  # 2025-11-25 20:00:00 UTC, the golden rows' frozen clock


def test_check_digit_matches_otrs() -> None:
    # Znuny 7.0 numbered the golden ticket 2025112510000019; OTRS_INTERNALS §4.1 gives 2025011510000011.
    assert date_checksum_number("20251125", "10", 1) == "2025112510000019"
    assert check_digit("202501151000001") == "1"
    assert is_date_checksum("2025112510000019")
    assert not is_date_checksum("2025112510000018")
    assert not is_date_checksum("2015071510123456")  # the install's welcome ticket is not DateChecksum


def test_check_digit_is_never_zero() -> None:
    digits = {check_digit(f"20250101100{i:04d}") for i in range(2000)}
    assert "0" not in digits and len(digits) == 9


def test_numbers_continue_per_day_above_existing() -> None:
    numbers = DayCounters("10", {"20251125": 41})
    assert numbers.next(NOW) == date_checksum_number("20251125", "10", 42)
    assert numbers.next(NOW - DAY) == date_checksum_number("20251124", "10", 1)
    assert numbers.next(NOW + 60) == date_checksum_number("20251125", "10", 43)


@pytest.mark.parametrize(("n", "expected"), [
    (1, "1 домен"), (2, "2 домена"), (4, "4 домена"), (5, "5 доменов"), (11, "11 доменов"),
    (12, "12 доменов"), (21, "21 домен"), (22, "22 домена"), (25, "25 доменов"), (111, "111 доменов"),
    (102, "102 домена"),
])
def test_plural_ru(n: int, expected: str) -> None:
    assert plural_ru(n, ("домен", "домена", "доменов")) == expected


def test_names() -> None:
    assert translit("Фёдоров") == "fedorov"
    assert feminine_surname("Петров") == "Петрова"
    assert feminine_surname("Высоцкий") == "Высоцкая"


def test_creation_times_ascend_and_mostly_recent() -> None:
    times = list(creation_times(random.Random(1), 20_000, NOW))
    assert times == sorted(times) and times[-1] <= NOW
    ages = [(NOW - t) / DAY for t in times]
    assert sum(a < 30 for a in ages) / len(ages) > 0.2  # most activity is recent...
    assert max(ages) > 3 * 365  # ...with a tail back several years
    office = sum(9 <= time.gmtime(t).tm_hour < 19 for t in times) / len(times)
    assert office > 0.6


def test_rosters_are_prefix_stable_and_unique() -> None:
    small, large = agent_roster(100), agent_roster(40_000)
    assert large[: len(small)] == small  # a larger run keeps every agent of a smaller one
    assert len({a.login for a in large}) == len(large)
    customers = customer_roster(4000)
    assert customers[:20] == customer_roster(100)
    assert len({c.login for c in customers}) == len(customers)
    assert all(re.fullmatch(r"[A-Z]+-\d{4}", c.customer_id) for c in customers)


def test_text_has_both_languages_and_material() -> None:
    rng = random.Random(5)
    maker = TextMaker(rng)
    bodies = []
    for c in customer_roster(400)[:80]:
        for topic in ("hosting", "dns", "billing", "mail"):
            ctx = maker.context(lang=c.lang, customer=c, topic=topic, tn="2025112510000019",
                                old_tn="2025112410000011", created=NOW)
            bodies.append(render_plain(maker.customer_first(ctx)))
    text = "\n".join(bodies)
    assert re.search(r"[а-яё]{4,}", text) and re.search(r"\b(the|please|our)\b", text, re.I)
    assert "ё" in text
    assert re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text)
    assert re.search(r"[\w.-]+@[\w-]+\.[a-z]{2,}", text)
    assert re.search(r"\b(домена|доменов|домены)\b", text)
    sizes = sorted(len(b.encode()) for b in bodies)
    assert sizes[0] > 80 and sizes[len(sizes) // 2] < 2000 and sizes[-1] > 1500


def test_html_rendering_follows_znuny() -> None:
    maker = TextMaker(random.Random(1))
    body = maker.note({"lang": "en", "topic": "ssl", "domain": "a.ru", "server": "s", "ip": "1.2.3.4",
                       "ns1": "n", "ns2": "m", "sub": "x.a.ru", "mailbox": "i@a.ru", "date": "d"})
    doc, plain = render_html(body)
    assert doc.startswith("<!DOCTYPE html>") and "<p>" in doc
    assert plain.startswith("\n") and plain.endswith("\n\n")  # §13.4


def test_dedupe_adds_suffixes() -> None:
    files = [Attachment("screenshot.png", "image/png", b"1"), Attachment("screenshot.png", "image/png", b"2"),
             Attachment("screenshot-1.png", "image/png", b"3"), Attachment("README", "text/plain", b"4"),
             Attachment("README", "text/plain", b"5")]
    assert [f.filename for f in dedupe(files)] == [
        "screenshot.png", "screenshot-1.png", "screenshot-1-1.png", "README", "README-1"]


def test_render_escapes_for_mariadb() -> None:
    table = Table("t", MetaData(), Column("id", Integer), Column("s", String(10)), Column("b", LargeBinary))
    rows = [{"id": 1, "s": "it's \\ \n\x00", "b": b"\x00\xff"}, {"id": 2, "s": None, "b": "ё'".encode()}]
    (sql,) = render(table, rows)
    assert sql == ("INSERT INTO `t` (`id`,`s`,`b`) VALUES (1,'it\\'s \\\\ \n\\0',X'00ff'),"
                   "(2,NULL,_binary'ё\\'')")
    (sql,) = render(table, rows, esc=escapes(no_backslash_escapes=True))
    assert "'it''s \\ \n\x00'" in sql
    assert len(list(render(table, rows * 100, limit=200))) > 10

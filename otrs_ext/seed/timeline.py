"""When tickets are created: most recently, with a tail back several years, and mostly in office hours.

Creation times are produced in ascending order while streaming (so ticket ids grow with time, as in a real
database) without holding all N of them: the sorted uniforms are drawn from the top down with the classic
order-statistics recursion ``u(k) = u(k+1) * V ** (1/k)`` and mapped through a monotone age curve.
All times are integer epoch seconds; the database's naive DATETIMEs are read as UTC (OTRSTimeZone = UTC).
"""

from __future__ import annotations

import bisect
import calendar
import random
import time
from collections.abc import Iterator
from datetime import datetime

DAY = 86_400
SPAN_DAYS = 5 * 365  # the oldest tickets are about five years old
AGE_POWER = 3.0  # age = span * u**3: a quarter of the tickets is younger than a month, 40 % older than a year
# relative ticket volume per hour of the day (server time)
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 11, 10, 10, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1)
_CUM = [0.0]
for _w in _HOUR_WEIGHTS:
    _CUM.append(_CUM[-1] + _w / sum(_HOUR_WEIGHTS))


def epoch(dt: datetime) -> int:
    """Epoch seconds of a naive database DATETIME read as UTC."""
    return calendar.timegm(dt.timetuple())


def db_time(ts: int) -> str:
    """The DATETIME literal of epoch ``ts`` (what ``CURRENT_TIMESTAMP`` would have written, in UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def content_path(ts: int) -> str:
    return time.strftime("%Y/%m/%d", time.gmtime(ts))


def _office_hours(second_of_day: int) -> int:
    """Monotone warp of a uniform time of day onto the hourly weights (keeps the ascending order)."""
    frac = second_of_day / DAY
    hour = bisect.bisect_right(_CUM, frac) - 1
    hour = min(hour, 23)
    within = (frac - _CUM[hour]) / (_CUM[hour + 1] - _CUM[hour])
    return int((hour + within) * 3600)


def creation_times(rng: random.Random, count: int, now: int) -> Iterator[int]:
    """``count`` ascending creation epochs, none later than ``now``."""
    span = SPAN_DAYS * DAY
    u = 1.0
    for k in range(count, 0, -1):
        u *= (1.0 - rng.random()) ** (1.0 / k)  # the k-th largest of the remaining uniforms
        t = now - int(span * u**AGE_POWER)
        day_start = t - t % DAY
        yield min(now, day_start + _office_hours(t - day_start))

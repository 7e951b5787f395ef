"""A cache of what searchd answered, keyed by the index's state: a repeated search on an unchanged index is not
counted or ranked again.

A word that occurs in most articles of a large helpdesk matches hundreds of thousands of documents, and Sphinx
2.2 has no shortcut for them: ranking the page, grouping it by ticket, the exact number of tickets
(``COUNT(DISTINCT ticket_id)``) and the facet ``GROUP BY`` each read every match (40–150 ms each at 1M articles
on two cores). ``SearchService`` keeps the rows each of these statements returned here, and uses them again
while the index has not changed.

The key holds the statement, its MATCH() string and ``index_fingerprint``: searchd's own counters of what was
written to the index. Every write moves it — REPLACE/INSERT add to ``indexed_bytes`` (cumulative: a REPLACE
of the very same document too), DELETE and UPDATE count ``command_delete``/``command_update``, flushes and
merges change the chunk sizes — whoever wrote to searchd, and an entry stored before searchd restarted (its
counters begin at zero again) is not read after it. An answer whose fingerprint moved while it was computed
is not stored. The one change it cannot see is a TRUNCATE followed by as many documents of exactly the same
text size (tests do that with a rebuilt world), which is why answers that took less than ``CACHE_MIN_MS`` —
every small test index — are not kept at all. The viewer's permissions are part of the statement (the scope's
filters), so one viewer's answer is never served to another with other rights, and the page read from the
cache is still checked against MariaDB like any other (``SearchService._hits``).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

#: answers that took less than this are not kept: asking searchd again is about as cheap as the cache
CACHE_MIN_MS = 10.0
#: how long an answer is kept; the fingerprint already invalidates it on any write, this only bounds memory
CACHE_SECONDS = 600
KEY_PREFIX = "otrs_ext:search:cache:"
#: searchd status variables that change on writes to any index (SHOW STATUS)
_STATUS_COUNTERS = ("command_delete", "command_update")
#: index status variables that change on writes to this index (SHOW INDEX ... STATUS)
_INDEX_COUNTERS = ("indexed_documents", "indexed_bytes", "ram_bytes", "disk_bytes", "disk_chunks")


class SearchCache(Protocol):
    """Where answers are kept: Redis in the app (shared by its processes), a dict in tests."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, seconds: int) -> None: ...


class RedisSearchCache:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    def get(self, key: str) -> bytes | None:
        try:
            return self.redis.get(KEY_PREFIX + key)
        except Exception:  # noqa: BLE001 - a cache that is down only costs asking searchd again
            return None

    def set(self, key: str, value: bytes, seconds: int) -> None:
        try:
            self.redis.set(KEY_PREFIX + key, value, ex=seconds)
        except Exception:  # noqa: BLE001 - same: the answer was served, it is just not kept
            pass


class MemorySearchCache:
    """A bounded in-process cache (least recently used out first)."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            self._items.move_to_end(key)
            return item[1]

    def set(self, key: str, value: bytes, seconds: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def index_fingerprint(cursor: Any, index: str) -> tuple[str, int]:
    """searchd's write counters for ``index`` as one string, and its uptime (two cheap status statements).

    The counters begin at zero again when searchd restarts; an answer is therefore only read back while the uptime
    has not gone down since it was stored (``lookup``)."""
    cursor.execute("SHOW STATUS")
    status = {str(row[0]): str(row[1]) for row in cursor.fetchall()}
    cursor.execute(f"SHOW INDEX {index} STATUS")
    stats = {str(row[0]): str(row[1]) for row in cursor.fetchall()}
    fingerprint = "|".join([*(status.get(n, "") for n in _STATUS_COUNTERS),
                            *(stats.get(n, "") for n in _INDEX_COUNTERS)])
    return fingerprint, int(status.get("uptime", "0") or 0)


def cache_key(fingerprint: str, *parts: str) -> str:
    return hashlib.sha256("\x00".join((fingerprint, *parts)).encode("utf-8")).hexdigest()


def store(cache: SearchCache, key: str, uptime: int, value: Any) -> None:
    cache.set(key, json.dumps([uptime, value], separators=(",", ":")).encode("utf-8"), CACHE_SECONDS)


def lookup(cache: SearchCache, key: str, uptime: int) -> Any | None:
    """The value stored under ``key`` by this searchd process (not by one before a restart), or None."""
    raw = cache.get(key)
    if raw is None:
        return None
    stored_uptime, value = json.loads(raw)
    return value if uptime >= stored_uptime else None

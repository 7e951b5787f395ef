"""Invalidate OTRS's cache after otrs-ext wrote to OTRS's tables, so the unmodified OTRS UI is never stale.

OTRS caches ticket rows for 20 days (OTRS_INTERNALS §7); a direct write that leaves the cache entry behind is
invisible in the agent UI until it expires. Every write collects ``(cache type, key)`` pairs with the key
builders below (a key of ``None`` means "CleanUp the whole type"); after the database commit an
``Invalidator`` hands them to the configured backend:

* ``FileStorableCache`` - OTRS's default and only shipped backend: one file per entry at
  ``<TempDir>/CacheFileStorable/<Type>/<h1>/<h2>/<md5 of the key's UTF-8 bytes>``; ``<hN>`` is the N-th hex
  digit of that md5, one directory level per ``Cache::SubdirLevels`` (default 2). Deleting the file is the
  supported invalidation; deleting ``<Type>/`` is OTRS's CleanUp of that type. otrs-ext must run on the OTRS
  host (or see the same TempDir) as a user in OTRS's group: the files are 0660, the directories 0770.
* ``RedisOtrsCache`` - for installations whose ``Cache::Module`` is ``Kernel::System::Cache::Redis``: shipped
  with OTOBO 10/11 and the add-ons ymyasoedov/OTRS-CacheRedis and RokkuCode/OTRS-RedisCache for OTRS/Znuny,
  which all share one layout: the entry for (Type, Key) is the Redis string ``<Type>:<Key>`` (UTF-8) in the
  database ``Cache::Redis###DatabaseNumber``, with no prefix; a set ``namespaces`` lists the types, and
  CleanUp of a type deletes ``SCAN MATCH <Type>:*``. otrs-ext does the same; the optional ``prefix`` (a
  setting, default empty) is prepended to every key for a module patched to namespace its keys. The database
  is chosen by the URL path (``redis://host:6379/<DatabaseNumber>``).
* ``NullOtrsCache`` - OTRS runs without a cache, or in tests.

The ``Invalidator`` retries failed deletes with backoff; what still fails is written to a spool directory (one
JSON file per batch, written atomically, fsync'd) that survives restarts, and logged as a structured error.
``Invalidator.retry_pending()`` (run it from cron every minute) replays the spool. Every invalidation is
idempotent - deleting an entry OTRS has since rebuilt only costs OTRS one cache miss - so replaying late or
twice is safe.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from redis.exceptions import RedisError

from ..errors import ConfigurationError, OtrsExtError

log = logging.getLogger(__name__)

Stale = tuple[str, str | None]  # (cache type, key); key None = CleanUp the whole type
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)
_TYPE_RE = re.compile(r"[A-Za-z0-9_]+")


class InvalidCacheType(OtrsExtError):
    """A cache type OTRS could not have made: it would escape the cache directory or match other types."""

    status = 500
    code = "invalid-cache-type"


def check_type(cache_type: str) -> str:
    """``cache_type`` if OTRS could have made it (``[A-Za-z0-9_]+``), else ``InvalidCacheType``."""
    if not isinstance(cache_type, str) or not _TYPE_RE.fullmatch(cache_type):
        raise InvalidCacheType(f"OTRS cache type {cache_type!r} is not [A-Za-z0-9_]+ as OTRS cache types are")
    return cache_type


# --- key builders, one per kind of write (OTRS_INTERNALS §6, §7) ----------------------------------
PERMISSION_CACHE_TYPES = ("DBGroupUserGet", "DBGroupRoleGet", "DBRoleUserGet", "GroupPermissionUserGet",
                          "GroupPermissionGroupGet")


def ticket_keys(ticket_id: int) -> list[Stale]:
    """Any ``ticket`` column changed: TicketGet's 20-day entry and its memory-only variants."""
    base = f"Cache::GetTicket{int(ticket_id)}"
    variants = [f"{base}::{dynamic_fields}::{extended}" for dynamic_fields in (0, 1) for extended in (0, 1)]
    return [("Ticket", key) for key in (base, *variants)]


def article_list_keys(ticket_id: int) -> list[Stale]:
    """Articles of the ticket inserted, deleted, moved, or their sender or visibility changed."""
    return [("Article", f"_MetaArticleList::{int(ticket_id)}")]


def ticket_flag_keys(ticket_id: int) -> list[Stale]:
    """``ticket_flag`` rows of the ticket written (e.g. everyone's ``Seen`` removed by a new article)."""
    return [("Ticket", f"TicketFlag::{int(ticket_id)}")]


def dynamic_field_keys(object_id: int) -> list[Stale]:
    """``dynamic_field_value`` rows of a ticket or article; for a ticket add ``ticket_keys`` too."""
    return [("DynamicFieldValue", f"ValueGet::ObjectID::{int(object_id)}")]


def article_content_path_keys(article_id: int) -> list[Stale]:
    """An existing article's ``content_path`` changed."""
    return [("ArticleStorageBase", f"_ArticleContentPathGet::{int(article_id)}"),
            ("Article", f"ArticleContentPathGet::{int(article_id)}")]


def link_list_keys(object_id: int, state_id: int) -> list[Stale]:
    """A ``link_relation`` row of this object id (both ends) and state inserted: LinkAdd's two entries."""
    tail = f"::ObjectID{int(object_id)}::StateID{int(state_id)}"
    return [("LinkObject", f"Cache::LinkListRaw::Direction{direction}{tail}") for direction in ("Source", "Target")]


def scheduler_keys() -> list[Stale]:
    """``scheduler_task`` rows written (the entry lives 10 s anyway)."""
    return [("SchedulerDB", "TaskListUnlocked")]


def permission_types() -> list[Stale]:
    """``group_user``, ``group_role`` or ``role_user`` rows written: CleanUp of every permission type."""
    return clean_types(*PERMISSION_CACHE_TYPES)


def clean_types(*cache_types: str) -> list[Stale]:
    """CleanUp of whole types, e.g. ``clean_types("Queue")`` after a queue row changed."""
    return [(check_type(t), None) for t in cache_types]


# --- backends -------------------------------------------------------------------------------------
class OtrsCache(Protocol):
    """What otrs-ext needs of an OTRS cache backend: both operations succeed when there is nothing to delete
    and raise ``OSError`` or ``RedisError`` when the backend cannot be reached or changed."""

    def delete(self, cache_type: str, key: str) -> None: ...

    def clean_type(self, cache_type: str) -> None: ...


class NullOtrsCache:
    """No OTRS cache to invalidate (OTRS without a cache, or tests); records nothing, accepts valid types."""

    def delete(self, cache_type: str, key: str) -> None:
        check_type(cache_type)

    def clean_type(self, cache_type: str) -> None:
        check_type(cache_type)


class FileStorableCache:
    """``Kernel::System::Cache::FileStorable``: one file per entry under ``<TempDir>/CacheFileStorable``."""

    def __init__(self, otrs_home: Path | None, temp_dir: Path | None = None, subdir_levels: int = 2) -> None:
        """``temp_dir`` = SysConfig ``TempDir`` (default ``<otrs_home>/var/tmp``), ``subdir_levels`` =
        ``Cache::SubdirLevels``."""
        if not 0 <= subdir_levels <= 32:  # an md5 has 32 hex digits to spread over levels
            raise ConfigurationError(f"Cache::SubdirLevels = {subdir_levels}: use 0 to 32 (OTRS default: 2)")
        if temp_dir is None:
            if otrs_home is None:
                raise ConfigurationError("the FileStorable cache needs OTRS_EXT_OTRS_HOME or OTRS's TempDir")
            temp_dir = Path(otrs_home) / "var" / "tmp"
        self.root = Path(temp_dir) / "CacheFileStorable"
        self._root = str(self.root)
        self.subdir_levels = subdir_levels

    def path_for(self, cache_type: str, key: str) -> Path:
        """The file OTRS keeps the entry in (whether or not it exists)."""
        return Path(self._file(cache_type, key))

    def _file(self, cache_type: str, key: str) -> str:
        # os.path, not pathlib: every write deletes several entries, and Path objects cost more than the unlink
        digest = hashlib.md5(key.encode("utf-8")).hexdigest()
        return os.path.join(self._root, check_type(cache_type), *digest[: self.subdir_levels], digest)

    def delete(self, cache_type: str, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # no entry: nothing to invalidate
            os.unlink(self._file(cache_type, key))

    def clean_type(self, cache_type: str) -> None:
        """OTRS's CleanUp(Type): move ``<Type>/`` aside atomically, then remove it.

        The rename makes the invalidation complete at once even while OTRS writes new entries into the type
        (OTRS recreates the directory as needed); the dot name keeps it out of OTRS's own CleanUp glob.
        """
        source = self.root / check_type(cache_type)
        trash = self.root / f".otrs-ext-clean-{cache_type}-{uuid.uuid4().hex}"
        try:
            source.rename(trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)
        if trash.exists():  # already invisible to OTRS; only disk space is at stake
            log.warning("could not remove all of %s", trash,
                        extra={"event": "otrs_cache_trash_left", "path": str(trash)})


class RedisOtrsCache:
    """``Kernel::System::Cache::Redis`` (OTOBO, OTRS-CacheRedis add-ons): entry = ``<prefix><Type>:<Key>``."""

    def __init__(self, redis_client: Any, prefix: str = "", scan_count: int = 1000) -> None:
        self.redis = redis_client
        self.prefix = prefix
        self.scan_count = scan_count

    def key_for(self, cache_type: str, key: str) -> str:
        """The Redis key of an entry (redis-py sends it UTF-8 encoded, as the Perl module does)."""
        return f"{self.prefix}{check_type(cache_type)}:{key}"

    def delete(self, cache_type: str, key: str) -> None:
        name = self.key_for(cache_type, key)  # validated before anything reaches Redis
        self.redis.delete(name)

    def clean_type(self, cache_type: str) -> None:
        """As the Perl module's CleanUp(Type): delete every key matching ``<Type>:*`` (SCAN, never KEYS)."""
        pattern = _glob_escape(self.prefix) + check_type(cache_type) + ":*"
        batch: list[bytes] = []
        for found in self.redis.scan_iter(match=pattern, count=self.scan_count):
            batch.append(found)
            if len(batch) >= self.scan_count:
                self.redis.delete(*batch)
                batch.clear()
        if batch:
            self.redis.delete(*batch)


def _glob_escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def otrs_cache_from_settings(otrs_cache: str, otrs_home: Path | None, redis_factory: Callable[[str], Any], *,
                             temp_dir: Path | None = None, subdir_levels: int = 2,
                             redis_prefix: str = "") -> OtrsCache:
    """The backend named by ``OTRS_EXT_OTRS_CACHE``: ``file``, ``none``, or a ``redis://host:port/db`` URL
    (``redis_factory(url)`` builds the client)."""
    if otrs_cache == "file":
        if otrs_home is None and temp_dir is None:
            raise ConfigurationError(
                "OTRS_EXT_OTRS_CACHE = 'file' needs OTRS_EXT_OTRS_HOME, the OTRS installation directory "
                "(/opt/otrs, /opt/znuny) whose var/tmp/CacheFileStorable holds OTRS's cache; otrs-ext must "
                "run on the OTRS host or mount that directory"
            )
        cache = FileStorableCache(otrs_home, temp_dir=temp_dir, subdir_levels=subdir_levels)
        if not cache.root.parent.is_dir():
            raise ConfigurationError(
                f"OTRS_EXT_OTRS_HOME = {str(otrs_home)!r}: OTRS's TempDir {str(cache.root.parent)!r} is "
                "not a directory here; point OTRS_EXT_OTRS_HOME at the OTRS installation on this host "
                "(or mount it there)"
            )
        return cache
    if otrs_cache == "none":
        return NullOtrsCache()
    if otrs_cache.startswith(("redis://", "rediss://", "unix://")):
        return RedisOtrsCache(redis_factory(otrs_cache), prefix=redis_prefix)
    raise ConfigurationError(
        f"OTRS_EXT_OTRS_CACHE = {otrs_cache!r}: use file (OTRS's default FileStorable cache), none, or the "
        "redis://host:port/db URL of Cache::Redis"
    )


# --- after the commit -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PendingReport:
    """What ``retry_pending`` did: invalidations done now, still pending, unreadable spool files set aside."""

    done: int
    pending: int
    bad_files: int = 0


class Invalidator:
    """Runs a write's invalidations after its commit; what cannot be done now is kept in ``spool_dir``."""

    def __init__(self, cache: OtrsCache, *, spool_dir: Path | None = None, attempts: int = 3,
                 backoff: float = 0.05, sleep: Callable[[float], None] = time.sleep) -> None:
        """``attempts`` tries per invalidation, waiting ``backoff`` seconds, doubled each time, in between.
        Without ``spool_dir`` an invalidation that still fails is only logged (with the items to delete)."""
        self.cache = cache
        self.spool_dir = spool_dir
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep

    def invalidate(self, items: Iterable[Stale]) -> bool:
        """Delete ``items`` now; True if all are gone, False if some were spooled for ``retry_pending``."""
        todo = _dedupe(items)
        if not todo:
            return True
        failed, error = self._run(todo)
        if not failed:
            return True
        self._spool(failed, error)
        return False

    def retry_pending(self) -> PendingReport:
        """Replay the spool (oldest first); files whose items all succeed are removed, the rest rewritten."""
        if self.spool_dir is None or not self.spool_dir.is_dir():
            return PendingReport(0, 0)
        done = pending = bad = 0
        with _locked(self.spool_dir / ".lock"):  # one replayer at a time; the lock dies with its process
            for path in sorted(self.spool_dir.glob("*.json")):
                try:
                    document = json.loads(path.read_text(encoding="utf-8"))
                    items = [(check_type(t), k) for t, k in document["items"]]
                except (ValueError, KeyError, TypeError, InvalidCacheType) as exc:
                    path.rename(path.with_suffix(".bad"))
                    bad += 1
                    log.error("unreadable OTRS cache spool file %s set aside: %s", path, exc,
                              extra={"event": "otrs_cache_spool_bad", "path": str(path)})
                    continue
                failed, error = self._run(items)
                done += len(items) - len(failed)
                pending += len(failed)
                try:
                    if failed:
                        _write_atomically(path, _spool_document(failed, error))
                    else:
                        path.unlink()
                except OSError as exc:
                    # The file still holds a superset of what is pending; replaying it again is harmless.
                    log.error("could not update OTRS cache spool file %s: %s", path, exc,
                              extra={"event": "otrs_cache_spool_update_failed", "path": str(path)})
        if done or pending or bad:
            log.info("OTRS cache spool replayed: %d done, %d pending", done, pending,
                     extra={"event": "otrs_cache_spool_replayed", "done": done, "pending": pending,
                            "bad": bad})
        return PendingReport(done, pending, bad)

    def _run(self, items: Sequence[Stale]) -> tuple[list[Stale], str]:
        remaining, error = list(items), ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            still: list[Stale] = []
            for item in remaining:
                try:
                    self._apply(item)
                except TRANSIENT_ERRORS as exc:
                    still.append(item)
                    error = f"{type(exc).__name__}: {exc}"
            remaining = still
            if not remaining:
                break
        return remaining, error

    def _apply(self, item: Stale) -> None:
        cache_type, key = item
        if key is None:
            self.cache.clean_type(cache_type)
        else:
            self.cache.delete(cache_type, key)

    def _spool(self, items: list[Stale], error: str) -> None:
        fields: dict[str, Any] = {"event": "otrs_cache_invalidation_failed", "error": error,
                                  "items": [list(i) for i in items], "backend": type(self.cache).__name__}
        if self.spool_dir is not None:
            path = self.spool_dir / f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
            try:
                self.spool_dir.mkdir(parents=True, exist_ok=True)
                _write_atomically(path, _spool_document(items, error))
            except OSError as exc:
                fields["spool_error"] = f"{type(exc).__name__}: {exc}"
            else:
                log.error("OTRS cache invalidation failed; kept in %s for retry_pending", path,
                          extra={**fields, "spool_file": str(path)})
                return
        # Nowhere durable to keep them: the log line is the operator's only record.
        log.critical("OTRS cache invalidation failed and could not be kept; OTRS may show stale data until "
                     "these entries are deleted (bin/otrs.Console.pl Maint::Cache::Delete --type <Type>)",
                     extra=fields)


def _dedupe(items: Iterable[Stale]) -> list[Stale]:
    """Each item once, in order; single keys of a type that is cleaned anyway are dropped.

    An invalid type is a bug in a key builder; it is logged and skipped rather than raised, because the
    write is already committed and the other entries must still go."""
    seen: dict[Stale, None] = {}
    for cache_type, key in dict.fromkeys(items):  # a write repeats its keys (one set per UPDATE): check each once
        try:
            seen[(check_type(cache_type), key)] = None
        except InvalidCacheType as exc:
            log.error("%s", exc, extra={"event": "otrs_cache_invalid_type", "cache_type": repr(cache_type)})
    cleaned = {t for t, k in seen if k is None}
    return [(t, k) for t, k in seen if k is None or t not in cleaned]


def _spool_document(items: Sequence[Stale], error: str) -> dict[str, Any]:
    return {"version": 1, "written": datetime.now(UTC).isoformat(timespec="seconds"), "error": error,
            "items": [list(i) for i in items]}


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write, fsync, rename, fsync the directory: after a crash the file is either whole or absent."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(document, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _locked:
    """An exclusive ``flock`` on ``path`` for a ``with`` block."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)

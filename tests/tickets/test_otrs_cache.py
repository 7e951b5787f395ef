"""OTRS cache invalidation: FileStorable paths exactly as OTRS lays them out, the Redis layout of
``Kernel::System::Cache::Redis`` against a real redis-server, and the retry/spool path of the ``Invalidator``.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from otrs_ext.errors import ConfigurationError
from otrs_ext.tickets.otrs_cache import (
    PERMISSION_CACHE_TYPES,
    FileStorableCache,
    Invalidator,
    InvalidCacheType,
    NullOtrsCache,
    RedisOtrsCache,
    article_content_path_keys,
    article_list_keys,
    clean_types,
    dynamic_field_keys,
    otrs_cache_from_settings,
    permission_types,
    scheduler_keys,
    ticket_flag_keys,
    ticket_keys,
)

GET_TICKET_2_MD5 = "80007ed3fc4f92c18ddb7d45ad92fd70"  # md5("Cache::GetTicket2"), computed with md5sum
UNICODE_KEY, UNICODE_MD5 = "Cache::Ünïcode€", "91a2af41eb0b755fdde59ad91b6f4cf6"  # md5 of the UTF-8 bytes
BAD_TYPES = ["", "../Ticket", "Ticket/x", "Ticket*", "Tick et", "Ticket:", "Tïcket"]


def cache_file(home: Path, cache_type: str, md5: str, levels: int = 2) -> Path:
    """Where OTRS's FileStorable keeps an entry, spelled out independently of the implementation."""
    path = home / "var" / "tmp" / "CacheFileStorable" / cache_type
    for level in range(levels):
        path = path / md5[level]
    return path / md5


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"pst0\x04")  # a Storable header; the content does not matter
    return path


# --- key builders ---------------------------------------------------------------------------------
def test_key_builders_match_otrs_internals_section_7() -> None:
    assert ticket_keys(2) == [
        ("Ticket", "Cache::GetTicket2"),
        ("Ticket", "Cache::GetTicket2::0::0"), ("Ticket", "Cache::GetTicket2::0::1"),
        ("Ticket", "Cache::GetTicket2::1::0"), ("Ticket", "Cache::GetTicket2::1::1"),
    ]
    assert article_list_keys(7) == [("Article", "_MetaArticleList::7")]
    assert ticket_flag_keys(7) == [("Ticket", "TicketFlag::7")]
    assert dynamic_field_keys(9) == [("DynamicFieldValue", "ValueGet::ObjectID::9")]
    assert article_content_path_keys(3) == [("ArticleStorageBase", "_ArticleContentPathGet::3"),
                                            ("Article", "ArticleContentPathGet::3")]
    assert scheduler_keys() == [("SchedulerDB", "TaskListUnlocked")]
    assert permission_types() == [(t, None) for t in PERMISSION_CACHE_TYPES]
    assert set(PERMISSION_CACHE_TYPES) == {"DBGroupUserGet", "DBGroupRoleGet", "DBRoleUserGet",
                                           "GroupPermissionUserGet", "GroupPermissionGroupGet"}
    assert clean_types("Queue", "State") == [("Queue", None), ("State", None)]
    with pytest.raises(InvalidCacheType):
        clean_types("../Queue")


# --- FileStorable ---------------------------------------------------------------------------------
def test_golden_example_path(tmp_path: Path) -> None:
    cache = FileStorableCache(tmp_path)
    expected = tmp_path / "var/tmp/CacheFileStorable/Ticket/8/0" / GET_TICKET_2_MD5
    assert cache.path_for("Ticket", "Cache::GetTicket2") == expected
    assert cache.path_for("Ticket", UNICODE_KEY) == cache_file(tmp_path, "Ticket", UNICODE_MD5)


@pytest.mark.parametrize("levels", [0, 1, 2, 3])
def test_delete_removes_exactly_the_entry_file(tmp_path: Path, levels: int) -> None:
    target = touch(cache_file(tmp_path, "Ticket", GET_TICKET_2_MD5, levels))
    unicode_target = touch(cache_file(tmp_path, "Ticket", UNICODE_MD5, levels))
    same_key_other_type = touch(cache_file(tmp_path, "Article", GET_TICKET_2_MD5, levels))
    other_key = touch(cache_file(tmp_path, "Ticket", "8" * 32, levels))
    cache = FileStorableCache(tmp_path, subdir_levels=levels)
    cache.delete("Ticket", "Cache::GetTicket2")
    cache.delete("Ticket", UNICODE_KEY)
    assert not target.exists() and not unicode_target.exists()
    assert same_key_other_type.exists() and other_key.exists()
    cache.delete("Ticket", "Cache::GetTicket2")  # already gone: fine
    cache.delete("NeverCached", "x")  # no type directory at all: fine


def test_temp_dir_overrides_home(tmp_path: Path) -> None:
    cache = FileStorableCache(tmp_path / "home", temp_dir=tmp_path / "tmpdir")
    target = touch(tmp_path / "tmpdir/CacheFileStorable/Ticket/8/0" / GET_TICKET_2_MD5)
    cache.delete("Ticket", "Cache::GetTicket2")
    assert not target.exists()


def test_clean_type_removes_the_type_directory_only(tmp_path: Path) -> None:
    entries = [touch(cache_file(tmp_path, "DBGroupUserGet", md5)) for md5 in (GET_TICKET_2_MD5, UNICODE_MD5)]
    kept = [touch(cache_file(tmp_path, "DBGroupUserGetX", GET_TICKET_2_MD5)),
            touch(cache_file(tmp_path, "Ticket", GET_TICKET_2_MD5))]
    cache = FileStorableCache(tmp_path)
    cache.clean_type("DBGroupUserGet")
    root = tmp_path / "var/tmp/CacheFileStorable"
    assert not any(e.exists() for e in entries) and not (root / "DBGroupUserGet").exists()
    assert all(k.exists() for k in kept)
    assert sorted(p.name for p in root.iterdir()) == ["DBGroupUserGetX", "Ticket"]  # no trash left behind
    cache.clean_type("DBGroupUserGet")  # nothing to clean: fine


@pytest.mark.parametrize("cache", [FileStorableCache(Path("/nonexistent")), NullOtrsCache(),
                                   RedisOtrsCache(redis_client=None)], ids=["file", "null", "redis"])
@pytest.mark.parametrize("bad", BAD_TYPES)
def test_types_that_otrs_cannot_have_are_refused(cache, bad: str) -> None:
    with pytest.raises(InvalidCacheType, match="A-Za-z0-9_"):
        cache.delete(bad, "Cache::GetTicket2")
    with pytest.raises(InvalidCacheType):
        cache.clean_type(bad)


def test_subdir_levels_out_of_range_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Cache::SubdirLevels"):
        FileStorableCache(tmp_path, subdir_levels=-1)


# --- Redis ----------------------------------------------------------------------------------------
@pytest.fixture
def redis_client(redis_server):
    # a database of its own, emptied, so CleanUp of a type cannot touch other tests' keys
    client = redis.Redis.from_url(redis_server.url.rsplit("/", 1)[0] + "/7")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def dead_redis() -> redis.Redis:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


def test_redis_delete_uses_type_colon_key(redis_client) -> None:
    redis_client.mset({"Ticket:Cache::GetTicket2": b"x", f"Ticket:{UNICODE_KEY}": b"x",
                       "Ticket:Cache::GetTicket20": b"x", "Article:Cache::GetTicket2": b"x"})
    cache = RedisOtrsCache(redis_client)
    cache.delete("Ticket", "Cache::GetTicket2")
    cache.delete("Ticket", UNICODE_KEY)
    assert sorted(redis_client.keys()) == [b"Article:Cache::GetTicket2", b"Ticket:Cache::GetTicket20"]
    assert redis_client.exists(f"Ticket:{UNICODE_KEY}".encode()) == 0


def test_redis_clean_type_scans_all_keys_of_the_type(redis_client) -> None:
    redis_client.mset({f"Ticket:Cache::GetTicket{i}": b"x" for i in range(2500)})
    redis_client.mset({"TicketX:a": b"x", "Tickets:a": b"x", "Article:Ticket:a": b"x"})
    redis_client.sadd("namespaces", "Ticket", "Article")
    RedisOtrsCache(redis_client, scan_count=1000).clean_type("Ticket")
    assert sorted(redis_client.keys()) == [b"Article:Ticket:a", b"TicketX:a", b"Tickets:a", b"namespaces"]


def test_redis_prefix_is_prepended_and_glob_escaped(redis_client) -> None:
    prefix = "otrs*[1]:"
    redis_client.mset({f"{prefix}Ticket:a": b"x", f"{prefix}Ticket:b": b"x", "otrsX1:Ticket:a": b"x",
                       "otrs*1]:Ticket:a": b"x", "Ticket:a": b"x"})
    cache = RedisOtrsCache(redis_client, prefix=prefix)
    cache.delete("Ticket", "a")
    assert redis_client.exists(f"{prefix}Ticket:a") == 0 and redis_client.exists("Ticket:a") == 1
    cache.clean_type("Ticket")
    assert sorted(redis_client.keys()) == [b"Ticket:a", b"otrs*1]:Ticket:a", b"otrsX1:Ticket:a"]


# --- the factory ----------------------------------------------------------------------------------
def test_factory_file_needs_the_otrs_home(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="OTRS_EXT_OTRS_HOME"):
        otrs_cache_from_settings("file", None, redis.Redis.from_url)
    with pytest.raises(ConfigurationError, match="OTRS_EXT_OTRS_HOME.*var/tmp"):
        otrs_cache_from_settings("file", tmp_path, redis.Redis.from_url)
    (tmp_path / "var/tmp").mkdir(parents=True)
    cache = otrs_cache_from_settings("file", tmp_path, redis.Redis.from_url, subdir_levels=1)
    assert isinstance(cache, FileStorableCache)
    expected = cache_file(tmp_path, "Ticket", GET_TICKET_2_MD5, 1)
    assert cache.path_for("Ticket", "Cache::GetTicket2") == expected


def test_factory_redis_and_none_and_garbage() -> None:
    urls: list[str] = []

    def factory(url: str) -> str:
        urls.append(url)
        return "client"

    cache = otrs_cache_from_settings("redis://otrs-redis:6379/3", None, factory, redis_prefix="p:")
    assert isinstance(cache, RedisOtrsCache) and cache.redis == "client" and cache.prefix == "p:"
    assert urls == ["redis://otrs-redis:6379/3"]
    assert isinstance(otrs_cache_from_settings("none", None, factory), NullOtrsCache)
    with pytest.raises(ConfigurationError, match="OTRS_EXT_OTRS_CACHE = 'memcached'"):
        otrs_cache_from_settings("memcached", None, factory)


# --- the Invalidator ------------------------------------------------------------------------------
class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def delete(self, cache_type: str, key: str) -> None:
        self.calls.append((cache_type, key))

    def clean_type(self, cache_type: str) -> None:
        self.calls.append((cache_type, None))


def test_invalidator_deletes_each_entry_once_and_skips_keys_of_cleaned_types(caplog) -> None:
    cache = Recording()
    items = [*ticket_keys(2)[:1], *ticket_keys(2)[:1], ("DBGroupUserGet", "x"), *permission_types(),
             ("Bad/Type", "x"), *article_list_keys(2)]
    with caplog.at_level(logging.ERROR):
        assert Invalidator(cache).invalidate(items) is True
    assert cache.calls == [("Ticket", "Cache::GetTicket2"), *permission_types(),
                           ("Article", "_MetaArticleList::2")]
    assert [r.event for r in caplog.records] == ["otrs_cache_invalid_type"]
    assert Invalidator(cache).invalidate([]) is True


def test_invalidator_on_filestorable(tmp_path: Path) -> None:
    files = [touch(cache_file(tmp_path, "Ticket", GET_TICKET_2_MD5)),
             touch(FileStorableCache(tmp_path).path_for("Article", "_MetaArticleList::2"))]
    kept = touch(cache_file(tmp_path, "Ticket", UNICODE_MD5))
    assert Invalidator(FileStorableCache(tmp_path), spool_dir=tmp_path / "spool").invalidate(
        ticket_keys(2) + article_list_keys(2))
    assert not any(f.exists() for f in files) and kept.exists()
    assert not (tmp_path / "spool").exists()


def test_failure_is_retried_then_spooled_and_replayed_after_a_restart(tmp_path: Path, caplog) -> None:
    cache = FileStorableCache(tmp_path)
    blocked = cache_file(tmp_path, "Ticket", GET_TICKET_2_MD5)
    # <h2> is a file instead of a directory: the unlink fails with NotADirectoryError (even for root)
    touch(blocked.parent)
    flag = touch(cache.path_for("Ticket", "TicketFlag::2"))
    sleeps: list[float] = []
    spool = tmp_path / "spool"
    invalidator = Invalidator(cache, spool_dir=spool, attempts=3, backoff=0.05, sleep=sleeps.append)
    with caplog.at_level(logging.ERROR):
        assert invalidator.invalidate([("Ticket", "Cache::GetTicket2"), *ticket_flag_keys(2)]) is False
    assert sleeps == [0.05, 0.1]
    assert not flag.exists()  # what could be done was done
    [spooled] = list(spool.glob("*.json"))
    document = json.loads(spooled.read_text())
    assert document["items"] == [["Ticket", "Cache::GetTicket2"]]
    assert "NotADirectoryError" in document["error"]
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "otrs_cache_invalidation_failed"]
    assert record.levelno == logging.ERROR and record.spool_file == str(spooled)
    assert record.items == [["Ticket", "Cache::GetTicket2"]]

    assert invalidator.retry_pending().pending == 1  # still broken: kept
    assert spooled.exists()

    blocked.parent.unlink()
    touch(blocked)  # OTRS cached the stale ticket again meanwhile
    restarted = Invalidator(FileStorableCache(tmp_path), spool_dir=spool)
    report = restarted.retry_pending()
    assert (report.done, report.pending) == (1, 0)
    assert not blocked.exists() and list(spool.iterdir()) == [spool / ".lock"]
    assert restarted.retry_pending().done == 0


def test_stopped_redis_is_spooled_and_replayed_once_it_is_back(tmp_path: Path, redis_client, caplog) -> None:
    spool = tmp_path / "spool"
    down = Invalidator(RedisOtrsCache(dead_redis()), spool_dir=spool, attempts=2, sleep=lambda s: None)
    with caplog.at_level(logging.ERROR):
        assert down.invalidate(ticket_keys(5)[:1] + permission_types()[:1]) is False
    assert "ConnectionError" in json.loads(next(spool.glob("*.json")).read_text())["error"]
    redis_client.mset({"Ticket:Cache::GetTicket5": b"stale", "DBGroupUserGet:UserID::3": b"stale",
                       "Ticket:Cache::GetTicket6": b"fresh"})
    report = Invalidator(RedisOtrsCache(redis_client), spool_dir=spool).retry_pending()
    assert (report.done, report.pending) == (2, 0)
    assert redis_client.keys() == [b"Ticket:Cache::GetTicket6"]


def test_without_a_spool_the_items_are_logged_critically(caplog) -> None:
    invalidator = Invalidator(RedisOtrsCache(dead_redis()), attempts=1)
    with caplog.at_level(logging.ERROR):
        assert invalidator.invalidate(ticket_flag_keys(4)) is False
    [record] = caplog.records
    assert record.levelno == logging.CRITICAL and record.items == [["Ticket", "TicketFlag::4"]]
    assert "Maint::Cache::Delete" in record.getMessage()
    assert invalidator.retry_pending().pending == 0


def test_unwritable_spool_is_logged_critically(tmp_path: Path, caplog) -> None:
    not_a_dir = touch(tmp_path / "spool")
    invalidator = Invalidator(RedisOtrsCache(dead_redis()), spool_dir=not_a_dir, attempts=1)
    with caplog.at_level(logging.ERROR):
        assert invalidator.invalidate(ticket_flag_keys(4)) is False
    [record] = caplog.records
    assert record.levelno == logging.CRITICAL and "spool_error" in record.__dict__


def test_unreadable_spool_file_is_set_aside(tmp_path: Path, caplog) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "1-broken.json").write_text("{not json")
    (spool / "2-evil.json").write_text(json.dumps({"items": [["../../etc", "x"]]}))
    (spool / "3-good.json").write_text(json.dumps({"items": [["Ticket", "TicketFlag::1"]]}))
    cache = Recording()
    with caplog.at_level(logging.ERROR):
        report = Invalidator(cache, spool_dir=spool).retry_pending()
    assert (report.done, report.pending, report.bad_files) == (1, 0, 2)
    assert cache.calls == [("Ticket", "TicketFlag::1")]
    assert sorted(p.name for p in spool.iterdir()) == [".lock", "1-broken.bad", "2-evil.bad"]

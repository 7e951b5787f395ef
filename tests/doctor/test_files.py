"""``otrs-ext doctor``'s file checks, run as the users otrs-ext may really run as.

Each check runs in a forked child that drops root for another uid and group list (``as_user``), against
directories laid out as OTRS lays out its own: owner OTRS's user, group OTRS's group, 2770/2775. The uids and
gids are numbers no account on the machine uses, so no test touches the machine's users and groups.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from otrs_ext.doctor.checks import Doctor
from otrs_ext.doctor.files import article_directory_check, cache_directory_check
from otrs_ext.settings import Settings

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching to other users needs root")

OTRS_UID, OTRS_GID = 47101, 47101  # OTRS's user and group
MEMBER = (47102, 47102, [OTRS_GID])  # otrs-ext's user, in OTRS's group
OUTSIDER = (47103, 47103, [])  # otrs-ext's user, not in OTRS's group


def as_user(user: tuple[int, int, list[int]], call: Callable[[], Any], *, umask: int = 0o022) -> Any:
    """``call()`` in a child process running as ``(uid, gid, groups)``; its result (or exception) comes back."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            uid, gid, groups = user
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            os.umask(umask)
            try:
                payload = pickle.dumps(("ok", call()))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
                payload = pickle.dumps(("error", exc))
            with os.fdopen(write, "wb") as out:
                out.write(payload)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as incoming:
        data = incoming.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value


def _otrs_dir(path: Path, mode: int = 0o2770) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, OTRS_UID, OTRS_GID)
    path.chmod(mode)
    return path


def _otrs_file(path: Path) -> Path:
    path.write_bytes(b"cached")
    os.chown(path, OTRS_UID, OTRS_GID)
    path.chmod(0o660)
    return path


@pytest.fixture
def home() -> Iterator[Path]:
    """An OTRS home with a file cache entry in ``Ticket/a/b`` and ArticleDataDir, as OTRS leaves them (outside
    pytest's 0700 temp tree, which the other users could not enter)."""
    top = Path(tempfile.mkdtemp(prefix="otrs-ext-doctor-"))
    top.chmod(0o755)
    base = _otrs_dir(top / "otrs", 0o2775)
    for sub in ("var", "var/tmp", "var/article"):
        _otrs_dir(base / sub, 0o2775)
    cache = _otrs_dir(base / "var/tmp/CacheFileStorable")
    for sub in ("Ticket", "Ticket/a", "Ticket/a/b"):
        _otrs_dir(cache / sub)
    _otrs_file(cache / "Ticket/a/b/ab0123")
    yield base
    shutil.rmtree(top)


def _cache(home: Path) -> Path:
    return home / "var/tmp/CacheFileStorable"


def test_a_member_of_otrs_group_can_invalidate_the_cache(home: Path) -> None:
    check = as_user(MEMBER, lambda: cache_directory_check(_cache(home)))
    assert (check.status, check.fix) == ("ok", ""), check
    assert not [p for p in _cache(home).rglob(".otrs-ext-doctor-*")], "the probe files were left behind"


def test_a_user_outside_otrs_group_is_told_to_join_it(home: Path) -> None:
    check = as_user(OUTSIDER, lambda: cache_directory_check(_cache(home)))
    assert check.status == "fail"
    assert "Permission denied" in check.detail
    assert f"usermod -aG {OTRS_GID} {OUTSIDER[0]}" in check.fix


def test_cache_directories_made_under_umask_022_are_named_with_the_umask_fix(home: Path) -> None:
    (_cache(home) / "Ticket/a/b").chmod(0o2750)  # what OTRS makes when its web server runs with umask 022
    check = as_user(MEMBER, lambda: cache_directory_check(_cache(home)))
    assert check.status == "fail" and "Ticket/a/b" in check.detail
    assert "umask 007" in check.fix and "usermod" not in check.fix


def test_a_member_creates_article_directories_otrs_can_write(home: Path) -> None:
    check = as_user(MEMBER, lambda: article_directory_check(home / "var/article"))
    assert check.status == "ok", check
    assert list((home / "var/article").iterdir()) == []


def test_article_directory_without_setgid_still_works_for_a_member(home: Path) -> None:
    (home / "var/article").chmod(0o775)  # without setgid, new directories get otrs-ext's own group
    check = as_user(MEMBER, lambda: article_directory_check(home / "var/article"))
    assert check.status == "ok", check


def test_an_outsider_cannot_write_articles_and_is_told_why(home: Path) -> None:
    check = as_user(OUTSIDER, lambda: article_directory_check(home / "var/article"))
    assert check.status == "fail" and "Permission denied" in check.detail
    assert f"usermod -aG {OTRS_GID}" in check.fix


def test_an_outsider_with_write_access_would_leave_directories_otrs_cannot_write(home: Path) -> None:
    # world-writable but not setgid: otrs-ext could create, but OTRS could not write what it made
    (home / "var/article").chmod(0o777)
    check = as_user(OUTSIDER, lambda: article_directory_check(home / "var/article"))
    assert check.status == "fail" and "could not write" in check.detail
    assert list((home / "var/article").iterdir()) == [], "the refused probe directory must be gone"


def test_as_root_everything_is_handed_to_otrs(home: Path) -> None:
    check = article_directory_check(home / "var/article")
    assert check.status == "ok" and "chown" in check.detail


def test_doctor_runs_both_checks_from_the_settings(home: Path) -> None:
    settings = Settings(db_url="mysql+pymysql://otrs:otrs@127.0.0.1:1/otrs", redis_url="redis://127.0.0.1:1/0",
                        search_url="mysql://127.0.0.1:1", otrs_home=home, article_storage="fs").validate()
    checks = {c.name: c for c in as_user(OUTSIDER, lambda: list(Doctor(settings)._files()))}
    assert {name: c.status for name, c in checks.items()} == {"otrs cache files": "fail", "article files": "fail"}
    checks = {c.name: c for c in as_user(MEMBER, lambda: list(Doctor(settings)._files()))}
    assert {name: c.status for name, c in checks.items()} == {"otrs cache files": "ok", "article files": "ok"}


def test_doctor_without_otrs_home_says_the_cache_cannot_be_found() -> None:
    settings = Settings(db_url="mysql+pymysql://otrs:otrs@127.0.0.1:1/otrs").validate()
    check = next(iter(Doctor(settings)._files()))
    assert check.status == "fail" and "OTRS_EXT_OTRS_HOME" in check.fix


def test_modes_are_otrs_own_whatever_the_umask(home: Path) -> None:
    """The article check's probe (a real article write's code path) under a hostile umask, as a member."""
    from otrs_ext.tickets.storage import FileSystemStore, StoredFile

    def write() -> list[tuple[str, int, int]]:
        store = FileSystemStore(home / "var/article")
        store.write(None, 7, "2026/12/04", [StoredFile("a.txt", b"x", "text/plain", "attachment")],  # type: ignore[arg-type]
                    user_id=1, now=None)  # type: ignore[arg-type]
        return [(str(p.relative_to(home)), stat.S_IMODE(p.stat().st_mode), p.stat().st_gid)
                for p in sorted((home / "var/article").rglob("*"))]

    made = as_user(MEMBER, write, umask=0o077)
    assert {(path, mode, gid) for path, mode, gid in made if not path.endswith(("a.txt", "a.txt.content_type",
                                                                                "a.txt.disposition"))} == {
        ("var/article/2026", 0o2770, OTRS_GID), ("var/article/2026/12", 0o2770, OTRS_GID),
        ("var/article/2026/12/04", 0o2770, OTRS_GID), ("var/article/2026/12/04/7", 0o2770, OTRS_GID)}
    assert {mode for path, mode, _ in made if path.endswith("a.txt")} == {0o660}

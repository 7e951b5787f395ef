"""The doctor's file checks: can otrs-ext, as the user it runs as, do on OTRS's disk what its writes need?

* OTRS's file cache (``<TempDir>/CacheFileStorable``): after each commit otrs-ext deletes the entries it made
  stale (``otrs_cache.FileStorableCache``), a file in ``<Type>/<h1>/<h2>/``, and renames whole ``<Type>``
  directories away. Without write access there the deletion fails after the commit and OTRS shows stale data
  until the retry cron runs (and keeps failing). OTRS makes these directories 2770 (owner OTRS, its group)
  when its processes run with umask 007; under umask 022 they lack the group's write bit.
* FS article storage (``ArticleDataDir``): otrs-ext creates day and article directories and files there, and
  every one must end up writable by OTRS (see ``FileSystemStore``).

Each check really creates and deletes a file where otrs-ext needs to, as the running user, then names the fix.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import uuid
from pathlib import Path

from ..errors import ConfigurationError
from ..tickets.storage import FileSystemStore
from .check import Check

CACHE = "otrs cache files"
ARTICLES = "article files"
# Enough to find every directory of a normal cache (types x 256 leaves) without walking a pathological one.
MAX_DIRECTORIES = 20000


def _user() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _member(gid: int) -> bool:
    return os.geteuid() == 0 or gid == os.getegid() or gid in os.getgroups()


def _can_create_and_delete(directory: Path) -> str | None:
    """None when a file could be created and deleted in ``directory``, else the reason."""
    probe = directory / f".otrs-ext-doctor-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def cache_directory_check(root: Path) -> Check:
    """``root`` = ``<TempDir>/CacheFileStorable``."""
    if not root.is_dir():
        return Check(CACHE, "warn", f"{root} does not exist: OTRS has cached nothing yet, or the path is wrong",
                     "check OTRS_EXT_OTRS_HOME (or OTRS_EXT_OTRS_TEMP_DIR = OTRS's TempDir) on the OTRS host")
    group = _group(root.stat().st_gid)
    blocked: list[tuple[Path, str]] = []
    reason = _can_create_and_delete(root)
    if reason:
        blocked.append((root, reason))
    seen = 0
    for directory, subdirectories, files in os.walk(root):
        seen += 1
        if seen > MAX_DIRECTORIES:
            break
        path = Path(directory)
        if path == root:
            continue
        if not os.access(path, os.W_OK | os.X_OK):
            blocked.append((path, "no write permission"))
        elif not subdirectories and files and (reason := _can_create_and_delete(path)):
            blocked.append((path, reason))  # a leaf with entries: where otrs-ext deletes them
    if not blocked:
        return Check(CACHE, "ok", f"{_user()} can create and delete files in {root} and its {seen - 1} directories")
    first, why = blocked[0]
    detail = f"{_user()} cannot delete OTRS's cache entries in {len(blocked)} directories, e.g. {first}: {why}"
    return Check(CACHE, "fail", detail, _fix(root, group, cache=True))


def article_directory_check(root: Path) -> Check:
    """``root`` = ``ArticleDataDir`` (``<OTRS home>/var/article``)."""
    if not root.is_dir():
        return Check(ARTICLES, "fail", f"ArticleDataDir {root} does not exist",
                     "set OTRS_EXT_ARTICLE_DATA_DIR (or OTRS_EXT_OTRS_HOME) to OTRS's ArticleDataDir")
    info = root.stat()
    try:
        FileSystemStore(root).probe()
    except ConfigurationError as exc:
        return Check(ARTICLES, "fail", f"as {_user()}: {exc.message}", _fix(root, _group(info.st_gid), cache=False))
    owner = f"{pwd.getpwuid(info.st_uid).pw_name if _known_uid(info.st_uid) else info.st_uid}:{_group(info.st_gid)}"
    return Check(ARTICLES, "ok", f"{_user()} creates directories and files in {root} that OTRS ({owner}) can "
                                 f"write (2770/660{' and chown' if os.geteuid() == 0 else ''})")


def _known_uid(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _fix(root: Path, group: str, *, cache: bool) -> str:
    steps = []
    if not _member(root.stat().st_gid):
        steps.append(f"run otrs-ext as a member of OTRS's group: usermod -aG {group} {_user()} (then restart it)")
    if cache:
        steps.append("let OTRS's processes (web server, daemon, cron) run with umask 007, as OTRS's own "
                     "PostMaster does, so the cache directories they make are group-writable (2770), and "
                     "repair the existing ones as root with bin/znuny.SetPermissions.pl (otrs.SetPermissions.pl)")
    else:
        setgid = bool(root.stat().st_mode & stat.S_ISGID)
        steps.append(f"{root} must belong to OTRS's user and group {group} with mode 2775"
                     f"{'' if setgid else ' (the setgid bit is missing)'}: bin/znuny.SetPermissions.pl as root; "
                     "the umask does not matter, otrs-ext sets OTRS's modes itself")
    return "; ".join(steps)

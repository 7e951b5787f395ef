"""Attachment storage: the database backend (ArticleStorageDB, OTRS's default) or the file system (FS).

OTRS reads only the configured backend, so otrs-ext must write to the one the installation uses. Files of
the FS backend cannot join the database transaction; they are written before the commit into the article's
own directory and removed again when the transaction fails.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Protocol

from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from ..errors import ConfigurationError


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content: bytes
    content_type: str
    disposition: str  # '' for the HTML body (file-2), else attachment / inline
    content_id: str | None = None
    content_alternative: str | None = None


@dataclass(frozen=True)
class AttachmentMeta:
    file_id: int  # 1-based position in (filename, id) order: the FileID of OTRS's UI and API
    filename: str
    content_type: str
    size: int
    disposition: str
    content_id: str | None


def unique_names(names: Sequence[str]) -> list[str]:
    """OTRS's duplicate rule: a repeated name gets ``-1``, ``-2`` ... before its extension."""
    seen: set[str] = set()
    result = []
    for original in names:
        candidate, n = original, 0
        while candidate in seen:
            n += 1
            stem, dot, ext = original.rpartition(".")
            candidate = f"{stem}-{n}.{ext}" if dot and stem else f"{original}-{n}"
        seen.add(candidate)
        result.append(candidate)
    return result


class AttachmentStore(Protocol):
    def write(self, conn: Connection, article_id: int, content_path: str, files: Sequence[StoredFile],
              *, user_id: int, now: datetime) -> None: ...

    def discard(self, article_id: int, content_path: str) -> None:
        """Undo ``write`` after a failed transaction (a no-op where the database already rolled back)."""

    def read(self, conn: Connection, article_id: int, content_path: str | None) -> list[tuple[AttachmentMeta, bytes]]:
        """Every stored file of the article, the HTML body (``file-2``) included, numbered as OTRS does."""

    def index(self, conn: Connection, article_id: int, content_path: str | None) -> list[AttachmentMeta]:
        """``read`` without the contents: OTRS's ``ArticleAttachmentIndexRaw``, in its FileID order."""


class DatabaseStore:
    def __init__(self, schema: OtrsSchema) -> None:
        self.table = schema.articles.attachments

    def write(self, conn: Connection, article_id: int, content_path: str, files: Sequence[StoredFile],
              *, user_id: int, now: datetime) -> None:
        if not files:
            return
        conn.execute(self.table.insert(), [{
            "article_id": article_id, "filename": f.filename, "content_size": str(len(f.content)),
            "content_type": f.content_type, "content_id": f.content_id,
            "content_alternative": f.content_alternative, "disposition": f.disposition, "content": f.content,
            "create_time": now, "create_by": user_id, "change_time": now, "change_by": user_id,
        } for f in files])

    def discard(self, article_id: int, content_path: str) -> None:
        return None

    def read(self, conn: Connection, article_id: int, content_path: str | None) -> list[tuple[AttachmentMeta, bytes]]:
        t = self.table
        rows = conn.execute(select(t).where(t.c.article_id == article_id).order_by(t.c.filename, t.c.id)).mappings()
        return [
            (AttachmentMeta(file_id=i, filename=r["filename"] or "", content_type=r["content_type"] or "",
                            size=len(r["content"] or b""), disposition=r["disposition"] or "",
                            content_id=r["content_id"]), r["content"] or b"")
            for i, r in enumerate(rows, start=1)
        ]

    def index(self, conn: Connection, article_id: int, content_path: str | None) -> list[AttachmentMeta]:
        t = self.table
        # ORDER BY in the database: OTRS numbers the files in its collation's order, not Python's.
        rows = conn.execute(select(t.c.filename, t.c.content_type, t.c.content_size, t.c.content_id,
                                   t.c.disposition).where(t.c.article_id == article_id)
                            .order_by(t.c.filename, t.c.id)).mappings()
        return [AttachmentMeta(file_id=i, filename=r["filename"] or "", content_type=r["content_type"] or "",
                               size=int(r["content_size"] or 0), disposition=r["disposition"] or "",
                               content_id=r["content_id"])
                for i, r in enumerate(rows, start=1)]


class FileSystemStore:
    """``<ArticleDataDir>/<content_path>/<article id>/<file>`` plus OTRS's sidecar files.

    Znuny's ``ArticleStorageFS`` dies at start-up when it cannot write the day's directory
    (``<ArticleDataDir>/YYYY/MM/DD``), and then every article read and write in OTRS fails until the day is
    over. So every directory and file otrs-ext creates gets OTRS's own modes whatever the umask (directories
    0770 plus the setgid bit they inherit from a setgid parent, files 0660, as ``ArticleStorageFS`` asks for)
    and, when otrs-ext runs as root, the owner and group of ``ArticleDataDir`` itself (OTRS's user and group,
    as ``znuny.SetPermissions.pl`` leaves them). A directory that OTRS's user or group could not write is never
    left behind: otrs-ext removes it again and refuses the write with the fix.
    """

    def __init__(self, article_data_dir: Path, *, file_mode: int = 0o660, dir_mode: int = 0o770) -> None:
        self.root = article_data_dir
        self.file_mode = file_mode
        self.dir_mode = dir_mode

    def directory(self, article_id: int, content_path: str) -> Path:
        return self.root.joinpath(*PurePosixPath(content_path).parts, str(article_id))

    def write(self, conn: Connection, article_id: int, content_path: str, files: Sequence[StoredFile],
              *, user_id: int, now: datetime) -> None:
        if not files:
            return
        target = self.directory(article_id, content_path)
        if not self.root.is_dir():
            # Its owner is OTRS's user: otrs-ext cannot make it up, so it never creates the directory itself.
            raise ConfigurationError(f"ArticleDataDir {self.root} does not exist: set OTRS_EXT_ARTICLE_DATA_DIR "
                                     "(or OTRS_EXT_OTRS_HOME) to OTRS's ArticleDataDir, <OTRS home>/var/article")
        try:
            otrs = _OtrsOwner.of(self.root)
            self._make_dirs(target, otrs)
            # Names as OTRS's FilenameCleanUp(Type => 'Local') leaves them; cleaning can make two names equal.
            names = unique_names([local_filename(f.filename) for f in files])
            for name, f in zip(names, files, strict=True):
                self._put(target / f"{name}.content_type", f.content_type.encode(), otrs)
                if f.content_id:
                    self._put(target / f"{name}.content_id", f.content_id.encode(), otrs)
                if f.content_alternative:
                    self._put(target / f"{name}.content_alternative", f.content_alternative.encode(), otrs)
                # OTRS writes no disposition file for an empty disposition (the HTML body file-2).
                if f.disposition:
                    self._put(target / f"{name}.disposition", f.disposition.encode(), otrs)
                self._put(target / name, f.content, otrs)
        except OSError as exc:
            # A raw OSError would reach API clients as an anonymous 500; this names the directory to fix.
            raise ConfigurationError(
                f"cannot write the files of article {article_id} to {target}: {exc.strerror or exc}; "
                f"ArticleDataDir {self.root} must be a directory otrs-ext can write to (OTRS uses 770/660)"
            ) from exc

    def probe(self) -> None:
        """Create and remove a directory and a file in ArticleDataDir the way an article write does (for
        ``otrs-ext doctor``); ConfigurationError says why otrs-ext cannot, or why OTRS could not use the result."""
        if not self.root.is_dir():
            raise ConfigurationError(f"ArticleDataDir {self.root} does not exist")
        # A dot name: Znuny never lists ArticleDataDir itself, only the day directories below it.
        probe = self.root / f".otrs-ext-probe-{os.getpid()}"
        try:
            otrs = _OtrsOwner.of(self.root)
            self._make_dirs(probe, otrs)
            try:
                self._put(probe / "probe", b"", otrs)
                (probe / "probe").unlink()
            finally:
                shutil.rmtree(probe, ignore_errors=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot create and delete files in {self.root}: {exc.strerror or exc}") from exc

    def _make_dirs(self, target: Path, otrs: _OtrsOwner) -> None:
        """Create ``target`` and its missing parents below the root, each handed to OTRS before the next."""
        chain = [target, *target.relative_to(self.root).parents]
        levels = [self.root / p for p in reversed(chain[1:]) if str(p) != "."] + [target]
        made: list[Path] = []
        for level in levels:
            try:
                # Private until it has OTRS's owner and mode: OTRS never sees it half set up.
                level.mkdir(mode=0o700)
            except FileExistsError:
                # OTRS's (or a concurrent writer's) directory stays as it is; one otrs-ext made under an
                # umask before this fix is repaired, or OTRS could not write into the day's directory.
                if level.stat().st_uid == os.geteuid() and not otrs.can_write(level.stat()):
                    self._hand_over(level, otrs, directory=True)
                continue
            made.append(level)
            self._hand_over(level, otrs, directory=True)
            if not otrs.can_write(level.stat()):
                for path in reversed(made):
                    path.rmdir()
                raise _NotForOtrs(level, otrs)

    def _put(self, path: Path, data: bytes, otrs: _OtrsOwner) -> None:
        path.write_bytes(data)
        self._hand_over(path, otrs, directory=False)

    def _hand_over(self, path: Path, otrs: _OtrsOwner, *, directory: bool) -> None:
        """OTRS's owner (as root) or group (as a member), then OTRS's mode; chown first, as it may clear setgid."""
        info = path.stat()
        if os.geteuid() == 0:
            os.chown(path, otrs.uid, otrs.gid)
        elif info.st_gid != otrs.gid and otrs.gid in os.getgroups():
            os.chown(path, -1, otrs.gid)
        mode = self.file_mode
        if directory:
            # Keep the setgid bit a setgid parent handed down, so OTRS's group stays on everything below.
            mode = self.dir_mode | (path.parent.stat().st_mode & stat.S_ISGID)
        os.chmod(path, mode)

    def discard(self, article_id: int, content_path: str) -> None:
        shutil.rmtree(self.directory(article_id, content_path), ignore_errors=True)

    def read(self, conn: Connection, article_id: int, content_path: str | None) -> list[tuple[AttachmentMeta, bytes]]:
        if not content_path:
            return []
        directory = self.directory(article_id, content_path)
        return [(meta, (directory / meta.filename).read_bytes())
                for meta in self.index(conn, article_id, content_path)]

    def index(self, conn: Connection, article_id: int, content_path: str | None) -> list[AttachmentMeta]:
        if not content_path:
            return []
        directory = self.directory(article_id, content_path)
        if not directory.is_dir():
            return []
        names = sorted(p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.suffix not in _SIDECARS and p.name != "plain.txt")
        result = []
        for i, file_name in enumerate(names, start=1):
            content_id = _sidecar(directory, file_name, "content_id") or None
            content_type = _sidecar(directory, file_name, "content_type")
            result.append(AttachmentMeta(
                file_id=i, filename=file_name, content_type=content_type,
                size=(directory / file_name).stat().st_size,
                disposition=_disposition(directory, file_name, content_type, content_id), content_id=content_id))
        return result


def local_filename(name: str) -> str:
    """OTRS's ``FilenameCleanUp(Type => 'Local')``: what ``ArticleStorageFS`` names an attachment's file."""
    name = re.sub(r"^\s+|\r|\n|\s+$", "", name)
    name = re.sub(r"^\.+", "", name)
    name = re.sub(r"[^\w\-+.#_]", "_", name)
    name = re.sub(r"[\u2460-\u24FF]", "_", name)
    match = re.fullmatch(r"(.*)\.+([^.]+)", name, flags=re.DOTALL)
    stem, ext = (match.group(1), "." + match.group(2)) if match else (name, "")
    if stem:
        while len((stem + ext).encode("utf-8")) > 220:
            if len(stem) > 1:
                stem = stem[:-1]
            else:
                ext = ext[:-1]
        name = stem + ext
    return name


def _disposition(directory: Path, file_name: str, content_type: str, content_id: str | None) -> str:
    """The disposition file, or OTRS's defaults when there is none (ArticleAttachmentIndexRaw)."""
    if (directory / f"{file_name}.disposition").exists():
        return _sidecar(directory, file_name, "disposition")
    if content_id and "image" in content_type.lower():
        return "inline"
    if re.search(r"file-[12]", file_name):
        return "inline"
    return "attachment"


_SIDECARS = {".content_type", ".content_id", ".content_alternative", ".disposition"}


def _sidecar(directory: Path, file_name: str, kind: str) -> str:
    path = directory / f"{file_name}.{kind}"
    return path.read_text(encoding="utf-8") if path.exists() else ""


@dataclass(frozen=True)
class _OtrsOwner:
    """Owner and group of ``ArticleDataDir``: OTRS's system user and the group it shares with the web server."""

    uid: int
    gid: int

    @classmethod
    def of(cls, root: Path) -> _OtrsOwner:
        info = root.stat()
        return cls(uid=info.st_uid, gid=info.st_gid)

    def can_write(self, info: os.stat_result) -> bool:
        mode = info.st_mode
        return ((info.st_uid == self.uid and mode & stat.S_IRWXU == stat.S_IRWXU)
                or (info.st_gid == self.gid and mode & stat.S_IRWXG == stat.S_IRWXG))


class _NotForOtrs(OSError):
    """otrs-ext could not give a directory it created to OTRS's user or group (removed again)."""

    def __init__(self, path: Path, otrs: _OtrsOwner) -> None:
        super().__init__(
            13, f"OTRS's user {otrs.uid} / group {otrs.gid} could not write {path}, so it was removed again (a "
                f"day directory OTRS cannot write stops every OTRS article access until midnight); run otrs-ext "
                f"as root or as a member of group {otrs.gid} with the setgid bit on ArticleDataDir "
                f"(chmod 2775, as znuny.SetPermissions.pl sets it); `otrs-ext doctor` checks this")

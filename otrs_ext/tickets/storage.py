"""Attachment storage: the database backend (ArticleStorageDB, OTRS's default) or the file system (FS).

OTRS reads only the configured backend, so otrs-ext must write to the one the installation uses. Files of
the FS backend cannot join the database transaction; they are written before the commit into the article's
own directory and removed again when the transaction fails.
"""

from __future__ import annotations

import os
import re
import shutil
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


class FileSystemStore:
    """``<ArticleDataDir>/<content_path>/<article id>/<file>`` plus OTRS's sidecar files."""

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
        try:
            target.mkdir(parents=True, exist_ok=True, mode=self.dir_mode)
            # Names as OTRS's FilenameCleanUp(Type => 'Local') leaves them; cleaning can make two names equal.
            names = unique_names([local_filename(f.filename) for f in files])
            for name, f in zip(names, files, strict=True):
                self._put(target / f"{name}.content_type", f.content_type.encode())
                if f.content_id:
                    self._put(target / f"{name}.content_id", f.content_id.encode())
                if f.content_alternative:
                    self._put(target / f"{name}.content_alternative", f.content_alternative.encode())
                # OTRS writes no disposition file for an empty disposition (the HTML body file-2).
                if f.disposition:
                    self._put(target / f"{name}.disposition", f.disposition.encode())
                self._put(target / name, f.content)
        except OSError as exc:
            # A raw OSError would reach API clients as an anonymous 500; this names the directory to fix.
            raise ConfigurationError(
                f"cannot write the files of article {article_id} to {target}: {exc.strerror or exc}; "
                f"ArticleDataDir {self.root} must be a directory otrs-ext can write to (OTRS uses 770/660)"
            ) from exc

    def _put(self, path: Path, data: bytes) -> None:
        path.write_bytes(data)
        os.chmod(path, self.file_mode)

    def discard(self, article_id: int, content_path: str) -> None:
        shutil.rmtree(self.directory(article_id, content_path), ignore_errors=True)

    def read(self, conn: Connection, article_id: int, content_path: str | None) -> list[tuple[AttachmentMeta, bytes]]:
        if not content_path:
            return []
        directory = self.directory(article_id, content_path)
        if not directory.is_dir():
            return []
        names = sorted(p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.suffix not in _SIDECARS and p.name != "plain.txt")
        result = []
        for i, file_name in enumerate(names, start=1):
            content = (directory / file_name).read_bytes()
            content_id = _sidecar(directory, file_name, "content_id") or None
            content_type = _sidecar(directory, file_name, "content_type")
            result.append((AttachmentMeta(
                file_id=i, filename=file_name, content_type=content_type, size=len(content),
                disposition=_disposition(directory, file_name, content_type, content_id),
                content_id=content_id), content))
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

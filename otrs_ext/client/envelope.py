"""One logical API request as the outbox keeps it: its JSON fields, its files' bytes kept apart, and the
Idempotency-Key that makes every retry of it the same request."""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OCTET = "application/octet-stream"


@dataclass(frozen=True)
class Upload:
    """An attachment: bytes with a file name and type."""

    filename: str
    content: bytes
    content_type: str = OCTET

    @classmethod
    def of(cls, item: Upload | str | Path | tuple[Any, ...]) -> Upload:
        """An Upload from an Upload, a path, ``(filename, bytes)`` or ``(filename, bytes, content_type)``."""
        if isinstance(item, Upload):
            return item
        if isinstance(item, str | Path):
            path = Path(item)
            return cls(path.name, path.read_bytes(), mimetypes.guess_type(path.name)[0] or OCTET)
        if isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[1], bytes | bytearray):
            kind = item[2] if len(item) == 3 else mimetypes.guess_type(str(item[0]))[0] or OCTET
            return cls(str(item[0]), bytes(item[1]), kind)
        raise TypeError(f"an attachment is an Upload, a path or (filename, bytes[, content_type]), not {item!r}")


@dataclass(frozen=True)
class FileMeta:
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass
class Envelope:
    """``id`` doubles as the Idempotency-Key; ``key_fp`` names the API key it must be sent with."""

    kind: str  # create_ticket | reply
    path: str
    fields: dict[str, Any]
    files: list[FileMeta]
    base_url: str
    key_fp: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    method: str = "POST"
    created_at: float = field(default_factory=time.time)
    deadline_at: float = 0.0
    next_at: float = 0.0
    attempts: int = 0
    state: str = "pending"  # pending | dead
    last_error: str = ""
    dead_reason: str = ""
    dead_at: float = 0.0
    problem: dict[str, Any] | None = None

    @classmethod
    def build(cls, kind: str, path: str, fields: dict[str, Any], uploads: Iterable[Upload], base_url: str,
              api_key: str) -> tuple[Envelope, list[bytes]]:
        uploads = list(uploads)
        files = [FileMeta(u.filename, u.content_type, len(u.content), hashlib.sha256(u.content).hexdigest())
                 for u in uploads]
        return cls(kind, path, fields, files, base_url.rstrip("/"), key_fingerprint(api_key)), \
            [u.content for u in uploads]

    def body(self, contents: list[bytes]) -> bytes:
        """The JSON body, byte for byte the same on every attempt: the API keys its idempotency record on a
        hash of the body, so a retry that encoded differently (e.g. a new multipart boundary) would be refused."""
        document = dict(self.fields)
        if self.files:
            document["attachments"] = [
                {"filename": f.filename, "content_type": f.content_type, "content": base64.b64encode(c).decode()}
                for f, c in zip(self.files, contents, strict=True)]
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Envelope:
        data = json.loads(text)
        data["files"] = [FileMeta(**f) for f in data["files"]]
        return cls(**data)

    def summary(self) -> str:
        title = self.fields.get("title") or (self.fields.get("article") or {}).get("subject") \
            or self.fields.get("subject") or ""
        return f"{self.kind} {self.path} {title!r}"[:200]


def key_fingerprint(api_key: str) -> str:
    """Enough of a hash to tell keys apart, not to recover one: the outbox stores this, never the key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]

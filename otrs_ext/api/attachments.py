"""Attachments from a request: base64 in JSON or files of multipart/form-data (spooled by Werkzeug, not
held in memory twice), each checked against the size limit and given a content type the client cannot
use to smuggle a different kind of file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Request

from ..errors import OtrsExtError, ValidationError
from ..tickets.inputs import Attachment

# magic numbers of the types browsers render or execute when served inline
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
OCTET = "application/octet-stream"


class PayloadTooLarge(OtrsExtError):
    status = 413
    code = "too-large"


def content_type(declared: str, content: bytes) -> str:
    """The declared type, unless it claims a type whose magic number the content lacks (then octet-stream);
    a declared type without a signature check passes as sent (downloads are served with nosniff)."""
    base = (declared or OCTET).split(";")[0].strip().lower()
    signatures = SIGNATURES.get(base)
    if signatures is not None and not content.startswith(signatures):
        return OCTET
    if base in ("image/svg+xml", "text/html", "application/xhtml+xml", "text/javascript", "application/javascript"):
        return declared  # kept for the agent, but never served inline (see the download view)
    return declared or OCTET


def _checked(filename: str, declared: str, content: bytes, limit: int, where: str, **extra: Any) -> Attachment:
    if len(content) > limit:
        raise PayloadTooLarge(f"{where} ({filename}) is {len(content)} bytes; the limit per file is {limit} bytes "
                              "(OTRS_EXT_ATTACHMENT_MAX_BYTES)")
    return Attachment(filename=filename, content=content, content_type=content_type(declared, content), **extra)


def from_json(items: Sequence[Any], limit: int) -> list[Attachment]:
    return [_checked(a.filename, a.content_type, a.data(), limit, f"attachments[{i}]", disposition=a.disposition,
                     content_id=a.content_id) for i, a in enumerate(items)]


def from_multipart(request: Request, limit: int) -> tuple[dict[str, Any], list[Attachment]]:
    """Form fields (``article.subject`` style names, or one ``payload`` JSON part) and the ``attachments`` files."""
    if "payload" in request.form:
        try:
            fields = json.loads(request.form["payload"])
        except ValueError:
            raise ValidationError([("payload", "is not valid JSON")]) from None
        if not isinstance(fields, dict):
            raise ValidationError([("payload", "must be a JSON object")])
    else:
        fields = {}
        for name, value in request.form.items():
            if not name:  # a part without a name (Werkzeug gives None) cannot be a field
                raise ValidationError([("body", "every form field needs a name")])
            target = fields
            *parents, leaf = name.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
                if not isinstance(target, dict):  # "article" sent both as a value and as "article.body"
                    raise ValidationError([(name, f"{parent!r} was also sent as a plain field")])
            if isinstance(target.get(leaf), dict):
                raise ValidationError([(name, "was also sent with sub-fields")])
            target[leaf] = value
    files = []
    for i, storage in enumerate(request.files.getlist("attachments")):
        content = storage.stream.read(limit + 1)
        files.append(_checked(storage.filename or f"file-{i + 1}", storage.mimetype or OCTET, content, limit,
                              f"attachments[{i}]"))
    return fields, files

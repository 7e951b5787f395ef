"""The raw RFC 822 source OTRS keeps for every e-mail article (``article_data_mime_plain.body``).

Built by string concatenation rather than ``email.message`` because it runs for most articles of a million-row
seed; the output is still a well-formed message (encoded-word headers, 8bit text, base64 attachments).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from email.utils import formatdate

from .attachments import Attachment


def encode_header(value: str) -> str:
    """RFC 2047 encoded-word for non-ASCII header text (what mail clients send)."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def encode_address(name: str, address: str) -> str:
    return f"{encode_header(name)} <{address}>"


def _text_part(text: str, subtype: str) -> str:
    return (f"Content-Type: text/{subtype}; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}")


def _file_part(f: Attachment) -> str:
    data = base64.encodebytes(f.content).decode("ascii")
    head = f"Content-Type: {f.content_type}; name=\"{f.filename}\"\nContent-Transfer-Encoding: base64\n"
    head += f"Content-Disposition: {f.disposition or 'attachment'}; filename=\"{f.filename}\"\n"
    if f.content_id:
        head += f"Content-ID: {f.content_id}\n"
    return head + "\n" + data


def raw_email(*, headers: Sequence[tuple[str, str]], epoch: int, text: str, html: str | None,
              files: Sequence[Attachment], boundary: str) -> bytes:
    """A complete message: ``headers`` (already encoded) + Date/MIME headers + the text/HTML/file parts."""
    head = "".join(f"{k}: {v}\n" for k, v in headers if v)
    head += f"Date: {formatdate(epoch, usegmt=True)}\nMIME-Version: 1.0\n"
    body = _text_part(text, "plain")
    if html is not None:
        alt = f"alt-{boundary}"
        body = (f"Content-Type: multipart/alternative; boundary=\"{alt}\"\n\n--{alt}\n{body}\n--{alt}\n"
                f"{_text_part(html, 'html')}\n--{alt}--\n")
    if files:
        parts = [body] + [_file_part(f) for f in files]
        body = (f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n"
                "This is a multi-part message in MIME format.\n"
                + "".join(f"--{boundary}\n{p}\n" for p in parts) + f"--{boundary}--\n")
    return (head + body).encode("utf-8")

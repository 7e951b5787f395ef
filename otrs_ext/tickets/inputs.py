"""What callers hand to the ticket services, validated before anything is written.

Names (queue, state, priority, lock, type, sender type, channel) are given as OTRS names and resolved by
the services at run time. Validation collects every problem with its field path, so an API client sees all
of them in one answer.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import ValidationError

CHANNELS = ("Email", "Phone", "Internal")
SENDER_TYPES = ("agent", "customer", "system")
# the history type OTRS's own screens write for an article of this (channel, sender type)
_HISTORY_TYPES = {
    ("Phone", "agent"): "PhoneCallAgent", ("Phone", "customer"): "PhoneCallCustomer",
    ("Email", "agent"): "EmailAgent", ("Email", "customer"): "EmailCustomer", ("Email", "system"): "EmailAgent",
}


def history_for(channel: str, sender_type: str, *, web: bool = False, first: bool = False) -> tuple[str, str]:
    """(history type, comment) as OTRS's screens write them: the customer web form writes WebRequestCustomer
    for a new ticket and FollowUp for a reply; internal notes write AddNote ``%%Note``."""
    if web and sender_type == "customer":
        return ("WebRequestCustomer" if first else "FollowUp"), "%%"
    kind = _HISTORY_TYPES.get((channel, sender_type), "AddNote")
    return kind, "%%Note" if kind == "AddNote" else "%%"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    disposition: str = "attachment"  # or "inline"
    content_id: str | None = None  # without or with <...>; stored with <...>


@dataclass(frozen=True)
class NewArticle:
    body: str | bytes
    subject: str = ""
    channel: str = "Internal"
    sender_type: str = "agent"
    visible_for_customer: bool = False
    mime_type: str = "text/plain"  # or text/html
    charset: str = "utf-8"
    # the Content-Type exactly as a GI request sent it (OTRS stores it so); None: "<mime_type>; charset=<charset>"
    content_type: str | None = None
    from_: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    reply_to: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    history_type: str = "AddNote"
    history_comment: str = "%%Note"
    attachments: Sequence[Attachment] = ()
    time_units: float | None = None


@dataclass(frozen=True)
class NewTicket:
    title: str
    queue: str
    state: str = "new"
    priority: str = "3 normal"
    lock: str = "unlock"
    type: str | None = None  # default: the "Unclassified" type, as Ticket::Type::Default
    customer_id: str | None = None
    customer_user: str | None = None
    owner_id: int = 1
    responsible_id: int = 1
    dynamic_fields: dict[str, object] = field(default_factory=dict)


def text_of(value: str | bytes, path: str, problems: list[tuple[str, str]]) -> str:
    """``value`` as text; bytes must be valid UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append((path, f"is not valid UTF-8 (byte {exc.start})"))
            return ""
    return value


# fields that are one line for OTRS (a file name ends up in a Content-Disposition header): no line breaks or
# tabs either. Address and subject fields keep theirs: mail folds long headers, and OTRS stores them so.
SINGLE_LINE = frozenset({"title", "filename", "content_type", "customer_id", "customer_user"})
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f]")


def control_character(value: str, *, single_line: bool = False) -> int | None:
    """Position of the first control character ``value`` must not hold, or None."""
    found = (_CONTROL_SINGLE_LINE if single_line else _CONTROL).search(value)
    return found.start() if found else None


def validate_article(article: NewArticle, *, path: str, max_attachment_bytes: int,
                     problems: list[tuple[str, str]]) -> None:
    known = len(problems)
    body = text_of(article.body, f"{path}.body", problems)
    if len(problems) == known and not body.strip() and not article.attachments:
        problems.append((f"{path}.body", "must not be empty or only white space"))
    if article.channel not in CHANNELS:
        problems.append((f"{path}.channel", f"must be one of {', '.join(CHANNELS)}"))
    if article.sender_type not in SENDER_TYPES:
        problems.append((f"{path}.sender_type", f"must be one of {', '.join(SENDER_TYPES)}"))
    if article.mime_type not in ("text/plain", "text/html"):
        problems.append((f"{path}.mime_type", "must be text/plain or text/html"))
    if isinstance(article.body, bytes) and article.charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        problems.append((f"{path}.charset", "a body given as bytes must be utf-8; convert the text before sending it"))
    elif not _known_charset(article.charset):
        # OTRS only labels the article with it (a_content_type): the text itself is stored as text
        problems.append((f"{path}.charset", f"unknown charset {article.charset!r}"))
    for i, attachment in enumerate(article.attachments):
        where = f"{path}.attachments[{i}]"
        if not attachment.filename.strip():
            problems.append((f"{where}.filename", "must not be empty"))
        if len(attachment.filename) > 250:
            problems.append((f"{where}.filename", "is longer than 250 characters"))
        if len(attachment.content) > max_attachment_bytes:
            problems.append((f"{where}.content",
                             f"is {len(attachment.content)} bytes, over the limit of {max_attachment_bytes} bytes"))
        if attachment.disposition.lower() not in ("attachment", "inline", ""):
            problems.append((f"{where}.disposition", "must be attachment, inline or empty"))


def _known_charset(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):
        return False
    return True


def raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise ValidationError(problems)

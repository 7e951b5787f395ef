"""What the tag rules look at: the facts of one article as the database holds them now, and its mail headers.

``ArticleFacts`` is plain data (``derive`` reads it, the rules in ``rules`` match it), so the matchers are pure
functions a test can run on a hand-made article. Header values come from the raw mail OTRS keeps
(``article_data_mime_plain`` / OTRS 5's ``article_plain``), parsed with Python's ``email`` package only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses

SYSTEM_USER_ID = 1  # OTRS's system user: the mail gateway and the customer interface write as it
#: bytes of the raw mail read for its headers (headers come first; a mail's body and attachments are not needed)
HEADER_BYTES = 64 * 1024

_PARSER = BytesHeaderParser(policy=default_policy)


@dataclass(frozen=True)
class ArticleFacts:
    article_id: int
    ticket_id: int
    channel: str  # Email, Phone, Internal, Chat
    sender_type: str  # customer, agent, system
    visible_for_customer: bool
    create_by: int
    login: str | None  # users.login of create_by
    a_from: str = ""
    subject: str = ""
    history_id: int | None = None  # the first ticket_history row naming the article, when it exists
    history_type: str | None = None
    history_name: str | None = None
    queue: str | None = None  # the queue in that history row: where the ticket was when the article came
    raw_headers: bytes | None = field(default=None, repr=False)  # the start of the raw mail, when there is one

    @property
    def created_by(self) -> str:
        return "system" if self.create_by == SYSTEM_USER_ID else "agent"

    def from_addresses(self) -> list[str]:
        """The addresses of the From line, lower-cased (``"Jane" <Jane@X.test>`` -> ``jane@x.test``)."""
        return [address.strip().lower() for _, address in getaddresses([self.a_from or ""]) if address.strip()]

    def headers(self) -> EmailMessage | None:
        """The raw mail's header fields (RFC 2047 words decoded), None when the article has no raw mail."""
        if self.raw_headers is None:
            return None
        return parse_headers(self.raw_headers)


def parse_headers(raw: bytes) -> EmailMessage:
    """Only the header block of ``raw`` (which may be cut short after it): ``email`` with ``policy=default``."""
    message = _PARSER.parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy=default makes EmailMessage objects
    return message


def header_values(message: EmailMessage, name: str) -> list[str]:
    """Every value of header ``name`` (any case), RFC 2047 words decoded and folding undone; a value the policy
    cannot decode (a broken encoded word, an unknown charset) counts as its raw text."""
    wanted = name.lower()
    values: list[str] = []
    for key, raw in message.raw_items():
        if key.lower() != wanted:
            continue
        try:
            text = str(default_policy.header_fetch_parse(key, raw))
        except (ValueError, LookupError, TypeError, IndexError):
            text = str(raw)
        values.append(" ".join(text.split()))
    return values

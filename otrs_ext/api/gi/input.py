"""GenericInterface request data into the ticket core's inputs: OTRS's field names, defaults and messages.

Every refusal is a ``GiError`` whose code and message follow Znuny's (``TicketCreate.MissingParameter``,
"TicketCreate: Ticket->Title parameter is missing!"), so scripts that match on them keep working.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ...auth.service import Agent
from ...db.lookups import Lookups
from ...tickets.inputs import Attachment, NewArticle
from ..attachments import content_type as checked_content_type


class GiError(Exception):
    """An operation error: answered as ``{"Error": {"ErrorCode": "<Operation>.<code>", "ErrorMessage": ...}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def missing(op: str, what: str) -> GiError:
    return GiError("MissingParameter", f"{op}: {what} parameter is missing!")


def invalid(op: str, what: str, why: str = "") -> GiError:
    return GiError("InvalidParameter", f"{op}: {what} parameter is invalid!" + (f" ({why})" if why else ""))


def text(op: str, value: Any, what: str) -> str:
    """A scalar as text (Perl does not tell "3" from 3); lists and objects are refused."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    raise invalid(op, what, "expected a string")


# Perl's \s on text: ASCII whitespace (with \v) and Unicode's White_Space characters
_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_EDGES = re.compile(f"\\A[{_SPACE}]+|[{_SPACE}]+\\Z")


def trimmed(item: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` with leading and trailing whitespace removed from every text value, as Znuny's TicketCreate
    trims each value of Ticket, Article, DynamicField and Attachment (a body loses its final newline)."""
    return {k: _EDGES.sub("", v) if isinstance(v, str) else v for k, v in item.items()}


def flag(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return str(value).strip().lower() not in ("0", "false", "no")


def items(op: str, value: Any, what: str) -> list[Mapping[str, Any]]:
    """GI accepts one object or a list of them wherever several are allowed (Article, Attachment, DynamicField)."""
    if value is None or value == "":
        return []
    listed = value if isinstance(value, list) else [value]
    if not all(isinstance(v, dict) for v in listed):
        raise invalid(op, what, "expected an object or a list of objects")
    return listed


def ids(op: str, value: Any, what: str) -> list[int]:
    """``1``, ``"1,2"`` or ``[1, "2"]`` as ids."""
    raw = value if isinstance(value, list) else str(value).split(",")
    out = []
    for part in raw:
        part = str(part).strip()
        if not part.isdigit() or not 0 < int(part) < 2**63:
            raise invalid(op, what, f"{part!r} is not an ID")
        out.append(int(part))
    return out


def strings(op: str, value: Any, what: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    return tuple(text(op, v, what) for v in (value if isinstance(value, list) else [value]))


def name_or_id(op: str, data: Mapping[str, Any], lookups: Lookups, table: str, name_key: str, id_key: str,
               path: str) -> str | None:
    """The OTRS name of ``data[name_key]`` or ``data[id_key]`` (names win, as in OTRS); None when neither."""
    known = lookups.names(table)
    if data.get(name_key) not in (None, ""):
        name = text(op, data[name_key], f"{path}->{name_key}")
        if name not in known:
            raise invalid(op, f"{path}->{name_key}", f"unknown {name!r}")
        return name
    if data.get(id_key) not in (None, ""):
        [wanted] = ids(op, data[id_key], f"{path}->{id_key}")[:1] or [0]
        for name, ident in known.items():
            if ident == wanted:
                return name
        raise invalid(op, f"{path}->{id_key}", f"unknown ID {wanted}")
    return None


def content_type(op: str, article: Mapping[str, Any], path: str) -> tuple[str, str, str | None]:
    """(mime type, charset, Content-Type as sent or None) from ``ContentType`` or from ``MimeType`` +
    ``Charset``, lower-cased as OTRS lower-cases them; OTRS keeps the charset (and a ContentType with one) as
    sent: it only labels the text."""
    as_sent = None
    if article.get("ContentType"):
        value = text(op, article["ContentType"], f"{path}->ContentType").lower()
        mime = value.split(";")[0].strip()
        found = re.search(r"\bcharset=([\"']?)([^\s\"';]+)", value)
        charset = found.group(2) if found else "utf-8"
        as_sent = value if found else None
        where = f"{path}->ContentType"
    elif article.get("MimeType") and article.get("Charset"):
        mime = text(op, article["MimeType"], f"{path}->MimeType").strip().lower()
        charset = text(op, article["Charset"], f"{path}->Charset").strip().lower()
        where = f"{path}->Charset"
    else:
        raise missing(op, f"{path}->ContentType or {path}->MimeType and {path}->Charset")
    if mime not in ("text/plain", "text/html"):
        raise invalid(op, f"{path}->ContentType", "otrs-ext writes text/plain or text/html articles")
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):
        raise invalid(op, where, f"unknown charset {charset!r}") from None
    return mime, charset, as_sent


def attachments(op: str, value: Any, limit: int) -> list[Attachment]:
    files = []
    for i, item in enumerate(items(op, value, "Attachment")):
        where = f"Attachment[{i}]"
        for key in ("Content", "ContentType", "Filename"):
            if item.get(key) in (None, ""):
                raise missing(op, f"{where}->{key}")
        try:
            # lenient like Perl's decode_base64: line breaks and stray characters are skipped
            content = base64.b64decode(text(op, item["Content"], f"{where}->Content"), validate=False)
        except (binascii.Error, ValueError):
            raise invalid(op, f"{where}->Content", "not base64") from None
        if len(content) > limit:
            raise invalid(op, f"{where}->Content", f"{len(content)} bytes, over the limit of {limit} bytes")
        declared = text(op, item["ContentType"], f"{where}->ContentType").lower()
        # OTRS stores what comes before a ";" of the Disposition given, and '' without one
        disposition = text(op, item["Disposition"], f"{where}->Disposition").split(";")[0] \
            if item.get("Disposition") not in (None, "", "0", 0) else ""
        if disposition.lower() not in ("attachment", "inline", ""):
            raise invalid(op, f"{where}->Disposition", "use attachment or inline")
        files.append(Attachment(filename=text(op, item["Filename"], f"{where}->Filename"), content=content,
                                content_type=checked_content_type(declared, content), disposition=disposition,
                                content_id=item.get("ContentID") or None))
    return files


def article(op: str, raw: Mapping[str, Any], path: str, *, agent: Agent, customer_user: str, first: bool,
            files: list[Attachment], from_: str | None = None, to: str = "",
            history: tuple[str, str] | None = None) -> NewArticle:
    """An article of the request. ``from_``, ``to`` and ``history`` (type, comment) are the defaults for fields
    the request leaves out; without them: the customer user for a customer's article, else the agent, and
    NewTicket / AddNote."""
    for key in ("Subject", "Body"):
        if raw.get(key) in (None, ""):
            raise missing(op, f"{path}->{key}")
    mime, charset, as_sent = content_type(op, raw, path)
    sender = text(op, raw.get("SenderType") or "agent", f"{path}->SenderType")
    if sender not in ("agent", "customer", "system"):
        raise invalid(op, f"{path}->SenderType")
    channel = text(op, raw.get("CommunicationChannel") or "Internal", f"{path}->CommunicationChannel")
    if channel not in ("Email", "Phone", "Internal"):
        raise invalid(op, f"{path}->CommunicationChannel", "use Email, Phone or Internal")
    from_default = from_ if from_ is not None else (customer_user if sender == "customer" and customer_user
                                                    else agent.from_)
    history_default = history or (("NewTicket", "%%GenericInterface Create") if first else
                                  ("AddNote", "%%GenericInterface Note"))
    time_unit = raw.get("TimeUnit")
    try:
        time_units = float(time_unit) if time_unit not in (None, "") else None
    except (TypeError, ValueError):
        raise invalid(op, f"{path}->TimeUnit") from None

    def field(key: str, default: str = "") -> str:
        return text(op, raw[key], f"{path}->{key}") if raw.get(key) not in (None, "") else default

    return NewArticle(
        body=text(op, raw["Body"], f"{path}->Body"), subject=field("Subject"), channel=channel, sender_type=sender,
        visible_for_customer=flag(raw.get("IsVisibleForCustomer"), default=True), mime_type=mime, charset=charset,
        content_type=as_sent, from_=field("From", from_default), to=field("To", to), cc=field("Cc"),
        bcc=field("Bcc"), reply_to=field("ReplyTo"), message_id=field("MessageID"), in_reply_to=field("InReplyTo"),
        references=field("References"),
        history_type=field("HistoryType", history_default[0]),
        history_comment=field("HistoryComment", history_default[1]),
        attachments=files, time_units=time_units,
    )


def dynamic_fields(op: str, value: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for i, item in enumerate(items(op, value, "DynamicField")):
        if not item.get("Name"):
            raise missing(op, f"DynamicField[{i}]->Name")
        if "Value" not in item:
            raise missing(op, f"DynamicField[{i}]->Value")
        field_value = item["Value"]
        if isinstance(field_value, dict):
            raise invalid(op, f"DynamicField[{i}]->Value")
        fields[text(op, item["Name"], f"DynamicField[{i}]->Name")] = field_value
    return fields


def pending_time(op: str, value: Any, timezone: str, *, diff_from_now: bool = True) -> datetime | timedelta | None:
    """``{Year, Month, Day, Hour, Minute}`` as a naive time in OTRS's time zone, or ``{Diff: minutes}``: from
    now, or (``diff_from_now=False``) as the timedelta, for the write to add to its own moment as OTRS does."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        raise invalid(op, "Ticket->PendingTime")
    try:
        if "Diff" in value:
            diff = timedelta(minutes=int(value["Diff"]))
            if not diff_from_now:
                return diff
            now = datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)
            return now + diff
        return datetime(int(value["Year"]), int(value["Month"]), int(value["Day"]), int(value.get("Hour", 0)),
                        int(value.get("Minute", 0)))
    except (KeyError, TypeError, ValueError, OverflowError):
        raise invalid(op, "Ticket->PendingTime", "give Year, Month, Day, Hour, Minute or Diff (minutes)") from None

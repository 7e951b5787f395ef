"""A ticket's dynamic field value set as OTRS's field backends set it, type by type.

What was observed in Znuny 7.0 (``DynamicFieldValueSet`` through the oracle, as the agent screens call it) and
is reproduced here:

* A set that does not change the value writes nothing. "Unchanged" compares the stored and the new value as
  text, and a missing value equals ``""`` (so clearing an empty field is a no-op).
* Otherwise the field's rows are deleted and the new ones inserted, then ``ticket.change_time``/``change_by``
  are bumped and one ``TicketDynamicFieldUpdate`` row is written:
  ``%%FieldName%%<name>%%Value%%<new>%%OldValue%%<old>``, the values rendered readable and the three parts
  shortened with ``[...]`` when together they exceed 166 characters.
* Clearing: ``None`` deletes the rows of every type. ``""`` deletes them for Text, TextArea, Dropdown and
  Multiselect; a Checkbox stores ``""`` as 0 (unchecked); a Date or DateTime stores ``""`` as one row with
  every value column NULL - what the agent screens write when "use this date" is unticked.
* A Multiselect stores one row per value, in the given order, up to the first empty one; so does a field of a
  type otrs-ext does not know (web service fields, add-ons) given a list, and such a field takes one value as
  a Text does.
* History texts: a Checkbox shows its stored number (``1``/``0``), a Date its day (``2025-12-24``), a
  DateTime the whole timestamp, a Multiselect its non-empty values joined by ``", "``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from itertools import takewhile
from typing import Any

from sqlalchemy import delete, select

from ..errors import ValidationError
from . import otrs_cache
from .write import Row, Write

DATE_TYPES = ("Date", "DateTime")
KNOWN = ("Text", "TextArea", "Dropdown", "Multiselect", "Checkbox", *DATE_TYPES)
TIMESTAMP = "%Y-%m-%d %H:%M:%S"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
HISTORY_ROOM = 166  # the 200 characters of ticket_history.name minus the fixed %%FieldName%%... parts
PART_CUT = 55  # an old value longer than this is cut first
CUT_TO = 50
ELLIPSIS = "[...]"


def set_value(w: Write, ticket: Row, field_name: str, value: Any) -> Row:
    """Set ticket ``ticket``'s value of the ticket dynamic field ``field_name``; returns the ticket."""
    df, dfv = w.schema.tables.dynamic_field, w.schema.tables.dynamic_field_value
    field = w.conn.execute(select(df).where(df.c.name == field_name, df.c.object_type == "Ticket")).mappings().first()
    if field is None:
        raise ValidationError([(f"dynamic_fields.{field_name}", "no ticket dynamic field has this name")])
    kind = field["field_type"]
    if kind not in KNOWN and isinstance(value, list | tuple):
        kind = "Multiselect"  # a web service or add-on field given several values: one row each, like these
    column = _column(kind)
    new = _checked(kind, value, f"dynamic_fields.{field_name}")
    stored = [r[0] for r in w.conn.execute(
        select(dfv.c[column]).where(dfv.c.field_id == field["id"], dfv.c.object_id == ticket["id"]).order_by(dfv.c.id))]
    old = _current(kind, stored)
    if _same(kind, old, new):
        return ticket
    w.conn.execute(delete(dfv).where(dfv.c.field_id == field["id"], dfv.c.object_id == ticket["id"]))
    w.fields_written.add((ticket["id"], field_name))
    rows = _rows(kind, new)
    if rows:
        w.conn.execute(dfv.insert(), [{"field_id": field["id"], "object_id": ticket["id"],
                                       "value_text": None, "value_date": None, "value_int": None, **row}
                                      for row in rows])
    ticket = w.update_ticket(ticket)
    w.history(ticket, "TicketDynamicFieldUpdate", history_name(field_name, _readable(kind, new), _readable(kind, old)))
    w.stale.extend(otrs_cache.dynamic_field_keys(ticket["id"]))
    return ticket


def history_name(field_name: str, value: str, old: str) -> str:
    """``%%FieldName%%..%%Value%%..%%OldValue%%..``, shortened to fit 200 characters as OTRS shortens it: first
    a long old value, then the name and the new value share what is left."""
    if len(field_name) + len(value) + len(old) > HISTORY_ROOM:
        if len(old) > PART_CUT:
            old = old[:CUT_TO] + ELLIPSIS
        half = (HISTORY_ROOM - len(old)) // 2
        if len(field_name) > half:
            if len(value) > half:
                field_name = field_name[:half - len(ELLIPSIS)] + ELLIPSIS
                value = value[:half - len(ELLIPSIS)] + ELLIPSIS
            else:
                field_name = field_name[:HISTORY_ROOM - len(old) - len(value) - len(ELLIPSIS)] + ELLIPSIS
        else:
            room = HISTORY_ROOM - len(old) - len(field_name) - len(ELLIPSIS)
            if len(value) > room:
                value = value[:room] + ELLIPSIS
    return f"%%FieldName%%{field_name}%%Value%%{value}%%OldValue%%{old}"


def _column(kind: str) -> str:
    if kind in DATE_TYPES:
        return "value_date"
    if kind == "Checkbox":
        return "value_int"
    return "value_text"


def perl_text(value: Any) -> str | None:
    """A value as the text Perl compares and prints (OTRS compares values with ``eq``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime(TIMESTAMP)
    return str(value)


def _checked(kind: str, value: Any, path: str) -> Any:
    """The value in the form OTRS's backend receives it: text (or None), a list of texts for a Multiselect."""
    if kind == "Multiselect":
        if isinstance(value, list | tuple):
            if any(isinstance(v, dict | list | tuple) for v in value):
                raise ValidationError([(path, "a multiselect takes a list of values")])
            return [perl_text(v) for v in value]
        if isinstance(value, dict):
            raise ValidationError([(path, "a multiselect takes a list of values")])
        return perl_text(value)
    if isinstance(value, dict | list | tuple):
        raise ValidationError([(path, f"a {kind} field takes one value")])
    if kind == "Checkbox":
        text = perl_text(value)
        if text not in (None, "", "0", "1"):
            raise ValidationError([(path, "a checkbox takes 1 (checked), 0 (unchecked) or null")])
        return text
    if kind in DATE_TYPES:
        return _timestamp(kind, value, path)
    return perl_text(value)


def _timestamp(kind: str, value: Any, path: str) -> str | None:
    """The timestamp as OTRS compares and prints it: ``YYYY-MM-DD HH:MM:SS`` (from a datetime, a date or an ISO
    string), or a Date's ``YYYY-MM-DD`` as given (stored at midnight). A Date's time must be midnight."""
    if value is None or value == "":
        return value
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError([(path, "a date takes YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")]) from None
    else:
        raise ValidationError([(path, "a date takes YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")])
    if kind == "Date" and moment.time() != time(0, 0):
        raise ValidationError([(path, "a Date field's time must be 00:00:00; use a DateTime field for times")])
    if kind == "Date" and isinstance(value, str) and DAY.fullmatch(value):
        return value  # OTRS compares and shows the day as given, and stores it at midnight
    return moment.replace(tzinfo=None, microsecond=0).strftime(TIMESTAMP)


def _current(kind: str, stored: list[Any]) -> Any:
    """The value OTRS's ValueGet returns: None without rows, the list of all rows' texts for a Multiselect,
    else the first row's value."""
    if not stored:
        return None
    if kind == "Multiselect":
        return [perl_text(v) for v in stored]
    return perl_text(stored[0])


def _same(kind: str, old: Any, new: Any) -> bool:
    if kind == "Multiselect":
        # an empty selection equals no value; a list never equals a single value
        if old is None and isinstance(new, list):
            return not new
        if isinstance(old, list) != isinstance(new, list):
            return False
        return old == new
    if (old is None and new == "") or (new is None and old == ""):
        return True
    return old == new


def _rows(kind: str, new: Any) -> list[dict[str, Any]]:
    if kind == "Multiselect":
        values = new if isinstance(new, list) else [new]
        return [{"value_text": v} for v in takewhile(lambda v: v is not None and v != "", values)]
    if new is None:
        return []
    if kind == "Checkbox":
        return [{"value_int": 1 if new == "1" else 0}]
    if kind in DATE_TYPES:
        # "" is one row with every column NULL; a day alone is stored at midnight
        return [{"value_date": (new + " 00:00:00" if DAY.fullmatch(new) else new) if new else None}]
    return [{"value_text": new}] if new != "" else []


def _readable(kind: str, value: Any) -> str:
    if kind == "Multiselect":
        values = value if isinstance(value, list) else [value]
        # Perl's truth: None, "" and "0" are left out
        return ", ".join(v for v in values if v not in (None, "", "0"))
    if value is None:
        return ""
    if kind == "Date":
        return re.sub(r"\A(\d{4}-\d{2}-\d{2}).+?\Z", r"\1", value, flags=re.DOTALL)
    return value

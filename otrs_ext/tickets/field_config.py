"""What a ticket dynamic field accepts, read from its row (``dynamic_field``: type, validity and the YAML
``config``), checked before a value is written.

These are the refusals of Znuny's field backends (``FieldValueValidate``/``ValueValidate``, which its
GenericInterface runs on every DynamicField of a TicketCreate/TicketUpdate), restated from their behaviour:

* only valid ticket fields can be set (OTRS's operations and screens list no others);
* Dropdown: one of the keys of ``PossibleValues``; Multiselect: a list of them (or one); ``""``/``null`` and
  ``[]`` clear. A field row without any ``PossibleValues`` entry (no OTRS admin screen makes one; Znuny refuses
  every value then) is not restricted here: otrs-ext's own test fixtures are such rows;
* Checkbox: 1, 0 (or true/false);
* Date: ``YYYY-MM-DD`` (a time of exactly 00:00:00 is allowed); DateTime: ``YYYY-MM-DD HH:MM[:SS]`` (a ``T``
  instead of the space and a UTC offset are allowed; an offset is converted to OTRS's time zone);
  ``DateRestriction`` ``DisablePastDates``/``DisableFutureDates`` against now (a Date field: today passes both);
* Text, TextArea: text matching every ``RegExList`` expression (Perl's ``\\z``/``\\Z`` translated; an expression
  Python cannot compile is skipped with a warning rather than blocking every write).

Types otrs-ext does not know (web service fields, add-ons) take text or a list of texts unchecked. The
shapes and how a value is then stored are ``dynamic_fields.set_value``'s business.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Connection, select

from schema_maps import OtrsSchema

from ..db.perl_yaml import load_perl_yaml

log = logging.getLogger(__name__)
VALID_ID = 1
SELECTS = ("Dropdown", "Multiselect")
TEXTS = ("Text", "TextArea")
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\Z")
_DATETIME = re.compile(r"\A\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?\Z")


@dataclass(frozen=True)
class Field:
    name: str
    field_type: str
    valid: bool
    config: Mapping[str, Any]


def parse_config(raw: bytes | str | None) -> dict[str, Any]:
    """The field's ``config`` column as a dict of strings, lists and dicts; {} when empty or unreadable."""
    try:
        loaded = load_perl_yaml(raw)
    except yaml.YAMLError as error:
        log.warning("unreadable dynamic field config: %s", error, extra={"event": "dynamic_field_config"})
        return {}
    return loaded if isinstance(loaded, dict) else {}


def load(conn: Connection, schema: OtrsSchema, name: str) -> Field | None:
    df = schema.tables.dynamic_field
    row = conn.execute(select(df.c.name, df.c.field_type, df.c.valid_id, df.c.config)
                       .where(df.c.name == name, df.c.object_type == "Ticket")).first()
    if row is None:
        return None
    return Field(name=row.name, field_type=row.field_type, valid=row.valid_id == VALID_ID,
                 config=parse_config(row.config))


def known_names(conn: Connection, schema: OtrsSchema) -> list[str]:
    df = schema.tables.dynamic_field
    return list(conn.scalars(select(df.c.name).where(df.c.object_type == "Ticket", df.c.valid_id == VALID_ID)
                             .order_by(df.c.name)))


def check_value(conn: Connection, schema: OtrsSchema, name: str, value: Any, *, now: datetime, timezone: str,
                path: str, name_path: str, problems: list[tuple[str, str]]) -> Any:
    """``value`` for the ticket field ``name`` as it is to be written (date-times in OTRS's time zone), or
    the value unchanged with a ``(path, message)`` added to ``problems`` for each refusal."""
    field = load(conn, schema, name)
    if field is None or not field.valid:
        known = ", ".join(known_names(conn, schema)[:30]) or "none"
        problems.append((name_path, f"no ticket dynamic field {name!r}; known: {known}" if field is None else
                         f"the dynamic field {name!r} is invalid in OTRS; set it valid in the admin interface first"))
        return value
    return FieldCheck(field, now, timezone, problems).value(value, path)


class FieldCheck:
    def __init__(self, field: Field, now: datetime, timezone: str, problems: list[tuple[str, str]]) -> None:
        self.field, self.now, self.timezone, self.problems = field, now, timezone, problems

    def value(self, value: Any, path: str) -> Any:
        kind = self.field.field_type
        if kind == "Multiselect" or (kind not in (*SELECTS, *TEXTS, "Checkbox", "Date", "DateTime")
                                     and isinstance(value, list | tuple)):
            return self._many(value, path)
        if not self._scalar(value, path):
            return value
        if kind == "Checkbox":
            if value not in (None, "", 0, 1, "0", "1"):  # True/False compare equal to 1/0
                self.problems.append((path, "a checkbox takes 1 (checked), 0 (unchecked) or null"))
            return value
        if kind in ("Date", "DateTime"):
            return self._date(value, path)
        if value is None or value == "":
            return value
        if kind == "Dropdown":
            self._possible(_text(value), path)
        elif kind in TEXTS:
            self._matches(_text(value), path)
        return value

    def _scalar(self, value: Any, path: str) -> bool:
        if isinstance(value, dict | list | tuple) or (isinstance(value, bool) and self.field.field_type != "Checkbox"):
            self.problems.append((path, f"the {self.field.field_type} field {self.field.name!r} takes one value"))
            return False
        if self.field.field_type in ("Date", "DateTime") and isinstance(value, datetime | date):
            return True
        if value is not None and not isinstance(value, str | int | float):
            self.problems.append((path, "must be text or a number"))
            return False
        return True

    def _many(self, value: Any, path: str) -> Any:
        if value is None or value == "":
            return value
        items = list(value) if isinstance(value, list | tuple) else [value]
        for i, item in enumerate(items):
            where = f"{path}[{i}]" if isinstance(value, list | tuple) else path
            if isinstance(item, dict | list | tuple | bool) or not isinstance(item, str | int | float):
                self.problems.append((where, "must be text (a list holds one text per selected value)"))
            elif item == "":
                self.problems.append((where, "an empty value cannot be stored; send [] or null to clear the field"))
            elif self.field.field_type == "Multiselect":
                self._possible(_text(item), where)
        return value

    def _possible(self, text: str, path: str) -> None:
        possible = self.field.config.get("PossibleValues")
        if possible is None:
            return  # a hand-made field row (see the module docstring)
        keys = possible if isinstance(possible, dict) else {}
        if text not in keys:
            shown = ", ".join(repr(k) for k in list(keys)[:30]) or "none configured"
            self.problems.append((path, f"{text!r} is not a possible value of {self.field.name!r}; possible: {shown}"))

    def _matches(self, text: str, path: str) -> None:
        rules = self.field.config.get("RegExList")
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict) or not isinstance(rule.get("Value"), str) or not rule["Value"]:
                continue
            try:
                pattern = re.compile(_python_regex(rule["Value"]))
            except re.error as error:
                log.warning("dynamic field %s: RegEx %r is not usable here (%s); not checked", self.field.name,
                            rule["Value"], error, extra={"event": "dynamic_field_regex"})
                continue
            if pattern.search(text) is None:
                why = rule.get("ErrorMessage") if isinstance(rule.get("ErrorMessage"), str) else ""
                self.problems.append((path, f"does not match /{rule['Value']}/" + (f" ({why})" if why else "")))
                return

    def _date(self, value: Any, path: str) -> Any:
        if value is None or value == "":
            return value
        kind = self.field.field_type
        moment = self._moment(value)
        if moment is None:
            self.problems.append((path, "must be a date, YYYY-MM-DD" if kind == "Date" else
                                  "must be a date and time, YYYY-MM-DD HH:MM:SS (or HH:MM, or ISO 8601 with an "
                                  "offset)"))
            return value
        if kind == "Date" and moment.time() != time(0):
            self.problems.append((path, "a Date field takes a day without a time (or 00:00:00)"))
            return value
        restriction = self.field.config.get("DateRestriction")
        if kind == "Date":
            earliest = datetime.combine(self.now.date(), time(0))
            latest = datetime.combine(self.now.date(), time(23, 59, 59))
        else:
            earliest = latest = self.now
        if restriction == "DisablePastDates" and moment < earliest:
            self.problems.append((path, f"{self.field.name!r} takes no dates in the past"))
        elif restriction == "DisableFutureDates" and moment > latest:
            self.problems.append((path, f"{self.field.name!r} takes no dates in the future"))
        return moment

    def _moment(self, value: Any) -> datetime | None:
        """A naive datetime in OTRS's time zone, or None when ``value`` is no valid date (time)."""
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(0))
        elif isinstance(value, str):
            text = value.strip()
            shape = _DATE if self.field.field_type == "Date" else _DATETIME
            if not shape.match(text):
                return None
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:  # 2026-02-30
                return None
        else:
            return None
        if moment.tzinfo is not None:
            moment = moment.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None)
        if moment.microsecond:
            return None
        return moment


def _text(value: Any) -> str:
    """A value as Perl compares it with the config's keys (1.0 is "1")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _python_regex(perl: str) -> str:
    """Perl's end anchors in Python's spelling: ``\\z`` is Python's ``\\Z``; Perl's ``\\Z`` also allows a final
    newline. Escaped backslashes are kept: each ``\\x`` pair is read as one unit."""
    swap = {"z": r"\Z", "Z": r"(?=\n?\Z)"}
    return re.sub(r"\\(.)", lambda m: swap.get(m.group(1), m.group(0)), perl, flags=re.DOTALL)

"""What a ``ticket_history`` row says the ticket's columns changed to (and from, where OTRS recorded it).

The polling source has no row images: it reads a setter's change back from the history row the setter
wrote (OTRS_INTERNALS §4.4, §5). The *after* value comes from the history name or from the row's snapshot
columns (``queue_id, owner_id, priority_id, state_id, type_id`` hold the ticket as it was after the change);
the *before* value from the name when OTRS put it there (Move, PriorityUpdate, TypeUpdate, ServiceUpdate,
SLAUpdate, TitleUpdate, StateUpdate), else it is ``UNKNOWN`` and the caller fills it from what it knows.

Values are raw ``ticket`` column values (``user_id``, ``ticket_lock_id`` ...), as a binlog row image has them.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

UNKNOWN: Any = object()  # a before value the history row does not carry

# history types whose rows describe a change of ticket columns
CHANGE_TYPES = ("Move", "OwnerUpdate", "ResponsibleUpdate", "StateUpdate", "PriorityUpdate", "Lock", "Unlock",
                "Misc", "TitleUpdate", "TypeUpdate", "ServiceUpdate", "SLAUpdate", "CustomerUpdate",
                "SetPendingTime", "ArchiveFlagUpdate")
NO_PENDING_TIME = "00-00-00 00:00"


def parts(name: str) -> list[str]:
    """The ``%%``-separated parts of a history name (OTRS_INTERNALS §5); [] for a free-text name."""
    return name[2:].split("%%") if name.startswith("%%") else []


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _at(values: list[str], index: int) -> str | None:
    return values[index] if index < len(values) else None


def pending_epoch(shown: str, timezone: str) -> int | None:
    """``until_time`` of a ``SetPendingTime`` name (``YYYY-MM-DD HH:MM`` in OTRSTimeZone; the reset is 0)."""
    if shown == NO_PENDING_TIME:
        return 0
    try:
        local = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(timezone))
    except ValueError:
        return None
    return calendar.timegm(local.utctimetuple())


def decode(history_type: str, row: Mapping[str, Any], names: Mapping[str, Mapping[str, int]],
           timezone: str = "UTC") -> dict[str, tuple[Any, Any]]:
    """ticket column -> (before or UNKNOWN, after) that this history row records; {} for other rows.

    ``names`` are the lookups by uniform table (``ticket_state``, ``ticket_lock_type``) name -> id.
    """
    p = parts(row.get("name") or "")
    if history_type == "Move":
        # %%new queue%%new id%%old queue%%old id
        old = _int(_at(p, 3))
        return {"queue_id": (UNKNOWN if old is None else old, _int(_at(p, 1)) or row["queue_id"])}
    if history_type == "OwnerUpdate":
        return {"user_id": (UNKNOWN, row["owner_id"])}
    if history_type == "ResponsibleUpdate":
        new = _int(_at(p, 1))
        return {"responsible_user_id": (UNKNOWN, new)} if new is not None else {}
    if history_type == "StateUpdate":
        # %%old name%%new name%%; the snapshot holds the new id
        old = names.get("ticket_state", {}).get(_at(p, 0) or "")
        return {"ticket_state_id": (UNKNOWN if old is None else old, row["state_id"])}
    if history_type == "PriorityUpdate":
        # %%old%%old id%%new%%new id
        old = _int(_at(p, 1))
        return {"ticket_priority_id": (UNKNOWN if old is None else old, _int(_at(p, 3)) or row["priority_id"])}
    if history_type in ("Lock", "Unlock", "Misc"):
        lock = {"Lock": "lock", "Unlock": "unlock"}.get(history_type) or (_at(p, 0) if p else None)
        lock_id = names.get("ticket_lock_type", {}).get(lock or "")
        return {} if lock_id is None else {"ticket_lock_id": (UNKNOWN, lock_id)}
    if history_type == "TitleUpdate":
        # %%old title%%new title (cut to 50 characters + "..."): the caller completes a cut title
        return {"title": (_at(p, 0) if p else UNKNOWN, _at(p, 1))} if len(p) >= 2 else {}
    if history_type in ("TypeUpdate", "ServiceUpdate", "SLAUpdate"):
        # %%new%%new id%%old%%old id (an absent service/SLA id is empty)
        column = {"TypeUpdate": "type_id", "ServiceUpdate": "service_id", "SLAUpdate": "sla_id"}[history_type]
        new = _int(_at(p, 1))
        if history_type == "TypeUpdate" and new is None:
            new = row["type_id"]
        old: Any = _int(_at(p, 3)) if len(p) > 3 else UNKNOWN
        return {column: (old, new)}
    if history_type == "CustomerUpdate":
        # %%CustomerID=x;CustomerUser=y; with only the values the call was given
        columns = {"CustomerID": "customer_id", "CustomerUser": "customer_user_id"}
        found: dict[str, tuple[Any, Any]] = {}
        for pair in "%%".join(p).split(";"):
            key, sep, value = pair.partition("=")
            if sep and key in columns:
                found[columns[key]] = (UNKNOWN, value)
        return found
    if history_type == "SetPendingTime":
        until = pending_epoch(_at(p, 0) or "", timezone)
        return {} if until is None else {"until_time": (UNKNOWN, until)}
    if history_type == "ArchiveFlagUpdate":
        flag = _at(p, 0)
        return {"archive_flag": (UNKNOWN, 1 if flag == "y" else 0)} if flag in ("y", "n") else {}
    return {}

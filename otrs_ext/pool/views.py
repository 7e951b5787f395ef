"""The pool and points as JSON-ready dicts and CSV: what the API answers, the screens show and the CLI prints."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..jsonable import jsonable
from .assign import PoolStatus
from .ledger import Balance, Entry, MonthReport


def status_view(status: PoolStatus, settings: Any) -> dict[str, Any]:
    ticket = status.ticket
    body: dict[str, Any] = {"in_pool": status.in_pool, "place": status.place, "waiting": status.waiting,
                            "agents": status.agents, "ticket": None}
    if ticket is not None:
        body["ticket"] = {
            "id": ticket.ticket_id, "number": ticket.tn, "title": ticket.title, "points": str(ticket.points),
            "queue": ticket.queue, "customer": ticket.customer_user or ticket.customer_id,
            "customer_user": ticket.customer_user, "customer_id": ticket.customer_id,
            "created": jsonable(ticket.created), "age_seconds": int(ticket.age_seconds),
            "position": ticket.position, "assigned_at": jsonable(ticket.assigned_at),
            "zoom_url": zoom_url(settings, ticket.ticket_id)}
    return body


def zoom_url(settings: Any, ticket_id: int) -> str:
    base = str(getattr(settings, "otrs_base_url", "") or "")
    if base and not base.endswith("/"):
        base += "/"
    return f"{base}index.pl?Action=AgentTicketZoom;TicketID={ticket_id}"


def entry_view(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "agent_id": entry.agent_id, "ticket_id": entry.ticket_id, "kind": entry.kind,
            "points": str(entry.points), "reason": entry.reason, "by_agent_id": entry.by_agent_id,
            "rule": entry.rule, "credit_id": entry.credit_id, "occurred_at": jsonable(entry.occurred_at)}


def balance_view(balance: Balance) -> dict[str, str]:
    return {"confirmed": str(balance.confirmed), "penalties": str(balance.penalties),
            "adjustments": str(balance.adjustments), "pending": str(balance.pending), "total": str(balance.total)}


def report_view(found: MonthReport) -> dict[str, Any]:
    return {"month": found.month,
            "agents": [{"agent_id": a.agent_id, "login": a.login, "name": a.name, "departments": list(a.departments),
                        "entries": a.entries, **balance_view(a.balance)} for a in found.agents],
            "departments": [{"group_id": d.group_id, "name": d.name, "agents": d.agents,
                             "confirmed": str(d.confirmed), "penalties": str(d.penalties),
                             "adjustments": str(d.adjustments), "pending": str(d.pending), "total": str(d.total)}
                            for d in found.departments]}


REPORT_COLUMNS = ("login", "name", "departments", "entries", "confirmed", "penalties", "adjustments", "pending",
                  "total")


def report_csv(found: MonthReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for a in found.agents:
        b = balance_view(a.balance)
        writer.writerow([a.login, a.name, ";".join(a.departments), a.entries, b["confirmed"], b["penalties"],
                         b["adjustments"], b["pending"], b["total"]])
    return out.getvalue()

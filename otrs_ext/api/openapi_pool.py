"""The OpenAPI paths of the pool and points routes (``otrs_ext.api.pool``), merged into ``openapi.document``.

``GET /pool/events`` is a Server-Sent Events stream that stays open for minutes: it is documented here (as
``text/event-stream``) but a fuzzer that reads answers to their end cannot call it; tests/api/test_schemathesis.py
leaves it out and tests/api/test_pool_api.py reads it instead.
"""

from __future__ import annotations

from typing import Any

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_TEXT = {401: "no or unknown API key", 403: "intake keys and customer tokens; another agent's points (not a head)",
         404: "no such agent", 409: "the agent is in the pool in another session (X-Pool-Session)",
         422: "invalid input, with a path per field; no pool queue for the agent",
         429: "rate limited per agent (Retry-After)"}


def _problems(*statuses: int) -> dict[str, Any]:
    return {str(s): {"description": _TEXT[s], "content": _PROBLEM} for s in statuses}


def _ok(schema: dict[str, Any], status: str = "200", description: str = "done") -> dict[str, Any]:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


_MONEY = {"type": "string", "description": "a decimal number of points, e.g. 12.50"}
TICKET = {"type": "object", "required": ["id", "number", "title", "points", "customer", "age_seconds", "zoom_url"],
          "properties": {"id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"},
                         "points": _MONEY, "queue": {"type": "string"}, "customer": {"type": ["string", "null"]},
                         "customer_user": {"type": ["string", "null"]}, "customer_id": {"type": ["string", "null"]},
                         "created": {"type": "string"}, "age_seconds": {"type": "integer"},
                         "position": {"type": "integer"}, "assigned_at": {"type": "string"},
                         "zoom_url": {"type": "string", "description": "the ticket in OTRS's AgentTicketZoom"}}}
STATUS = {"type": "object", "required": ["ticket", "in_pool", "place", "waiting", "agents"], "properties": {
    "ticket": {"oneOf": [TICKET, {"type": "null"}], "description": "the agent's pool ticket; null while waiting"},
    "in_pool": {"type": "boolean"},
    "place": {"type": ["integer", "null"], "description": "1 = first in the agents' line; null when not waiting"},
    "waiting": {"type": "integer", "description": "agents waiting for a ticket"},
    "agents": {"type": "integer", "description": "agents in the pool"}}}
BALANCE = {"type": "object", "required": ["confirmed", "penalties", "adjustments", "pending", "total"],
           "properties": {k: _MONEY for k in ("confirmed", "penalties", "adjustments", "pending", "total")}}
ENTRY = {"type": "object", "required": ["id", "agent_id", "kind", "points", "occurred_at"], "properties": {
    "id": {"type": "integer"}, "agent_id": {"type": "integer"}, "ticket_id": {"type": ["integer", "null"]},
    "kind": {"enum": ["credit", "confirm", "penalty", "adjust"]}, "points": _MONEY, "reason": {"type": "string"},
    "by_agent_id": {"type": ["integer", "null"]}, "rule": {"type": ["string", "null"]},
    "credit_id": {"type": ["integer", "null"]}, "occurred_at": {"type": "string"}}}
SESSION = {"name": "X-Pool-Session", "in": "header", "required": False,
           "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$"},
           "description": "the client's pool session (default: one per API key); one open session per agent"}
MONTH = {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}}

POOL_PATHS: dict[str, Any] = {
    "/pool/enter": {"post": {
        "summary": "Enter the pool (agent keys): wait in the agents' line for one ticket, the oldest eligible",
        "parameters": [SESSION],
        "responses": {**_ok(STATUS), **_problems(401, 403, 404, 409, 422, 429)}}},
    "/pool/leave": {"post": {
        "summary": "Leave the pool; an unanswered pool ticket is unlocked (and penalised)", "parameters": [SESSION],
        "responses": {**_ok(STATUS), **_problems(401, 403, 409, 422, 429)}}},
    "/pool/current": {"get": {
        "summary": "The agent's pool ticket or null with his place in line; a heartbeat for his session",
        "parameters": [SESSION], "responses": {**_ok(STATUS), **_problems(401, 403, 422, 429)}}},
    "/pool/events": {"get": {
        "summary": "Server-Sent Events of the agent's pool: status, assigned, released, confirmed; keep-alive "
                   "comments are the session's heartbeats",
        "parameters": [SESSION],
        "responses": {"200": {"description": "the event stream", "content": {"text/event-stream": {
            "schema": {"type": "string"}}}}, **_problems(401, 403, 429)}}},
    "/points": {"get": {
        "summary": "Ledger entries and balance of an agent in a month (own; heads of support: their departments)",
        "parameters": [{"name": "agent", "in": "query", "schema": {"type": "string"},
                        "description": "login or id; default the key's agent"}, MONTH],
        "responses": {**_ok({"type": "object", "required": ["agent_id", "month", "balance", "items"], "properties": {
            "agent_id": {"type": "integer"}, "month": {"type": "string"}, "balance": BALANCE,
            "items": {"type": "array", "items": ENTRY}}}), **_problems(401, 403, 404, 422, 429)}}},
    "/points/adjust": {"post": {
        "summary": "Adjust an agent's points (heads of support of his department), with a reason",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 100}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["agent", "points", "reason"], "properties": {
                "agent": {"type": "string"}, "points": {"type": "string"}, "reason": {"type": "string"}}}}}},
        "responses": {**_ok(ENTRY, "201", "written"), **_problems(401, 403, 404, 422, 429)}}},
    "/points/report": {"get": {
        "summary": "The month's balances per agent and department (heads of support), JSON or CSV",
        "parameters": [{**MONTH, "required": True},
                       {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}],
        "responses": {"200": {"description": "the report", "content": {
            "application/json": {"schema": {"type": "object", "required": ["month", "agents", "departments"]}},
            "text/csv": {"schema": {"type": "string"}}}}, **_problems(401, 403, 422, 429)}}},
}

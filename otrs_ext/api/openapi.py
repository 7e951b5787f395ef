"""The OpenAPI 3.1 document of API v1: request bodies are the pydantic models that validate them."""

from __future__ import annotations

import functools
from typing import Any

from pydantic.json_schema import models_json_schema

from .openapi_pool import POOL_PATHS
from .schemas import (
    ArticleCreate,
    Created,
    CustomerSet,
    CustomerTokenRequest,
    DynamicFieldSet,
    MergeInto,
    OwnerSet,
    PendingTimeSet,
    PrioritySet,
    Problem,
    QueueSet,
    ResponsibleSet,
    StateSet,
    TagAdd,
    TicketCreate,
    TitleSet,
    TypeSet,
)

MODELS = (TicketCreate, ArticleCreate, CustomerTokenRequest, OwnerSet, QueueSet, StateSet, PrioritySet, TitleSet,
          TypeSet, ResponsibleSet, CustomerSet, PendingTimeSet, DynamicFieldSet, MergeInto, TagAdd, Created, Problem)
TICKET_ID = {"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "minLength": 1, "maxLength": 191},
               "description": "makes the call exactly-once under retries"}
FIELD_NAME = {"name": "name", "in": "path", "required": True,
              "schema": {"type": "string", "minLength": 1, "maxLength": 200}, "description": "the dynamic field's name"}
_TEXT, _NULLABLE_TEXT, _INT = {"type": "string"}, {"type": ["string", "null"]}, {"type": "integer"}
TICKET = {"type": "object", "required": ["ticket_id", "tn", "title", "queue", "state"],
          "properties": {"ticket_id": _INT, "tn": _TEXT, "title": _TEXT, "queue": _TEXT, "state": _TEXT,
                         "state_type": _TEXT, "priority": _TEXT, "lock": _TEXT, "type": _TEXT,
                         "owner": _TEXT, "owner_id": _INT, "responsible": _TEXT, "responsible_id": _INT,
                         "customer_id": _NULLABLE_TEXT, "customer_user": _NULLABLE_TEXT,
                         "pending_until": {"type": "integer", "description": "epoch seconds; 0 = none"},
                         "dynamic_fields": {"type": "object", "description": "name: value (a list for a multiselect, "
                                                                             "ISO 8601 for dates)"},
                         "articles": {"type": "array", "items": {"type": "object"}},
                         "history": {"type": "array", "items": {"type": "object"}}}}

TAG_KINDS = ["source", "participant", "notification", "manual"]
_TAG_FIELDS = {"id": _INT, "ref": {"type": "string", "description": "kind:name, what the tag filters take"},
               "kind": {"enum": TAG_KINDS}, "name": _TEXT, "label": _TEXT, "colour": {"type": ["string", "null"]}}
#: a tag as a search hit and the tag facet show it
HIT_TAG = {"type": "object", "required": list(_TAG_FIELDS), "properties": _TAG_FIELDS}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}, "description": "label per language"}
CATALOGUE_TAG = {"type": "object", "required": [*_TAG_FIELDS, "labels", "valid"],
                 "properties": {**_TAG_FIELDS, "labels": _LABELS, "valid": {"type": "boolean"}}}
TICKET_TAG = {"type": "object", "required": [*_TAG_FIELDS, "labels", "agent", "rule", "article_id", "set_at"],
              "properties": {**_TAG_FIELDS, "labels": _LABELS,
                             "agent": {"type": ["string", "null"],
                                       "description": "login of the agent who set it (null: a rule, or for customers)"},
                             "rule": {"type": ["string", "null"], "description": "the rule that set it (rule:...)"},
                             "article_id": {"type": ["integer", "null"],
                                            "description": "the article that made a rule set it"},
                             "set_at": {"type": ["string", "null"], "format": "date-time"}}}
TICKET_TAGS = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": TICKET_TAG}}}
#: the tag filters of /search, /search/counts and GET /tickets
TAG_FILTERS = [
    {"name": "tag", "in": "query", "required": False, "style": "form", "explode": True,
     "schema": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 120}},
     "description": "a tag ref kind:name (source:email, participant:ivanov, notification:quota-exceeded; a bare name "
                    "is a manual tag); repeat for tickets carrying all of them. Unknown tags are a 422 naming "
                    "tag[i]"},
    {"name": "tag_kind", "in": "query", "required": False, "style": "form", "explode": True,
     "schema": {"type": "array", "items": {"enum": TAG_KINDS}},
     "description": "tickets carrying any tag of this kind; repeated, one of each kind"},
]
_QUERY = {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 500},
          "description": 'words, "phrases", prefix*, -exclusion, OR, from:/to:/subject:/body:/title:/number: scopes; '
                         "domains and e-mails (reg.ru, ivan@mail.ru) match wherever they occur"}
_SEARCH_FILTERS = [
    _QUERY,
    *({"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
      for n in ("queue", "state", "state_type", "owner", "customer_id", "customer_user", "created_from",
                "created_to")),
    *TAG_FILTERS,
    {"name": "group", "in": "query", "required": False, "schema": {"enum": ["ticket", "article"]},
     "description": "ticket: one hit per ticket with its best article (default); article: every article"},
]
_FACETS = {"type": "object", "description": "counts by queue, state and tag: {queue: [{id, name, count}], state: "
                                            "[...], tag: [{id, name (the ref), label, colour, count}]}; tickets per "
                                            "value when grouped by ticket, else articles; only what the caller may "
                                            "see is counted",
           "properties": {"tag": {"type": "array", "items": {
               "type": "object", "required": ["id", "name", "label", "colour", "count"],
               "properties": {"id": _INT, "name": _TEXT, "label": _TEXT, "colour": {"type": ["string", "null"]},
                              "count": _INT}}}}}
_SEARCH_PROBLEMS = {str(s): {"description": d, "content": {"application/problem+json": {
    "schema": {"$ref": "#/components/schemas/Problem"}}}}
    for s, d in ((401, "no or unknown API key"), (403, "intake keys may not search"),
                 (404, "the owner filter names no agent"), (422, "invalid query or filter, with a path per field"),
                 (429, "rate limited"), (503, "the search index is unavailable"))}
SEARCH = {
    "summary": "Full-text search over the articles the caller may see (agent keys and customer tokens)",
    "description": "One page of hits with the exact total. The facets (`facets`, on by default) count every "
                   "match by queue and state, which takes longer than the page on a large index: a client that "
                   "wants the page at once asks with `facets=false` and fetches `/search/counts` beside it. "
                   "Answers are cached until the index changes.",
    "parameters": [
        *_SEARCH_FILTERS,
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "sort", "in": "query", "required": False, "schema": {"enum": ["relevance", "recent"]}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        {"name": "facets", "in": "query", "required": False, "schema": {"type": "boolean", "default": True},
         "description": "also count the matches by queue and state (false: `facets` is {}; see /search/counts)"},
    ],
    "responses": {"200": {"description": "one page of hits", "content": {"application/json": {"schema": {
        "type": "object", "required": ["total", "hits", "facets", "indexed_as_of"],
        "properties": {
            "total": {"type": "integer", "description": "matching tickets (or articles with group=article), exact"},
            "hits": {"type": "array", "items": {"type": "object", "properties": {
                "ticket_id": {"type": "integer"}, "article_id": {"type": "integer"}, "tn": {"type": "string"},
                "title": {"type": "string"}, "queue": {"type": "string"}, "state": {"type": "string"},
                "snippet": {"type": "string", "description": "HTML-escaped, matches in <mark>"},
                "tags": {"type": "array", "items": HIT_TAG, "description": "the ticket's tags"},
                "links": {"type": "object", "properties": {"otrs": {"type": "string"}, "api": {"type": "string"}}}}}},
            "facets": _FACETS,
            "next_cursor": {"type": ["string", "null"]},
            "indexed_as_of": {"type": ["string", "null"], "format": "date-time"},
            "took_ms": {"type": "number"}}}}}},
        "400": {"description": "bad request"}, **_SEARCH_PROBLEMS},
}
SEARCH_COUNTS = {
    "summary": "The exact total and the facets of a search, without its page",
    "description": "Same query parameters and permissions as /search. For clients that show the page first "
                   "(/search?facets=false) and fill in the counts when they arrive; cached until the index "
                   "changes.",
    "parameters": _SEARCH_FILTERS,
    "responses": {"200": {"description": "the counts", "content": {"application/json": {"schema": {
        "type": "object", "required": ["total", "facets", "indexed_as_of"], "properties": {
            "total": {"type": "integer", "description": "matching tickets (or articles with group=article), exact"},
            "facets": _FACETS,
            "indexed_as_of": {"type": ["string", "null"], "format": "date-time"},
            "took_ms": {"type": "number"}}}}}},
        "400": {"description": "bad request"}, **_SEARCH_PROBLEMS},
}


def _ref(model: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _problems(*statuses: int) -> dict[str, Any]:
    content = {"application/problem+json": {"schema": _ref(Problem)}}
    text = {400: "bad request", 401: "no or unknown API key", 403: "the key's scope or the agent's rights refuse it",
            404: "no such ticket, or one the caller may not see", 409: "the same Idempotency-Key is still running",
            413: "too large", 422: "invalid input, with a path per field", 429: "rate limited (Retry-After)"}
    return {str(s): {"description": text[s], "content": content} for s in statuses}


def _json_body(model: type, multipart: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ref(model)}}
    if multipart:
        content["multipart/form-data"] = {"schema": {"type": "object", "properties": {
            "payload": {"type": "string", "description": f"the {model.__name__} JSON without attachments"},
            "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}
    return {"required": True, "content": content}


def _ok(schema: dict[str, Any], status: str = "200", description: str = "done") -> dict[str, Any]:
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}


def _change(summary: str, model: type | None, *parameters: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": [TICKET_ID, *parameters],
                          "responses": {**_ok(TICKET), **_problems(401, 403, 404, 422, 429)}}
    if model is not None:
        op["requestBody"] = _json_body(model)
    return op


@functools.cache
def document() -> dict[str, Any]:
    _, schemas = models_json_schema([(m, "validation") for m in MODELS],
                                    ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {
        "/tickets": {
            "post": {"summary": "Create a ticket (with its first article and attachments)",
                     "parameters": [IDEMPOTENCY], "requestBody": _json_body(TicketCreate, multipart=True),
                     "responses": {**_ok(_ref(Created), "201", "created; Location names the ticket"),
                                   **_problems(401, 403, 404, 409, 413, 422, 429)}},
            "get": {"summary": "List tickets the agent may see, newest first, with a cursor and the total",
                    "parameters": [
                        *({"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                          for n in ("queue", "state", "state_type", "customer_id", "customer_user", "owner",
                                    "created_from", "created_to", "changed_from", "changed_to", "cursor")),
                        *TAG_FILTERS,
                        {"name": "limit", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
                    "responses": {**_ok({"type": "object", "required": ["items", "total"], "properties": {
                        "items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"},
                        "next_cursor": {"type": ["string", "null"]}}}), **_problems(401, 403, 404, 422, 429)}},
        },
        "/tickets/{ticket_id}": {"get": {
            "summary": "A ticket with its articles (and history with ?history=1)", "parameters": [TICKET_ID],
            "responses": {**_ok(TICKET), **_problems(401, 403, 404, 429)}}},
        "/tickets/{ticket_id}/history": {"get": {
            "summary": "The ticket's history with the sentences OTRS shows", "parameters": [TICKET_ID],
            "responses": {**_ok({"type": "object", "required": ["items"]}), **_problems(401, 403, 404, 429)}}},
        "/tickets/{ticket_id}/articles": {"post": {
            "summary": "Add an article (note, phone call, e-mail record), optionally moving the ticket",
            "parameters": [TICKET_ID, IDEMPOTENCY], "requestBody": _json_body(ArticleCreate, multipart=True),
            "responses": {**_ok({"type": "object", "required": ["id", "ticket_id"]}, "201", "added"),
                          **_problems(401, 403, 404, 409, 413, 422, 429)}}},
        "/customer-tokens": {"post": {
            "summary": "A customer portal token for a customer user the website has logged in (intake keys)",
            "requestBody": _json_body(CustomerTokenRequest),
            "responses": {**_ok({"type": "object", "required": ["token", "customer_user", "expires_at"]}, "201",
                                "issued"), **_problems(401, 403, 404, 422, 429)}}},
        "/tags": {"get": {
            "summary": "The tag catalogue (agent keys): valid tags, or all with all=1, of one kind if given",
            "parameters": [
                {"name": "kind", "in": "query", "required": False, "schema": {"enum": TAG_KINDS}},
                {"name": "all", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
                 "description": "also the tags taken out of use"}],
            "responses": {**_ok({"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": CATALOGUE_TAG}}}), **_problems(401, 403, 422, 429)}}},
        "/tickets/{ticket_id}/tags": {
            "get": {"summary": "The ticket's tags with who set each and when (agent keys with ro; a customer token of "
                               "the ticket's customer sees the tags without who set them)",
                    "parameters": [TICKET_ID],
                    "responses": {**_ok(TICKET_TAGS), **_problems(401, 403, 404, 429)}},
            "post": {"summary": "Add a manual tag (agent keys with rw on the ticket's queue); 201 when added, 200 when "
                                "the ticket already had it; the answer is the ticket's tags",
                     "parameters": [TICKET_ID], "requestBody": _json_body(TagAdd),
                     "responses": {**_ok(TICKET_TAGS, "201", "added"), **_ok(TICKET_TAGS, description="already there"),
                                   **_problems(401, 403, 404, 422, 429)}},
            "delete": {"summary": "Remove a manual tag (agent keys with rw); an audit row keeps who removed it. 200 "
                                  "with the ticket's tags, also when it was not there",
                       "parameters": [TICKET_ID, {"name": "tag", "in": "query", "required": True,
                                                  "schema": {"type": "string", "minLength": 1, "maxLength": 120},
                                                  "description": "manual:vip or vip"}],
                       "responses": {**_ok(TICKET_TAGS, description="removed"),
                                     **_problems(401, 403, 404, 422, 429)}}},
        "/tickets/{ticket_id}/tags/{ref}": {"delete": {
            "summary": "Remove a manual tag named in the path (as DELETE /tickets/{ticket_id}/tags?tag=...)",
            "parameters": [TICKET_ID, {"name": "ref", "in": "path", "required": True,
                                       "schema": {"type": "string", "minLength": 1, "maxLength": 120}}],
            "responses": {**_ok(TICKET_TAGS, description="removed"), **_problems(401, 403, 404, 422, 429)}}},
        "/search": {"get": SEARCH},
        "/search/counts": {"get": SEARCH_COUNTS},
        "/tickets/{ticket_id}/lock": {"post": _change("Lock the ticket for the key's agent", None)},
        "/tickets/{ticket_id}/unlock": {"post": _change("Unlock the ticket", None)},
        "/tickets/{ticket_id}/owner": {"put": _change("Set the owner", OwnerSet)},
        "/tickets/{ticket_id}/queue": {"put": _change("Move the ticket (OTRS unlocks it)", QueueSet)},
        "/tickets/{ticket_id}/state": {"put": _change("Set the state (close, reopen, pending with a time)", StateSet)},
        "/tickets/{ticket_id}/priority": {"put": _change("Set the priority", PrioritySet)},
        "/tickets/{ticket_id}/title": {"put": _change("Set the title", TitleSet)},
        "/tickets/{ticket_id}/type": {"put": _change("Set the type", TypeSet)},
        "/tickets/{ticket_id}/responsible": {"put": _change(
            "Set the responsible agent (403 unless OTRS's Ticket::Responsible is on)", ResponsibleSet)},
        "/tickets/{ticket_id}/customer": {"put": _change(
            "Set the customer user and/or the customer company", CustomerSet)},
        "/tickets/{ticket_id}/pending-until": {"put": _change(
            "Set or reset (null) the pending time of a ticket in a pending state", PendingTimeSet)},
        "/tickets/{ticket_id}/dynamic-fields/{name}": {
            "put": _change("Set a dynamic field's value, checked against the field's configuration (null clears)",
                           DynamicFieldSet, FIELD_NAME),
            "delete": _change("Clear a dynamic field", None, FIELD_NAME)},
        "/tickets/{ticket_id}/merge": {"post": {
            "summary": "Merge the ticket into main_ticket_id (rw on both): its articles move there, it is closed as "
                       "merged; the answer is this ticket, Location names the main ticket",
            "parameters": [TICKET_ID, IDEMPOTENCY], "requestBody": _json_body(MergeInto),
            "responses": {**_ok(TICKET, description="merged"), **_problems(401, 403, 404, 409, 422, 429)}}},
        **POOL_PATHS,
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "otrs-ext API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": schemas["$defs"],
                       "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}}},
        "security": [{"apiKey": []}],
        "paths": paths,
    }

"""Property-based API tests: schemathesis generates valid and invalid requests from ``/api/v1/openapi.json`` and
checks every answer - no 5xx, every status documented, every body matching the document.

Per operation a few dozen examples (positive and negative), half of them against a ticket that exists, so the
setters and readers are reached and not only the 404 path. Runs in well under a minute.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# ST_EXAMPLES=200 ST_RANDOM=1 for a longer hunt with fresh examples; CI runs the same examples every time
EXAMPLES = int(os.environ.get("ST_EXAMPLES", "50"))
DERANDOMIZE = os.environ.get("ST_RANDOM") is None
# operations an intake key (the website) is made for; every other one runs with the agent key
INTAKE = {("POST", "/tickets"), ("POST", "/customer-tokens")}
# a Server-Sent Events stream stays open for minutes and schemathesis reads every answer to its end: it would hang
# (tests/api/test_pool_api.py reads the stream instead)
STREAMS = {("GET", "/pool/events")}


def _ticket(api) -> int:
    created = api.client.post("/api/v1/tickets", headers=api.auth(api.agent_key), json={
        "title": "fuzz target", "queue": "Raw", "customer_user": "jane@acme.test",
        "article": {"subject": "s", "body": "b"}})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _fuzz(operation, headers: dict[str, str], ticket_id: int) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, real=st.booleans())
    def run(case, real: bool) -> None:
        if real and case.path_parameters and "ticket_id" in case.path_parameters:
            case.path_parameters["ticket_id"] = ticket_id
        # a generated Authorization header would only test the key check; the key is the one given here
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def test_api_v1_answers_every_generated_request_as_its_openapi_document_says(api) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    ticket_id = _ticket(api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:
        if (operation.method.upper(), operation.path) in STREAMS:
            continue
        key = api.intake_key if (operation.method.upper(), operation.path) in INTAKE else api.agent_key
        try:
            _fuzz(operation, {"Authorization": f"Bearer {key}"}, ticket_id)
        except Exception as error:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)

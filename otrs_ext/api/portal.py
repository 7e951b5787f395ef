"""``/api/v1/customer-tokens``: the website, having logged its customer in, gets a portal token for them."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from ..errors import PermissionDenied, ValidationError
from .context import caller, context
from .schemas import CustomerTokenRequest

bp = Blueprint("portal", __name__)


@bp.post("/customer-tokens")
def issue_customer_token() -> Response:
    key = caller()
    if key is None or key.scope != "intake":
        raise PermissionDenied("customer tokens are issued to the website's intake key")
    data = CustomerTokenRequest.model_validate(request.get_json(silent=True) or {})
    customer = context().core.directory.customer(data.customer_user)
    if not customer.valid:
        raise ValidationError([("customer_user", f"customer user {data.customer_user!r} is not valid in OTRS")])
    token = context().customer_tokens.issue(customer.login)
    body = {"token": token.token, "customer_user": customer.login, "expires_at": token.expires_at}
    return Response(json.dumps(body, ensure_ascii=False), status=201, mimetype="application/json")

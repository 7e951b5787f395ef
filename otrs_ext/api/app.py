"""The Flask app factory: one ``ApiContext`` of services per app, blueprints that only translate.

Every ``/api/v1`` request is authenticated (``Authorization: Bearer <key>``), rate-limited per key and logged
with a request id (``X-Request-Id``, taken from the client when it sends one).
"""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request
from redis.exceptions import RedisError
from werkzeug.middleware.proxy_fix import ProxyFix

from ..pool.compose import build_pool
from ..runtime import Runtime
from ..tags.compose import build_tag_service
from ..tickets.compose import build_ticket_core
from ..tickets.listing import TicketLister
from . import problems
from .context import ApiContext, context
from .customers import PREFIX as CUSTOMER_PREFIX
from .customers import CustomerTokens
from .idempotency import IdempotencyStore
from .jsonbody import MAX_DEPTH, nesting_depth
from .keys import ApiKey, ApiKeys, Unauthorized
from .ratelimit import RateLimiter
from .verified_keys import VerifiedKeys

log = logging.getLogger("otrs_ext.api")
PUBLIC = ("/api/v1/openapi.json", "/api/v1/docs", "/healthz")
CUSTOMER_RATE_PER_MINUTE = 120


def create_app(runtime: Runtime) -> Flask:
    settings = runtime.settings
    app = Flask("otrs_ext.api")
    app.config["MAX_CONTENT_LENGTH"] = settings.api_max_request_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # TLS ends at the proxy: believe only as many X-Forwarded-* hops as there are proxies, so
        # request.is_secure (Secure cookies, HSTS) and the client address are the proxy's word, not the client's
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    core = build_ticket_core(runtime, number_pool=settings.ticket_number_pool)
    # one Redis may serve several installations: their key ids must not share counters
    installation = runtime.engine.url.database
    verified = VerifiedKeys(runtime.redis, f"otrs_ext:keys-revoked:{installation}")
    app.extensions["otrs_ext"] = ApiContext(
        runtime=runtime, core=core, keys=ApiKeys(runtime.engine, settings.own_schema, verified=verified),
        limiter=RateLimiter(runtime.redis, prefix=f"otrs_ext:rl:{installation}"),
        idempotency=IdempotencyStore(
            runtime.engine, settings.own_schema, stale_seconds=settings.api_idempotency_stale_seconds),
        lister=TicketLister(runtime.engine, runtime.schema, core.permissions, own_schema=settings.own_schema),
        customer_tokens=CustomerTokens(settings.secret_key, settings.customer_token_seconds),
        tags=build_tag_service(runtime, core.permissions),
        pool=build_pool(runtime, core),
    )
    problems.install(app)

    from .docs import bp as docs_bp
    from .pool import bp as pool_bp
    from .portal import bp as portal_bp
    from .search import bp as search_bp
    from .tags import bp as tags_bp
    from .tickets import bp as tickets_bp

    app.register_blueprint(tickets_bp, url_prefix="/api/v1")
    app.register_blueprint(portal_bp, url_prefix="/api/v1")
    app.register_blueprint(docs_bp, url_prefix="/api/v1")
    app.register_blueprint(search_bp, url_prefix="/api/v1")
    app.register_blueprint(tags_bp, url_prefix="/api/v1")
    app.register_blueprint(pool_bp, url_prefix="/api/v1")
    from .gi.routes import register as register_gi

    register_gi(app)  # GenericInterface-compatible routes; they authenticate as OTRS does (see gi/routes.py)
    from ..screens import register as register_screens

    # the agent's HTML screens under /agent; after register_gi: they share its login checks
    register_screens(app, runtime=runtime, permissions=core.permissions, passwords=app.extensions["otrs_ext_gi"])
    app.before_request(_begin)
    app.after_request(_finish)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    return app


FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def _begin() -> Response | None:
    g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    g.started = time.perf_counter()
    # any body but forms: GI scripts often send JSON without its content type
    if request.content_length and request.mimetype not in FORM_TYPES \
            and nesting_depth(request.get_data(cache=True)) > MAX_DEPTH:
        return problems.problem(400, "json-too-deep", "Invalid request",
                                f"the JSON body nests deeper than {MAX_DEPTH} levels")
    if request.path in PUBLIC or not request.path.startswith("/api/") or request.path.startswith("/api/gi/"):
        return None
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise Unauthorized("send the API key as Authorization: Bearer <key>")
    token = header[7:].strip()
    cached, counter = False, None  # a key from an earlier verification, and the revocation counter it saw
    if token.startswith(CUSTOMER_PREFIX):
        g.api_key, g.customer_login = None, context().customer_tokens.verify(token)
        subject, per_minute = f"customer:{g.customer_login.lower()}", CUSTOMER_RATE_PER_MINUTE
    else:
        g.api_key, cached, counter = _api_key(token)
        subject, per_minute = g.api_key.key_id, g.api_key.rate_per_minute
    keys = context().keys
    try:
        # the counter is read in the limiter's round trip: confirming a cached key costs nothing extra
        verdict = context().limiter.hit(subject, per_minute,
                                        watch=keys.verified.counter_key if cached and keys.verified else None)
    except RedisError as error:  # the limit is a guard, not a gate: a Redis outage must not stop intake
        log.warning("rate limiter unavailable: %s", error, extra={"event": "api_ratelimit_down"})
        if cached:  # nothing confirms the cached verification: ask the database
            g.api_key = keys.authenticate(token)
        return None
    if cached and keys.verified and verdict.watched != counter:
        keys.verified.discard(token)  # a key was revoked since it was verified: this one may be it
        g.api_key = keys.authenticate(token)
    if not verdict.allowed:
        return problems.problem(429, "rate-limited", "Too many requests",
                                f"at most {per_minute} requests a minute for this key",
                                headers={"Retry-After": str(verdict.retry_after)})
    g.rate_remaining = verdict.remaining
    return None


def _api_key(token: str) -> tuple[ApiKey, bool, bytes | None]:
    """(key, whether it comes from an earlier verification, the revocation counter that one saw). A key read
    from the database now is remembered with the counter read just before."""
    keys = context().keys
    if keys.verified is None:
        return keys.authenticate(token), False, None
    hit = keys.verified.get(token)
    if hit is not None:
        return hit[0], True, hit[1]
    try:
        counter = keys.verified.counter()  # before the database: a revocation after this read changes it
    except RedisError:
        return keys.authenticate(token), False, None
    key = keys.authenticate(token)
    keys.verified.put(token, key, counter)
    return key, False, None


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if request.is_secure:  # browsers then refuse a plain-HTTP downgrade for a year
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if "rate_remaining" in g:
        response.headers["X-RateLimit-Remaining"] = str(g.rate_remaining)
    if not log.isEnabledFor(logging.INFO):
        return response  # no request line is logged: skip building its fields
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    key = g.get("api_key")
    log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed,
             extra={"event": "api_request", "request_id": g.get("request_id"), "method": request.method,
                    "path": request.path, "status": response.status_code, "ms": round(elapsed, 1),
                    "key_id": key.key_id if key else None})
    return response

"""The gunicorn worker ``otrs-ext serve`` runs: gunicorn's threaded worker, whose own answers to requests it
refuses before the app sees them are problem+json like every other error of the API.

gunicorn parses the request line and headers itself and answers a line over ``limit_request_line`` (414),
too many or too large header fields (431) and malformed requests (400) with an HTML page. Clients of a JSON
API should not have to parse that; the limits themselves stay (they bound what a request can make a worker
buffer).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from .problems import problem_body

MALFORMED = (
    http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod, http_errors.InvalidHTTPVersion,
    http_errors.InvalidHeader, http_errors.InvalidHeaderName, http_errors.ObsoleteFolding,
    http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator, http_errors.InvalidChunkExtension,
    http_errors.InvalidSchemeHeaders, http_errors.InvalidProxyLine,
)
#: After answering, read what is left of the refused request for at most this long and this much, so that
#: closing the socket does not reset the connection before the client has read the answer.
DRAIN_SECONDS = 1.0
DRAIN_BYTES = 1024 * 1024


class ProblemThreadWorker(ThreadWorker):
    """gthread, answering gunicorn's request-line, header and parse errors as ``application/problem+json``."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        answer = self._problem(exc)
        if answer is None:  # not the client's request: gunicorn's own handling (a 500, logged)
            super().handle_error(req, client, addr, exc)
            return
        status, reason, detail = answer
        request_id = uuid.uuid4().hex
        self.log.warning("Invalid request from ip=%s: %s (request id %s)", (addr or ("",))[0], exc, request_id)
        body = json.dumps(problem_body(status, f"http-{status}", reason, detail, request_id=request_id),
                          ensure_ascii=False).encode()
        head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
                f"Content-Length: {len(body)}\r\nX-Request-Id: {request_id}\r\n\r\n")
        try:
            util.write_nonblock(client, head.encode("latin1") + body)
            _drain(client)
        except OSError:
            self.log.debug("Failed to send error message.")

    def _problem(self, exc: BaseException) -> tuple[int, str, str] | None:
        """(status, reason, detail) for a request gunicorn refuses as the client's fault, else None."""
        cfg = self.cfg
        if isinstance(exc, http_errors.LimitRequestLine):
            return 414, "URI Too Long", (
                f"the request line (method, URL and HTTP version) is longer than the {cfg.limit_request_line} "
                "bytes this server accepts; shorten the URL")
        if isinstance(exc, http_errors.LimitRequestHeaders):
            return 431, "Request Header Fields Too Large", (
                f"the request headers are too many or too large: at most {cfg.limit_request_fields} fields of "
                f"{cfg.limit_request_field_size} bytes each ({exc})")
        if isinstance(exc, MALFORMED):
            return 400, "Bad Request", f"the request is not valid HTTP: {exc}"
        return None


def _drain(client: socket.socket) -> None:
    """Half-close and read the rest of the refused request (bounded): a socket closed with unread data
    answers the client with a reset, which can discard the answer before the client reads it."""
    client.shutdown(socket.SHUT_WR)
    client.settimeout(DRAIN_SECONDS)
    deadline, left = time.monotonic() + DRAIN_SECONDS, DRAIN_BYTES
    while left > 0 and time.monotonic() < deadline:
        try:
            chunk = client.recv(min(left, 65536))
        except TimeoutError:
            return
        if not chunk:
            return
        left -= len(chunk)

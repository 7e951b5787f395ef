"""A small SphinxQL client (the MySQL wire protocol), for Sphinx 2.2 and Manticore alike.

The ``manticoresearch`` package only speaks Manticore's HTTP API, which Sphinx 2.2 lacks; SphinxQL over
PyMySQL works against both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pymysql


class SphinxQL:
    """Opens a short-lived connection per unit of work; searchd connections are cheap and thread-bound."""

    def __init__(self, url: str, *, connect_timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 9306
        self.connect_timeout = connect_timeout

    @property
    def url(self) -> str:
        return f"mysql://{self.host}:{self.port}"

    @contextmanager
    def connection(self) -> Iterator[pymysql.connections.Connection]:
        conn = pymysql.connect(
            host=self.host, port=self.port, user="", autocommit=True, charset="utf8mb4",
            connect_timeout=self.connect_timeout,
        )
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def status(self) -> dict[str, str]:
        """``SHOW STATUS`` as a dict: uptime, queries, version... (raises when searchd is unreachable)."""
        return {str(k): str(v) for k, v in self.query("SHOW STATUS")}

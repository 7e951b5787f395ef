"""Private server processes (MariaDB, Redis, searchd) on free loopback ports, for tests and ``otrs-ext demo``.

Each service lives in its own directory, runs in the foreground as our child and is stopped by PID; nothing
here touches system services, ``/etc`` configs or fixed ports.
"""

from __future__ import annotations

from otrs_ext.localservices.base import LocalService, free_port, require_binary, wait_until
from otrs_ext.localservices.mariadb import MariaDBServer
from otrs_ext.localservices.redis import RedisServer
from otrs_ext.localservices.sphinx import SphinxServer

__all__ = [
    "LocalService",
    "MariaDBServer",
    "RedisServer",
    "SphinxServer",
    "free_port",
    "require_binary",
    "wait_until",
]

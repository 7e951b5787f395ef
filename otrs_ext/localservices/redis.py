"""A private, non-persistent redis-server on a free loopback port (recipe: COMPONENTS.md §4)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import redis as redis_py
from redis.backoff import NoBackoff
from redis.retry import Retry

from otrs_ext.localservices.base import LocalService, require_binary

DEBIAN_PACKAGE = "redis-server"


class RedisServer(LocalService):
    """redis-server in ``base_dir``: no RDB snapshots, no AOF, logs to ``base_dir/redis.log``."""

    name = "redis-server"
    start_timeout = 15.0

    def __init__(self, base_dir: Path, port: int | None = None) -> None:
        super().__init__(base_dir, port)
        self.binary = require_binary("redis-server", DEBIAN_PACKAGE)
        self.log_file = self.base_dir / "redis.log"
        self.pid_file = self.base_dir / "redis.pid"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``, usable as a Celery broker or ``redis.Redis.from_url``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _launch(self, port: int) -> subprocess.Popen[bytes]:
        argv = [
            self.binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(self.base_dir),
            # a throwaway cache/broker: persistence would only cost time and leave files behind
            "--save", "",
            "--appendonly", "no",
            # foreground, so the PID we hold is the server itself
            "--daemonize", "no",
            "--logfile", str(self.log_file),
            "--pidfile", str(self.pid_file),
        ]  # fmt: skip
        return self._spawn(argv, self.base_dir / "stdout.log")

    def _is_ready(self) -> bool:
        # No client-side retries: redis-py 8 retries with backoff by default, which would hide a dead or
        # foreign server for seconds; wait_until already polls.
        client = redis_py.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except redis_py.RedisError:
            return False
        finally:
            client.close()

"""A private MariaDB server with ROW binlog, started from a fresh datadir (recipe: COMPONENTS.md §1).

The binlog settings are what python-mysql-replication needs to see column names: ``binlog_format=ROW``,
``binlog_row_image=FULL`` and ``binlog_row_metadata=FULL`` (MariaDB's default MINIMAL yields
``UNKNOWN_COLn``).
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from otrs_ext.errors import OtrsExtError, ServiceStartError
from otrs_ext.localservices.base import LocalService, require_binary, tail, wait_until

DEBIAN_PACKAGE = "mariadb-server"
CLIENT_PACKAGE = "mariadb-client"
#: A unix socket path must fit in sun_path (108 bytes); beyond this we put the socket in a short temp dir.
_MAX_SOCKET_PATH = 100


class LocalSqlError(OtrsExtError):
    """The ``mariadb`` client failed on SQL sent to a local server; the message quotes its stderr."""

    code = "local-sql"


@functools.cache
def supports_binlog_row_metadata(mariadbd: str) -> bool:
    """True if this mariadbd knows ``--binlog-row-metadata`` (MariaDB >= 10.5). Asked once per binary."""
    result = subprocess.run(
        [mariadbd, "--no-defaults", "--verbose", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "--binlog-row-metadata" in result.stdout


def quote_identifier(name: str) -> str:
    """Backtick-quote a MariaDB identifier (a database name supplied by tests or the demo)."""
    return "`" + name.replace("`", "``") + "`"


class MariaDBServer(LocalService):
    """mariadbd in ``base_dir`` on a free loopback port, with a TCP user ``otrs``/``otrs`` (all privileges).

    Every ``start()`` begins with an empty datadir and binlog (``base_dir`` must be scratch space); no
    database is created, call ``create_database("otrs")`` before using the default ``url()``.
    Root has no password and is reachable only over the unix socket; the ``mariadb`` CLI helpers use that,
    Python code uses ``url()``. ``binlog=False`` or ``binlog_format="STATEMENT"`` build deliberately
    misconfigured servers for the checks that must refuse them.
    """

    name = "mariadbd"

    def __init__(
        self,
        base_dir: Path,
        port: int | None = None,
        *,
        binlog: bool = True,
        binlog_format: str = "ROW",
        innodb_buffer_pool_size: str = "256M",
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(base_dir, port)
        self.binlog = binlog
        self.binlog_format = binlog_format
        self.innodb_buffer_pool_size = innodb_buffer_pool_size
        self.extra_args = tuple(extra_args)
        self.mariadbd = require_binary("mariadbd", DEBIAN_PACKAGE)
        self.install_db = require_binary("mariadb-install-db", DEBIAN_PACKAGE)
        self.admin = require_binary("mariadb-admin", CLIENT_PACKAGE)
        self.client = require_binary("mariadb", CLIENT_PACKAGE)
        self.datadir = self.base_dir / "data"
        self.log_file = self.base_dir / "error.log"
        self.pid_file = self.base_dir / "mysqld.pid"
        self._socket = self._socket_path()
        self._run_as: str | None = None

    @property
    def socket(self) -> Path:
        """Path of the unix socket root logs in through."""
        return self._socket

    def url(self, database: str = "otrs", user: str = "otrs", password: str = "otrs") -> str:
        """SQLAlchemy URL for TCP access, e.g. ``mysql+pymysql://otrs:otrs@127.0.0.1:PORT/otrs?charset=utf8mb4``."""
        return f"mysql+pymysql://{user}:{password}@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    # --- SQL helpers over the socket ------------------------------------------------------------------
    def execute(self, sql: str, database: str | None = None) -> str:
        """Run SQL as root through the ``mariadb`` CLI; return its tab-separated output without headers."""
        return self._client([], stdin=sql.encode("utf-8"), database=database)

    def source_file(self, path: Path, database: str) -> None:
        """Load a (possibly large) .sql file into ``database`` by piping it to the ``mariadb`` CLI."""
        with open(path, "rb") as handle:
            self._client([], stdin=handle, database=database, what=f"loading {path}")

    def create_database(self, name: str) -> None:
        """Create ``name`` (utf8mb4 / utf8mb4_unicode_ci, like OTRS) if it does not exist."""
        self.execute(
            f"CREATE DATABASE IF NOT EXISTS {quote_identifier(name)} "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists."""
        self.execute(f"DROP DATABASE IF EXISTS {quote_identifier(name)}")

    def _client(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | IO[bytes],
        database: str | None = None,
        what: str = "SQL",
    ) -> str:
        argv = [
            self.client,
            "--no-defaults",
            "-uroot",
            f"--socket={self._socket}",
            "--batch",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
            # the client's own limit (16M) would reject the big extended INSERTs of a dump
            "--max-allowed-packet=64M",
            *args,
        ]
        if database is not None:
            argv.append(database)
        if isinstance(stdin, bytes):
            result = subprocess.run(argv, input=stdin, capture_output=True, check=False)
        else:
            result = subprocess.run(argv, stdin=stdin, capture_output=True, check=False)
        if result.returncode != 0:
            stderr = result.stderr.decode("utf-8", "replace").strip()
            raise LocalSqlError(f"mariadb client failed ({what}) on {self._socket}: {stderr}")
        return result.stdout.decode("utf-8", "replace")

    def restart(self, *, down_for: float = 0.0) -> None:
        """Stop the server (SIGTERM, as an operator would) and start it again on the same datadir, binlog and
        port, after ``down_for`` seconds. Unlike ``start()``, which always begins with an empty datadir, the
        data survives: this is for tests of clients that must ride out a database restart."""
        port = self.port
        self.stop()
        time.sleep(down_for)
        self._process = self._launch(port)
        atexit.register(self._stop_at_exit)
        try:
            wait_until(self._is_ready, self.start_timeout, f"{self.name} restarting on 127.0.0.1:{port}",
                       log_file=self.log_file, process=self._process)
        except BaseException:
            self._abort()
            raise

    # --- LocalService hooks ---------------------------------------------------------------------------
    def _prepare(self) -> None:
        # A fresh datadir per start keeps runs independent; the base dir must therefore be scratch space.
        for sub in ("data", "binlog", "tmp"):
            shutil.rmtree(self.base_dir / sub, ignore_errors=True)
            (self.base_dir / sub).mkdir(parents=True)
        self._run_as = _server_user(self.base_dir)
        if self._run_as == "mysql":
            uid, gid = _mysql_ids()
            for path in (self.base_dir, *self.base_dir.rglob("*"), self._socket.parent):
                os.chown(path, uid, gid)
        user_args = [f"--user={self._run_as}"] if self._run_as else []
        install_log = self.base_dir / "install.log"
        with open(install_log, "wb") as out:
            result = subprocess.run(
                [
                    self.install_db,
                    "--no-defaults",
                    *user_args,
                    f"--datadir={self.datadir}",
                    # The bootstrap server's temporary tables default to /tmp, where parallel installs
                    # (pytest-xdist workers) collide.
                    f"--tmpdir={self.base_dir / 'tmp'}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    "--skip-name-resolve",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise ServiceStartError(
                f"mariadb-install-db failed with code {result.returncode}; last lines of {install_log}:\n"
                f"{tail(install_log)}"
            )

    def _launch(self, port: int) -> subprocess.Popen[bytes]:
        argv = [
            self.mariadbd,
            "--no-defaults",
            *([f"--user={self._run_as}"] if self._run_as else []),
            f"--datadir={self.datadir}",
            f"--tmpdir={self.base_dir / 'tmp'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={self._socket}",
            f"--pid-file={self.pid_file}",
            f"--log-error={self.log_file}",
            "--server-id=1",
            *self._binlog_args(),
            f"--innodb-buffer-pool-size={self.innodb_buffer_pool_size}",
            # tests and the demo never need per-commit durability; this makes bulk loads much faster
            "--innodb-flush-log-at-trx-commit=2",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--max-allowed-packet=64M",
            "--skip-name-resolve",
            *self.extra_args,  # last, so callers can override any of the above
        ]
        return self._spawn(argv, self.base_dir / "stdout.log")

    def _binlog_args(self) -> list[str]:
        if not self.binlog:
            return []
        args = [
            f"--log-bin={self.base_dir / 'binlog' / 'mysql-bin'}",
            f"--binlog-format={self.binlog_format}",
            "--binlog-row-image=FULL",
        ]
        if supports_binlog_row_metadata(self.mariadbd):
            args.append("--binlog-row-metadata=FULL")
        return args

    def _is_ready(self) -> bool:
        result = subprocess.run(
            [
                self.admin,
                "--no-defaults",
                "-uroot",
                f"--socket={self._socket}",
                "--connect-timeout=2",
                "ping",
            ],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _after_ready(self) -> None:
        # root is socket-only; Python code (SQLAlchemy, the binlog tailer) connects over TCP as otrs.
        self.execute(
            "CREATE USER IF NOT EXISTS 'otrs'@'127.0.0.1' IDENTIFIED BY 'otrs';"
            "GRANT ALL PRIVILEGES ON *.* TO 'otrs'@'127.0.0.1' WITH GRANT OPTION;"
        )

    def _socket_path(self) -> Path:
        path = self.base_dir / "mysqld.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        return Path(tempfile.mkdtemp(prefix="otrsx-mdb-")) / "mysqld.sock"


def _mysql_ids() -> tuple[int, int]:
    entry = pwd.getpwnam("mysql")
    return entry.pw_uid, entry.pw_gid


def _server_user(base_dir: Path) -> str | None:
    """Which ``--user`` to pass: None when not root, else ``mysql`` if it can reach ``base_dir``, else root.

    mariadbd refuses to run as root unless told so explicitly. The recipe runs it as ``mysql``, but pytest's
    temp dirs live under a 0700 ``/tmp/pytest-of-root``, which ``mysql`` cannot traverse; there we fall back
    to ``--user=root`` (a private throwaway server on loopback, so nothing is gained by dropping privileges).
    """
    if os.geteuid() != 0:
        return None
    try:
        uid, gid = _mysql_ids()
    except KeyError:
        return "root"
    for parent in base_dir.parents:
        mode = parent.stat()
        if mode.st_uid == uid:
            continue
        bit = stat.S_IXGRP if mode.st_gid == gid else stat.S_IXOTH
        if not mode.st_mode & bit:
            return "root"
    return "mysql"

"""A private Sphinx 2.2 ``searchd`` serving the ``articles`` RT index over SphinxQL (COMPONENTS.md §2)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pymysql

from otrs_ext.localservices.base import LocalService, require_binary
from otrs_ext.search import indexdef

DEBIAN_PACKAGE = "sphinxsearch"


class SphinxServer(LocalService):
    """searchd in ``base_dir`` listening for SphinxQL (MySQL protocol) on 127.0.0.1.

    By default the config comes from ``indexdef.render_config``. A custom ``config_text`` may contain the
    literal tokens ``{port}`` and ``{base_dir}``; they are substituted at every start (plain ``str.replace``,
    so the config's own braces are left alone). Without ``{port}`` an explicit ``port`` is required.
    """

    name = "searchd"
    start_timeout = 30.0

    def __init__(self, base_dir: Path, port: int | None = None, config_text: str | None = None) -> None:
        super().__init__(base_dir, port)
        if config_text is not None and "{port}" not in config_text and port is None:
            raise ValueError("config_text without a {port} token needs an explicit port")
        self.binary = require_binary("searchd", DEBIAN_PACKAGE)
        self.config_text = config_text
        self.config_file = self.base_dir / "sphinx.conf"
        # With --nodetach searchd also prints its log lines (and config errors) to stdout.
        self.stdout_log = self.base_dir / "log" / "stdout.log"
        self.log_file = self.stdout_log

    @property
    def url(self) -> str:
        """``mysql://127.0.0.1:PORT`` (SphinxQL needs no user, password or database)."""
        return f"mysql://127.0.0.1:{self.port}"

    def connect(self) -> pymysql.connections.Connection:
        """A new autocommit pymysql connection to SphinxQL; the caller closes it."""
        return pymysql.connect(
            host="127.0.0.1", port=self.port, user="", autocommit=True, charset="utf8mb4", connect_timeout=5
        )

    def _prepare(self) -> None:
        # the same directories and files ``otrs-ext search config`` writes for production
        indexdef.write_support_files(self.base_dir)
        self.config_file.write_text(self._render(self.port), encoding="utf-8")

    def _render(self, port: int) -> str:
        if self.config_text is None:
            return indexdef.render_config(base_dir=self.base_dir, port=port)
        return self.config_text.replace("{port}", str(port)).replace("{base_dir}", str(self.base_dir))

    def _launch(self, port: int) -> subprocess.Popen[bytes]:
        # --nodetach: stay in the foreground so the PID we hold is the daemon itself
        return self._spawn([self.binary, "--config", str(self.config_file), "--nodetach"], self.stdout_log)

    def _is_ready(self) -> bool:
        # searchd opens its port before the RT index is loaded, so only a real query proves readiness.
        query = f"SELECT id FROM {indexdef.INDEX_NAME} LIMIT 1" if self.config_text is None else "SHOW TABLES"
        try:
            connection = pymysql.connect(
                host="127.0.0.1",
                port=self.port,
                user="",
                autocommit=True,
                connect_timeout=1,
                read_timeout=2,
            )
        except pymysql.MySQLError:
            return False
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                cursor.fetchall()
            return True
        except pymysql.MySQLError:
            return False
        finally:
            connection.close()

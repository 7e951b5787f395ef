"""The Znuny 7.0 oracle inside the test suite: one private database and one Znuny home per xdist worker.

``Oracle.start()`` loads the genuine Znuny 7.0 schema, runs ``../shared/oracle/setup-znuny`` (agent ``agent1``
= UserID 2), creates otrs-ext's own tables (the GI routes need its API keys) and copies every table into a
snapshot database. Each scenario then runs twice on the same database, restored from the snapshot in between:
once through Znuny (``znuny_ops.pl`` with a frozen clock) and once through otrs-ext's ticket core (frozen
at the same moment); ``oracle_rows`` dumps and compares the rows. See README.md beside this file.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import oracle_rows
import pending
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from support.paths import SHARED

from otrs_ext.api.app import create_app
from otrs_ext.api.keys import ApiKeys
from otrs_ext.db import migrate
from otrs_ext.localservices import MariaDBServer
from otrs_ext.runtime import Runtime, build_runtime
from otrs_ext.settings import Settings
from otrs_ext.tickets.clock import FixedClock
from otrs_ext.tickets.compose import TicketCore, build_ticket_core
from otrs_ext.tickets.numbers import TicketNumbers

ORACLE = SHARED / "oracle"
SCHEMA = SHARED / "reference" / "znuny" / "znuny-7.0-preview"
SCHEMA_FILES = ("schema.mysql.sql", "initial_insert.mysql.sql", "schema-post.mysql.sql")
DATABASE = "oracle"
SNAPSHOT = "oracle_snapshot"
AGENT = "agent1"
AGENT_ID = 2
#: 2025-11-25 20:00:00 UTC, the golden sample's moment.
EPOCH = 1764100800
SYSTEM_USER = "otrs"
# shared by every worker and session on the machine: the first setup may install Perl packages with apt
LOCK_FILE = Path(tempfile.gettempdir()) / "otrs-ext-oracle-setup.lock"
PERL_READY = Path(tempfile.gettempdir()) / "otrs-ext-oracle-perl-ready"
FS_CONFIG = "Kernel/Config/Files/ZZZZOracleArticleStorage.pm"
GI_OPERATION = Path(__file__).with_name("gi_operation.pl")
#: the daemon's work, done in-process under the frozen clock (oracle README §5); no queued task is no error
DAEMON: tuple[dict[str, Any], ...] = ({"op": "SchedulerTasksRun", "AllowFalse": 1},)


class OracleError(Exception):
    """The oracle could not be set up or a Znuny run failed; the message says what to look at."""


def utc(epoch: int) -> datetime:
    """The naive UTC datetime of ``epoch`` (Znuny's OTRSTimeZone here is UTC, checked at setup)."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


@dataclass
class Run:
    """One side of a scenario: its rows, the driver's results (Znuny side; the setup's on the ext side), the
    refs of the setup ops and, for the ext side, what the scenario function returned."""

    side: str
    rows: oracle_rows.Rows
    results: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    returned: Any = None


@dataclass
class ExtCore:
    """What a scenario's otrs-ext function gets: the ticket core built by ``compose`` from ``Settings``, the
    frozen clock, the acting agent (``agent1`` = 2), the setup's refs and, on request, a GI/API client."""

    core: TicketCore
    runtime: Runtime
    clock: FixedClock
    refs: dict[str, dict[str, Any]]
    oracle: Oracle
    agent: int = AGENT_ID
    _client: FlaskClient | None = None
    _agent_key: str | None = None

    @property
    def service(self) -> Any:
        return self.core.service

    @property
    def reader(self) -> Any:
        return self.core.reader

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def ref(self, name: str, key: str = "id") -> Any:
        """A setup op's result: ``ref("t")`` is its main id (TicketID, ArticleID...), ``ref("t", "TicketNumber")``."""
        return self.refs[name][key]

    def advance(self, seconds: float) -> None:
        """The otrs-ext side of the driver's ``AddSeconds``."""
        self.clock.advance(seconds)

    def api(self) -> tuple[FlaskClient, dict[str, str]]:
        """Flask's test client on the API (GI routes included) and the header of an agent key for ``agent1``."""
        if self._client is None:
            app = create_app(self.runtime)
            app.testing = True
            # the app builds its own ticket core; freeze its clock like ours
            self.oracle.freeze(app.extensions["otrs_ext"].core, self.runtime, self.clock)
            self._client = app.test_client()
            self._agent_key = ApiKeys(self.engine).create("agent", name="oracle", agent_id=self.agent)
        return self._client, {"Authorization": f"Bearer {self._agent_key}"}

    def znuny(self, ops: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Run Znuny ops now, on this (otrs-ext's) database, at the frozen clock's moment."""
        return self.oracle.znuny(ops, time=int(self.clock.current.replace(tzinfo=UTC).timestamp()))


class Oracle:
    """The per-worker oracle. Use ``fresh``, ``znuny``, ``ext``, ``rows`` and ``diff`` directly, or the scenario
    helpers ``run_znuny``, ``run_ext`` and ``compare``."""

    def __init__(self, server: MariaDBServer, redis_url: str) -> None:
        self.server = server
        self.redis_url = redis_url
        self.workdir = Path(tempfile.mkdtemp(prefix="otrs-ext-oracle-"))
        # the Znuny system user must reach the home: mkdtemp makes 0700 directories
        self.workdir.chmod(0o755)
        self.home = self.workdir / "znuny"
        self.base: oracle_rows.Base | None = None
        self.timezone = "UTC"
        self.scenario_name: str | None = None  # the running test's node name, set by conftest
        self.pending: tuple[str, ...] = ()  # its pending.py issues, set by conftest
        self.timings: dict[str, float] = {}
        self._tables: list[str] = []
        self._auto_increment: dict[str, int | None] = {}
        self._checksums: dict[str, str] = {}
        self._storage = "db"
        self._engine = create_engine(server.url(DATABASE), pool_pre_ping=True)
        self._cores: list[TicketCore] = []
        self._runtimes: list[Runtime] = []

    # --- setup ------------------------------------------------------------------------------------------
    def start(self) -> None:
        started = time.monotonic()
        for name in (DATABASE, SNAPSHOT):
            self.server.drop_database(name)
        self.server.create_database(DATABASE)
        for name in SCHEMA_FILES:
            self.server.source_file(SCHEMA / name, DATABASE)
        self.timings["schema"] = time.monotonic() - started
        self._setup_znuny()
        self.timings["setup-znuny"] = time.monotonic() - started - self.timings["schema"]
        migrate.upgrade(self._engine)
        # Znuny registers the link object "Ticket" lazily, on the first ticket event of a database; every
        # installation that has ever been used has the row, so the snapshot has it too.
        self.znuny([{"op": "Call", "Object": "Kernel::System::LinkObject", "Method": "ObjectLookup",
                     "Name": "Ticket"}])
        self.timezone = self._znuny_timezone()
        if self.timezone != "UTC":
            raise OracleError(f"Znuny's OTRSTimeZone is {self.timezone!r}; the harness assumes UTC")
        self._snapshot()
        self.timings["total"] = time.monotonic() - started

    def _setup_znuny(self) -> None:
        command = [str(ORACLE / "setup-znuny"), "--home", str(self.home), "--db-host", "127.0.0.1",
                   "--db-port", str(self.server.port), "--db-name", DATABASE, "--db-user", "otrs",
                   "--db-password", "otrs", "--agent", AGENT]
        if os.geteuid() == 0:
            command += ["--user", SYSTEM_USER]
        with _file_lock(LOCK_FILE):
            # The first setup on a machine may apt-get Perl packages and create the system user: one at a
            # time. Later ones only copy the tree and configure it, and run side by side.
            first = not PERL_READY.exists()
            if first:
                self._run_setup(command)
                PERL_READY.touch()
        if not first:
            self._run_setup(command)

    def _run_setup(self, command: list[str]) -> None:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.home / "var" / "log" / "setup-znuny.log"
            detail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise OracleError(
                f"setup-znuny failed (exit {result.returncode}); the oracle tests need Perl and Znuny's Perl "
                f"modules (setup-znuny installs them with apt-get as root).\n{result.stdout}\n{result.stderr}\n"
                f"--- {log}:\n{detail}")
        agent_line = [line for line in result.stdout.splitlines() if "ready in" in line]
        if not agent_line or f"= UserID {AGENT_ID}" not in agent_line[0]:
            raise OracleError(f"setup-znuny did not make {AGENT} UserID {AGENT_ID}:\n{result.stdout}")

    def _znuny_timezone(self) -> str:
        """OTRSTimeZone as the rebuilt configuration sets it (Config.pm, written by setup-znuny, sets none)."""
        auto = (self.home / "Kernel" / "Config" / "Files" / "ZZZAAuto.pm").read_text(errors="replace")
        match = re.search(r"\$Self->\{'OTRSTimeZone'\} = +'([^']*)';", auto)
        if match is None or "OTRSTimeZone" in (self.home / "Kernel" / "Config.pm").read_text():
            raise OracleError("cannot tell Znuny's OTRSTimeZone from Kernel/Config/Files/ZZZAAuto.pm")
        return match.group(1)

    def _snapshot(self) -> None:
        with self._engine.connect() as conn:
            self._tables = [r[0] for r in conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :db "
                "AND table_type = 'BASE TABLE' ORDER BY table_name"), {"db": DATABASE})]
            self.base = oracle_rows.base_of(conn)
        copy = "".join(f"CREATE TABLE {SNAPSHOT}.`{t}` LIKE {DATABASE}.`{t}`; "
                       f"INSERT INTO {SNAPSHOT}.`{t}` SELECT * FROM {DATABASE}.`{t}`; " for t in self._tables)
        self.server.create_database(SNAPSHOT)
        self.server.execute("SET FOREIGN_KEY_CHECKS = 0; " + copy)
        self._auto_increment = self._auto_increments(DATABASE)
        self._checksums = self._checksum(SNAPSHOT)

    def _auto_increments(self, database: str) -> dict[str, int | None]:
        out = self.server.execute(
            "SELECT table_name, COALESCE(auto_increment, 0) FROM information_schema.tables "
            f"WHERE table_schema = '{database}' AND table_type = 'BASE TABLE'")
        return {name: int(value) for name, value in (line.split("\t") for line in out.splitlines())}

    def _checksum(self, database: str) -> dict[str, str]:
        out = self.server.execute("CHECKSUM TABLE " + ", ".join(f"{database}.`{t}`" for t in self._tables))
        return {line.split("\t")[0].split(".", 1)[1]: line.split("\t")[1] for line in out.splitlines()}

    def stop(self) -> None:
        for core in self._cores:
            core.close()
        for runtime in self._runtimes:
            runtime.close()
        self._engine.dispose()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- the primitives ---------------------------------------------------------------------------------
    def fresh(self, *, storage: str = "db") -> Engine:
        """Restore the snapshot (only the tables that changed, with their AUTO_INCREMENT), empty the Znuny
        home's cache, log and FS article directory, configure Znuny's article storage (``db`` or ``fs``) and
        return an Engine on the database."""
        started = time.monotonic()
        # no pooled connection (ours, or of a core a scenario built) may hold a lock on a table being restored
        self._engine.dispose()
        for runtime in self._runtimes:
            runtime.engine.dispose()
        changed = [t for t, s in self._checksum(DATABASE).items() if s != self._checksums[t]]
        statements = ["SET FOREIGN_KEY_CHECKS = 0;"]
        for table in changed:
            statements.append(f"DELETE FROM {DATABASE}.`{table}`; "
                              f"INSERT INTO {DATABASE}.`{table}` SELECT * FROM {SNAPSHOT}.`{table}`;")
        now = self._auto_increments(DATABASE)
        for table, value in self._auto_increment.items():
            if value and now.get(table) != value:
                statements.append(f"ALTER TABLE {DATABASE}.`{table}` AUTO_INCREMENT = {value};")
        if len(statements) > 1:
            self.server.execute("\n".join(statements))
        for sub in ("var/tmp", "var/article"):
            # empty, but keep the directory itself with the owner and mode znuny.SetPermissions.pl gave it
            for child in (self.home / sub).iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        log = self.home / "var" / "log" / "znuny.log"
        if log.exists():
            log.write_text("")
        self._configure_storage(storage)
        self.timings["last fresh"] = time.monotonic() - started
        return self._engine

    def _configure_storage(self, storage: str) -> None:
        if storage not in ("db", "fs"):
            raise ValueError("storage must be db or fs")
        config = self.home / FS_CONFIG
        if storage == "fs":
            config.write_text(
                "# written by tests/oracle: Znuny stores articles on disk, as ArticleStorageFS\n"
                "package Kernel::Config::Files::ZZZZOracleArticleStorage;\nuse strict;\nuse warnings;\n"
                "sub Load {\n    my ( $File, $Self ) = @_;\n"
                "    $Self->{'Ticket::Article::Backend::MIMEBase::ArticleStorage'} =\n"
                "        'Kernel::System::Ticket::Article::Backend::MIMEBase::ArticleStorageFS';\n"
                "    return;\n}\n1;\n")
            _chown_like(config, self.home)
        elif config.exists():
            config.unlink()
        self._storage = storage

    def znuny(self, ops: Sequence[dict[str, Any]], *, time: int = EPOCH, **options: Any) -> dict[str, Any]:
        """Run ``ops`` through ``znuny_ops.pl`` as the Znuny system user at the frozen moment ``time``; fail the
        test, with stderr and the Znuny log, when the driver fails."""
        document = json.dumps({"options": {"time": time, **options}, "ops": list(ops)})
        prefix = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, "env", f"ZNUNY_HOME={self.home}", "perl", str(ORACLE / "znuny_ops.pl")],
            input=document.encode(), capture_output=True, check=False)
        stderr = result.stderr.decode("utf-8", "replace")
        try:
            out = json.loads(result.stdout)
        except ValueError:
            out = None
        if result.returncode != 0 or out is None or not out.get("ok"):
            log = self.home / "var" / "log" / "znuny.log"
            tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
            failed = [r for r in (out or {}).get("results", []) if not r.get("ok")]
            pytest.fail(f"znuny_ops.pl failed (exit {result.returncode}); failed ops: "
                        f"{json.dumps(failed, ensure_ascii=False)[:3000]}\n--- stderr:\n{stderr[-4000:]}\n"
                        f"--- Znuny log:\n{tail}\n--- stdout:\n{result.stdout[:2000]!r}", pytrace=False)
        return out

    def gi_operation(self, operation: str, data: dict[str, Any], *, time: int = EPOCH,
                     login: str = AGENT) -> dict[str, Any]:
        """Znuny's GenericTicketConnector operation ``operation`` (``TicketCreate``, ``TicketUpdate``...) run
        in-process by ``gi_operation.pl`` as its Provider runs it, as agent ``login`` (password = login, as
        setup-znuny makes it); the operation's ``{"Success", "ErrorMessage", "Data"}``."""
        request = {"time": time, "operation": operation, "type": f"Ticket::{operation}",
                   "data": {"UserLogin": login, "Password": login, **data}}
        prefix = ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, "env", f"ZNUNY_HOME={self.home}", "perl", str(GI_OPERATION)],
                                input=json.dumps(request).encode(), capture_output=True, check=False)
        try:
            return json.loads(result.stdout)
        except ValueError:
            log = self.home / "var" / "log" / "znuny.log"
            pytest.fail(f"Znuny's GI {operation} failed (exit {result.returncode}): {result.stdout[:2000]!r}\n"
                        f"{result.stderr.decode(errors='replace')[-4000:]}\n--- Znuny log:\n"
                        f"{log.read_text(errors='replace')[-3000:] if log.exists() else ''}", pytrace=False)

    def settings(self, *, storage: str = "db", **overrides: Any) -> Settings:
        """otrs-ext's settings for the oracle database, with OTRS's file cache and FS storage in the home."""
        values: dict[str, Any] = {
            "db_url": self.server.url(DATABASE), "redis_url": self.redis_url,
            # the API's search routes are not used here; nothing connects to this address
            "search_url": "mysql://127.0.0.1:9306", "otrs_version": "znuny7", "otrs_home": self.home,
            "otrs_cache": "file", "state_dir": self.workdir / "state", "article_storage": storage,
            "otrs_timezone": self.timezone, "system_id": "10", "ticket_number_generator": "DateChecksum",
            "ticket_number_pool": 0, "secret_key": "oracle-secret", **overrides,
        }
        return Settings(**values).validate()

    def ext(self, *, time: int = EPOCH, storage: str = "db", **overrides: Any) -> ExtCore:
        """otrs-ext's ticket core (``compose.build_ticket_core``) on the oracle database, frozen at ``time``."""
        runtime = build_runtime(self.settings(storage=storage, **overrides))
        core = build_ticket_core(runtime)
        self._cores.append(core)
        self._runtimes.append(runtime)
        clock = FixedClock(utc(time))
        self.freeze(core, runtime, clock)
        return ExtCore(core=core, runtime=runtime, clock=clock, refs={}, oracle=self)

    @staticmethod
    def freeze(core: TicketCore, runtime: Runtime, clock: FixedClock) -> None:
        """Give a ticket core the frozen clock: its writes and the ticket number's date and counter row."""
        settings = runtime.settings
        core.service.clock = clock
        core.service.numbers = TicketNumbers(
            runtime.engine, runtime.schema, generator=settings.ticket_number_generator,
            system_id=settings.system_id, timezone=settings.otrs_timezone, otrs_home=settings.otrs_home,
            clock=lambda: clock.current, sleep=lambda seconds: None)

    def rows(self, engine: Engine | None = None, *, only: Sequence[str] | None = None) -> oracle_rows.Rows:
        """The scenario's rows (every ticket made after the snapshot), ids ranked; with FS storage also the
        files under ``var/article`` (table ``fs_article``)."""
        assert self.base is not None
        with (engine or self._engine).connect() as conn:
            rows = oracle_rows.dump(conn, self.base, only=only)
            if self._storage == "fs":
                ranks = {r[0]: i for i, r in enumerate(conn.execute(text(
                    "SELECT id FROM article WHERE id > :b ORDER BY id"), {"b": self.base.article}), start=1)}
                rows.update(oracle_rows.files(self.home / "var" / "article", self.base, ranks))
        return rows

    def diff(self, znuny_rows: oracle_rows.Rows, ext_rows: oracle_rows.Rows, *,
             ignore: Sequence[str] = ()) -> list[str]:
        """Unexplained differences (``deliberate.py`` explains the registered ones), as readable lines;
        ``ignore`` = extra ``table.column`` / ``table.*`` names, e.g. times the clock cannot share. In a scenario
        marked ``pending(...)`` whose every difference belongs to those issues, raises ``PendingDifference``
        (the expected failure) instead."""
        lines = oracle_rows.compare(znuny_rows, ext_rows, ignore=ignore, scenario=self.scenario_name).problems
        pending.explain(lines, self.pending)
        return lines

    # --- scenario helpers -------------------------------------------------------------------------------
    def run_znuny(self, ops: Sequence[dict[str, Any]], *, setup: Sequence[dict[str, Any]] = (),
                  after: Sequence[dict[str, Any]] = (), time: int = EPOCH, storage: str = "db",
                  options: dict[str, Any] | None = None) -> Run:
        """Fresh database; ``setup`` + ``ops`` + ``after`` in one driver run (the clock is set back to ``time``
        after the setup, so the ops start where the otrs-ext side starts). ``options`` go to the driver, e.g.
        ``{"discard_after_each": 0}`` to run all ops as one request, as one otrs-ext write is."""
        self.fresh(storage=storage)
        reset = [{"op": "SetTime", "Epoch": time}] if setup else []
        out = self.znuny([*setup, *reset, *ops, *after], time=time, **(options or {}))
        results = out["results"]
        return Run(side="znuny", rows=self.rows(), results=results,
                   refs={r["ref"]: r for r in results if "ref" in r})

    def run_ext(self, scenario: Callable[[ExtCore], Any], *, setup: Sequence[dict[str, Any]] = (),
                after: Sequence[dict[str, Any]] = (), time: int = EPOCH, storage: str = "db",
                **settings: Any) -> Run:
        """Fresh database; ``setup`` through Znuny; ``scenario(core)`` through otrs-ext at the frozen ``time``;
        then ``after`` through Znuny at the clock's moment (e.g. ``SchedulerTasksRun``, the daemon's work)."""
        self.fresh(storage=storage)
        results: list[dict[str, Any]] = []
        if setup:
            results = self.znuny(setup, time=time)["results"]
        core = self.ext(time=time, storage=storage, **settings)
        core.refs = {r["ref"]: r for r in results if "ref" in r}
        returned = scenario(core)
        if after:
            results = results + core.znuny(after)["results"]
        core.runtime.engine.dispose()
        return Run(side="ext", rows=self.rows(), results=results, refs=core.refs, returned=returned)

    def compare(self, znuny: Run, ext: Run, *, ignore: Sequence[str] = ()) -> list[str]:
        """``diff`` of two runs."""
        return self.diff(znuny.rows, ext.rows, ignore=ignore)

    def scenario(self, ops: Sequence[dict[str, Any]], ext: Callable[[ExtCore], Any], *,
                 setup: Sequence[dict[str, Any]] = (), daemon: bool = False, time: int = EPOCH,
                 storage: str = "db", ignore: Sequence[str] = (), options: dict[str, Any] | None = None) -> list[str]:
        """Both runs and their diff in one call; ``daemon=True`` runs the queued scheduler tasks on both sides
        afterwards (``DAEMON``), so the comparison is of the state once OTRS's daemon has done its work."""
        after = DAEMON if daemon else ()
        znuny = self.run_znuny(ops, setup=setup, after=after, time=time, storage=storage, options=options)
        ours = self.run_ext(ext, setup=setup, after=after, time=time, storage=storage)
        return self.compare(znuny, ours, ignore=ignore)


def _chown_like(path: Path, reference: Path) -> None:
    if os.geteuid() == 0:
        info = reference.stat()
        os.chown(path, info.st_uid, info.st_gid)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

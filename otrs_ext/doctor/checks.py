"""``otrs-ext doctor``: checks of everything otrs-ext needs, each failure with the exact fix.

Checks run independently: an unreachable search daemon does not hide a wrong binlog format. The database
checks share one connection; when it cannot be opened they are reported as skipped, not as passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import redis
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.engine import make_url

import schema_maps

from ..db import migrate
from ..db.engine import make_engine
from ..db.sphinxql import SphinxQL
from ..errors import ConfigurationError, OtrsExtError
from ..events.checkpoint import CheckpointStore
from ..events.plugins import BUILTIN_HANDLERS
from ..search.indexdef import COLUMNS, INDEX_NAME
from ..settings import Settings
from ..tags.rules import load_rules
from .check import Check
from .daemon import daemon_check
from .files import CACHE, article_directory_check, cache_directory_check

# Tables otrs-ext reads or writes text into: 4-byte characters need utf8mb4 there.
_TEXT_TABLES = ("ticket", "article", "article_data_mime", "ticket_history", "customer_user", "queue")


def _mysql_user(settings: Settings) -> str:
    url = make_url(settings.db_url)
    return f"'{url.username}'@'<host>'"


class Doctor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self) -> list[Check]:
        return [*self._database_checks(), self._redis(), self._search(), self._tag_rules(), *self._files()]

    def _files(self) -> Iterator[Check]:
        """OTRS's cache and FS article directories, tried as the user otrs-ext runs as."""
        settings = self.settings
        if settings.otrs_cache == "file":
            temp_dir = settings.otrs_temp_dir or (settings.otrs_home / "var" / "tmp" if settings.otrs_home else None)
            if temp_dir is None:
                yield Check(CACHE, "fail", "OTRS's file cache cannot be found: neither OTRS_EXT_OTRS_HOME nor "
                            "OTRS_EXT_OTRS_TEMP_DIR is set, so no write can invalidate OTRS's cache",
                            "set OTRS_EXT_OTRS_HOME to OTRS's home (e.g. /opt/otrs), or OTRS_EXT_OTRS_CACHE to "
                            "OTRS's Cache::Redis URL, or none when OTRS runs without a cache")
            else:
                yield cache_directory_check(temp_dir / "CacheFileStorable")
        if settings.article_storage == "fs":
            root = settings.article_data_dir or Path(settings.otrs_home or ".") / "var" / "article"
            yield article_directory_check(root)

    def _tag_rules(self) -> Check:
        """The tag rules file loads: the tailer's ``tags`` handler and ``otrs-ext tags`` would refuse to start."""
        try:
            rules = load_rules(self.settings.tag_rules)
        except ConfigurationError as exc:
            return Check("tag rules", "fail", exc.message,
                         "fix the lines named (otrs_ext/tags/default_rules.toml documents every key), then restart "
                         "the tailer; `otrs-ext tags reconcile` applies changed rules to existing tickets")
        return Check("tag rules", "ok", rules.summary())

    def _database_checks(self) -> Iterator[Check]:
        engine = make_engine(self.settings.db_url, pool_size=1)
        try:
            try:
                conn = engine.connect()
            except Exception as exc:  # noqa: BLE001 - every driver error means "cannot connect"
                yield Check("database", "fail", f"cannot connect: {exc.__class__.__name__}: {exc}",
                            "check OTRS_EXT_DB_URL (host, port, user, password, database) and that the "
                            "server accepts TCP connections from this host")
                for name in ("otrs version", "privileges", "binlog", "charsets", "otrs daemon", "own tables"):
                    yield Check(name, "skip", "no database connection")
                return
            with conn:
                version = conn.execute(text("SELECT VERSION()")).scalar_one()
                yield Check("database", "ok", f"connected to {version}")
                yield from self._guarded(conn, self._otrs_version, "otrs version")
                yield from self._guarded(conn, self._privileges, "privileges")
                yield from self._guarded(conn, self._binlog, "binlog")
                yield from self._guarded(conn, self._charsets, "charsets")
                yield from self._guarded(conn, self._otrs_daemon, "otrs daemon")
            own = self._own_tables(engine)
            yield own
            if own.status == "ok":
                yield from self._guarded(None, lambda _: [self._tailer(engine)], "tailer")
        finally:
            engine.dispose()

    @staticmethod
    def _otrs_daemon(conn: Connection) -> Iterator[Check]:
        yield daemon_check(conn)

    @staticmethod
    def _guarded(conn: Connection | None, check: Callable, name: str) -> Iterator[Check]:
        try:
            yield from check(conn)
        except OtrsExtError as exc:
            yield Check(name, "fail", exc.message)
        except Exception as exc:  # noqa: BLE001 - doctor reports, it does not crash
            yield Check(name, "fail", f"{exc.__class__.__name__}: {exc}")

    def _otrs_version(self, conn: Connection) -> Iterator[Check]:
        generation = schema_maps.detect_generation(conn)
        label = schema_maps.load(generation).label
        configured = self.settings.otrs_version
        if configured not in ("auto", generation):
            yield Check("otrs version", "fail", f"detected {label} ({generation}) but OTRS_EXT_OTRS_VERSION="
                        f"{configured}", f"set OTRS_EXT_OTRS_VERSION=auto or {generation}")
        else:
            yield Check("otrs version", "ok", f"{label} ({generation})")

    def _privileges(self, conn: Connection) -> Iterator[Check]:
        grants = " ".join(row[0] for row in conn.execute(text("SHOW GRANTS FOR CURRENT_USER()"))).upper()
        database = conn.execute(text("SELECT DATABASE()")).scalar_one()
        user = _mysql_user(self.settings)
        all_global = re.search(r"GRANT ALL PRIVILEGES ON \*\.\*", grants) is not None
        needed = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX"]
        missing = [p for p in needed if not all_global and not _granted(grants, p, database)]
        if missing:
            yield Check("privileges", "fail", f"missing {', '.join(missing)} on `{database}`",
                        f"GRANT {', '.join(needed)} ON `{database}`.* TO {user};  "
                        "(CREATE/ALTER/INDEX are used only on otrs-ext's own otrs_ext_* tables)")
        else:
            yield Check("privileges", "ok", f"read/write on `{database}`")
        replication = all_global or ("REPLICATION SLAVE" in grants or "REPLICATION REPLICA" in grants)
        client = all_global or any(p in grants for p in ("REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"))
        if not (replication and client):
            yield Check("replication privileges", "fail",
                        "the tailer needs REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: BINLOG MONITOR)",
                        f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {user};")
        else:
            yield Check("replication privileges", "ok", "REPLICATION SLAVE and CLIENT granted")

    def _binlog(self, conn: Connection) -> Iterator[Check]:
        names = ("log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata", "version")
        rows = conn.execute(text(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', "
            "'binlog_row_metadata', 'version')"
        ))
        variables = {name.lower(): str(value) for name, value in rows}
        missing = [n for n in names[:3] if n not in variables]
        if missing:
            yield Check("binlog", "fail", f"server does not report {', '.join(missing)}")
            return
        if variables["log_bin"].upper() not in ("ON", "1"):
            yield Check("log_bin", "fail", "binary log is off; the tailer has nothing to read",
                        "add to the server config [mysqld]: log_bin = mysql-bin, server_id = 1, "
                        "binlog_format = ROW, binlog_row_image = FULL, and restart MariaDB/MySQL "
                        "(log_bin cannot be changed at run time)")
        else:
            yield Check("log_bin", "ok", "ON")
        for name, wanted in (("binlog_format", "ROW"), ("binlog_row_image", "FULL")):
            value = variables[name].upper()
            if value != wanted:
                yield Check(name, "fail", f"{value}; row events with full before/after images are required",
                            f"SET GLOBAL {name} = '{wanted}';  and in [mysqld]: {name} = {wanted}")
            else:
                yield Check(name, "ok", value)
        metadata = variables.get("binlog_row_metadata")
        if metadata is None:
            yield Check("binlog_row_metadata", "warn",
                        "server has no binlog_row_metadata (MariaDB < 10.5, MySQL < 8.0): column names "
                        "cannot be read from the binlog",
                        "upgrade to MariaDB >= 10.5 or MySQL >= 8.0.1")
        elif metadata.upper() != "FULL":
            yield Check("binlog_row_metadata", "fail", f"{metadata}; without FULL, row events carry no column names",
                        "SET GLOBAL binlog_row_metadata = 'FULL';  and in [mysqld]: binlog_row_metadata = FULL")
        else:
            yield Check("binlog_row_metadata", "ok", "FULL")

    def _charsets(self, conn: Connection) -> Iterator[Check]:
        rows = conn.execute(text(
            "SELECT table_name, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name IN :names"
        ).bindparams(bindparam("names", expanding=True)), {"names": list(_TEXT_TABLES)})
        narrow = sorted(name for name, collation in rows if collation and not collation.startswith("utf8mb4"))
        if narrow:
            yield Check("charsets", "warn",
                        f"3-byte utf8 tables: {', '.join(narrow)}; otrs-ext replaces characters above U+FFFF "
                        "(emoji) by U+FFFD there, as OTRS does",
                        "convert during an OTRS maintenance window: ALTER TABLE <table> CONVERT TO CHARACTER SET "
                        "utf8mb4 COLLATE utf8mb4_unicode_ci; (Znuny ships a utf8mb4 migration)")
        else:
            yield Check("charsets", "ok", "utf8mb4")

    def _own_tables(self, engine) -> Check:  # noqa: ANN001 - a SQLAlchemy Engine
        applied, wanted = migrate.current(engine, self.settings.own_schema), migrate.head()
        if applied != wanted:
            return Check("own tables", "fail", f"migration {applied or 'none'} applied, {wanted} expected",
                         "otrs-ext db upgrade")
        return Check("own tables", "ok", f"at migration {applied}")

    def _tailer(self, engine) -> Check:  # noqa: ANN001 - a SQLAlchemy Engine
        """How far the tailer's last checkpoint is behind the server's binlog, and how old it is."""
        identity = self.settings.tail_identity
        if not self.settings.handlers:
            return Check("tailer", "warn", "OTRS_EXT_HANDLERS is empty: the tailer reads events but hands them to "
                         "no handler (search, tags, ... stay unfed)",
                         f"set OTRS_EXT_HANDLERS, e.g. {','.join(BUILTIN_HANDLERS)}")
        checkpoint = CheckpointStore(engine, identity, self.settings.own_schema).load()
        if checkpoint is None:
            return Check("tailer", "warn", f"no checkpoint for identity {identity!r}: the tailer has not run yet",
                         "start `otrs-ext tail` (the demo runs it)")
        with engine.connect() as conn:
            age = conn.execute(text("SELECT TIMESTAMPDIFF(SECOND, :at, NOW(6))"),
                               {"at": checkpoint.updated_at}).scalar_one()
            master = conn.exec_driver_sql("SHOW MASTER STATUS").first()
        done = checkpoint.dispatched
        if master is None or done.log_file.startswith("poll."):
            return Check("tailer", "ok", f"checkpoint {done}, {age}s old")
        behind = (int(master[1]) - done.log_pos) if master[0] == done.log_file else None
        where = f"{behind} bytes behind" if behind is not None else f"at {done.log_file}, server at {master[0]}"
        if (behind is None or behind > 0) and age > STALE_TAIL_SECONDS:
            return Check("tailer", "warn", f"checkpoint {age}s old, {where}",
                         "is `otrs-ext tail` running? its log and /healthz tell why it stopped")
        return Check("tailer", "ok", f"checkpoint {age}s old, {where}")

    def _redis(self) -> Check:
        client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=3, socket_connect_timeout=3)
        try:
            version = client.info("server").get("redis_version", "?")
            return Check("redis", "ok", f"redis {version} at {self.settings.redis_url}")
        except redis.RedisError as exc:
            return Check("redis", "fail", f"{self.settings.redis_url}: {exc}",
                         "start redis-server or fix OTRS_EXT_REDIS_URL")
        finally:
            client.close()

    def _search(self) -> Check:
        client = SphinxQL(self.settings.search_url, connect_timeout=3)
        try:
            client.status()
            columns = [row[0] for row in client.query(f"DESCRIBE {INDEX_NAME}")]
        except Exception as exc:  # noqa: BLE001 - any driver error means unreachable or no index
            return Check("search", "fail", f"{client.url}: {exc}",
                         f"start searchd with the configuration printed by `otrs-ext search config` "
                         f"(it defines the RT index '{INDEX_NAME}'), or fix OTRS_EXT_SEARCH_URL")
        missing = [name for name in COLUMNS if name not in columns]
        if missing:  # the index predates this version's fields: every REPLACE of the live handler would fail
            return Check("search", "fail", f"index {INDEX_NAME} at {client.url} lacks {', '.join(missing)}",
                         "the index was built by an older otrs-ext: write the new config (`otrs-ext search config`), "
                         "stop searchd, remove the index files under its data directory, start it and run "
                         "`otrs-ext search reindex`")
        return Check("search", "ok", f"index {INDEX_NAME} with {len(columns)} columns at {client.url}")


STALE_TAIL_SECONDS = 300


def _granted(grants: str, privilege: str, database: str) -> bool:
    """True when ``privilege`` (or ALL) is granted globally or on ``database``."""
    for match in re.finditer(r"GRANT (.+?) ON (\S+) TO", grants):
        privileges, target = match.group(1), match.group(2).replace("`", "")
        if target in ("*.*", f"{database.upper()}.*") and (privilege in privileges or "ALL PRIVILEGES" in privileges):
            return True
    return False

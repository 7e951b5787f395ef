"""The one settings object of otrs-ext.

Values come from (highest first) ``OTRS_EXT_*`` environment variables, the TOML file named by
``OTRS_EXT_CONFIG`` (flat keys, the lower-case field names), and the defaults below. They are validated once,
all at the same time, so an operator sees every wrong value in one message together with how to fix it.
Tests build ``Settings(...)`` directly.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .pool.points import DEFAULT_FORMULA, PointsFormula
from .pool.points import parse as parse_points

ENV_PREFIX = "OTRS_EXT_"
# SysConfig keys of OTRS event modules whose effect otrs-ext writes itself (tickets/otrs_event_modules.REPRODUCED)
_REPRODUCED_EVENT_MODULES = ("3300-TicketPendingTimeReset", "3600-ForceUnlockOnMove",
                             "4000-TicketArticleNewMessageUpdate", "3100-LockAfterCreate")
TICKET_NUMBER_GENERATORS = ("DateChecksum", "AutoIncrement", "Date", "Random")
POOL_ORDERS = ("create_time", "escalation_time", "priority")
# OTRS's permission keys (System::Permission; otrs_ext.tickets.permissions checks them)
PERMISSION_KEYS = ("ro", "move_into", "create", "note", "owner", "priority", "rw")
OTRS_GENERATIONS = ("auto", "otrs5", "otrs6", "znuny6", "znuny7", "znuny71", "otobo10", "otobo11")


def _setting(default: Any, help: str, parse: Callable[[str], Any] | None = None, *, secret: bool = False) -> Any:
    return field(default=default, repr=not secret, metadata={"help": help, "parse": parse})


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("use true or false")


def _parse_names(raw: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in raw.split(",") if n.strip())


def _parse_optional_path(raw: str) -> Path | None:
    return Path(raw).expanduser() if raw.strip() else None


@dataclass(frozen=True)
class Settings:
    """Every setting otrs-ext reads. Field name ``x`` is set by env ``OTRS_EXT_X`` or TOML key ``x``."""

    db_url: str = _setting(
        "mysql+pymysql://otrs:otrs@127.0.0.1:3306/otrs?charset=utf8mb4",
        "SQLAlchemy URL of the OTRS database, e.g. mysql+pymysql://otrs:secret@db:3306/otrs?charset=utf8mb4",
    )
    redis_url: str = _setting("redis://127.0.0.1:6379/0", "Redis URL, e.g. redis://127.0.0.1:6379/0")
    search_url: str = _setting(
        "mysql://127.0.0.1:9306", "SphinxQL address of searchd or Manticore, e.g. mysql://127.0.0.1:9306"
    )
    own_schema: str | None = _setting(
        None,
        "database (MySQL schema) for otrs-ext's own tables; empty = the OTRS database itself",
        lambda raw: raw.strip() or None,
    )
    otrs_version: str = _setting(
        "auto", "schema generation of the OTRS database: auto (detect) or one of " + ", ".join(OTRS_GENERATIONS[1:])
    )
    otrs_home: Path | None = _setting(
        None, "path of the OTRS installation (/opt/otrs, /opt/znuny), for its file cache and FS storage",
        _parse_optional_path,
    )
    otrs_cache: str = _setting("file", "OTRS cache backend to invalidate: file, or a redis://... URL")
    otrs_cache_prefix: str = _setting("", "key prefix of a namespaced Cache::Redis module; empty = none")
    otrs_temp_dir: Path | None = _setting(
        None, "OTRS TempDir holding CacheFileStorable; empty = <OTRS_EXT_OTRS_HOME>/var/tmp", _parse_optional_path
    )
    otrs_cache_subdir_levels: int = _setting(2, "OTRS Cache::SubdirLevels of the file cache (0-5)", int)
    state_dir: Path = _setting(
        Path("/var/lib/otrs-ext"), "directory for otrs-ext's local state: the cache-invalidation spool", Path
    )
    customer_company_tickets: bool = _setting(
        True, "customers see their companies' tickets (not CustomerDisableCompanyTicketAccess)", _parse_bool
    )
    article_storage: str = _setting("db", "OTRS article storage: db (ArticleStorageDB) or fs (ArticleStorageFS)")
    article_data_dir: Path | None = _setting(
        None, "ArticleDataDir of the fs backend; empty = <OTRS_EXT_OTRS_HOME>/var/article", _parse_optional_path
    )
    attachment_max_bytes: int = _setting(20 * 1024 * 1024, "largest attachment accepted, in bytes", int)
    ticket_responsible: bool = _setting(False, "OTRS Ticket::Responsible is on (responsible may access)", _parse_bool)
    ticket_watcher: bool = _setting(False, "OTRS Ticket::Watcher is on (watchers may read)", _parse_bool)
    otrs_base_url: str = _setting("http://localhost/otrs/", "base URL of the OTRS web UI, for links")
    otrs_timezone: str = _setting("UTC", "OTRSTimeZone of the OTRS installation")
    system_id: str = _setting("10", "OTRS SystemID (SysConfig SystemID), one or two digits")
    ticket_number_generator: str = _setting(
        "DateChecksum", "OTRS Ticket::NumberGenerator: " + ", ".join(TICKET_NUMBER_GENERATORS)
    )
    ticket_number_pool: int = _setting(
        4, "ticket numbers the API keeps drawn ahead (skips OTRS's 50 ms counter pause; unused ones are gaps); 0 = off",
        int,
    )
    otrs_event_modules: tuple[str, ...] = _setting(
        ("*",), "OTRS event modules (Ticket::EventModulePost keys, e.g. 9990-EscalationIndex,7000-NotificationEvent) "
        "whose work otrs-ext's writes queue for OTRS's daemon; * = every valid one otrs-ext does not do itself; "
        "empty = none", _parse_names,
    )
    handlers: tuple[str, ...] = _setting(
        (), "comma-separated event handler plugins to run in the tailer", _parse_names
    )
    tag_rules: Path | None = _setting(
        None, "TOML file of the tag rules (source, participant and notification tags); empty = the rules shipped "
        "with otrs-ext (otrs_ext/tags/default_rules.toml, which documents every key)", _parse_optional_path,
    )
    api_max_request_bytes: int = _setting(
        60 * 1024 * 1024, "largest API request (body with all attachments), in bytes; larger gets 413", int
    )
    api_intake_queues: tuple[str, ...] = _setting(
        (), "comma-separated queues intake (website) keys may create tickets in; empty = any", _parse_names
    )
    gi_webservices: tuple[str, ...] = _setting(
        (), "comma-separated GenericInterface web service names the GI routes answer to; empty = any", _parse_names
    )
    gi_session_max_seconds: int = _setting(
        57600, "GI SessionCreate sessions end this long after login (OTRS SessionMaxTime)", int
    )
    gi_session_idle_seconds: int = _setting(
        7200, "GI sessions unused this long end (OTRS SessionMaxIdleTime)", int
    )
    secret_key: str = _setting(
        "", "secret for signed tokens and links (customer tokens, rating links); a long random string", secret=True
    )
    customer_token_seconds: int = _setting(3600, "lifetime of a customer token of the portal, in seconds", int)
    trusted_proxies: int = _setting(
        0, "reverse proxies in front of the API and screens whose X-Forwarded-For/-Proto/-Host are believed "
           "(TLS ended there: cookies get Secure, answers HSTS); 0 = none", int
    )
    tail_identity: str = _setting(
        "default", "name of this tailer: its checkpoint and lock (one running tailer per identity)"
    )
    tail_server_id: int = _setting(0, "replica server_id the tailer registers with; 0 = derived from the identity", int)
    tail_debounce_seconds: float = _setting(
        2.0, "how long the tailer waits for OTRS to finish writing a ticket or article without history row", float
    )
    tail_checkpoint_seconds: float = _setting(1.0, "at most one tailer checkpoint per this many seconds", float)
    tail_source: str = _setting(
        "binlog", "where the tailer reads changes: binlog (a replica connection) or poll (ticket_history and article "
        "by id, for servers without a ROW binlog)"
    )
    tail_poll_seconds: float = _setting(0.5, "poll source: seconds between polls once caught up", float)
    tail_poll_gap_seconds: float = _setting(
        10.0, "poll source: how long a missing history or article id may still be committed before it is skipped",
        float,
    )
    tail_metrics_port: int = _setting(0, "port of the tailer's /metrics and /healthz; 0 = off", int)
    api_idempotency_stale_seconds: float = _setting(
        120.0, "a ticket create whose Idempotency-Key claim is this old without an answer died (worker or database "
        "gone) and may be retried; longer than any request takes", float,
    )
    client_api_url: str = _setting("http://127.0.0.1:8080", "base URL of the otrs-ext API the durable client sends to")
    client_api_key: str = _setting(
        "", "API key of the durable client (otrs_ext.client); the outbox worker delivers with it", secret=True
    )
    client_timeout_seconds: float = _setting(10.0, "durable client: timeout of one HTTP request, in seconds", float)
    outbox_redis_url: str = _setting(
        "", "Redis of the durable client's outbox (items, attachments, Celery broker); must persist (appendonly yes) "
        "and never evict (maxmemory-policy noeviction); empty = OTRS_EXT_REDIS_URL",
    )
    outbox_deadline_seconds: float = _setting(
        43200.0, "how long the outbox retries a request before it goes to the dead-letter list, in seconds", float
    )
    outbox_backoff_seconds: float = _setting(
        5.0, "outbox: delay before the first retry; doubles per attempt, with jitter, up to the maximum", float
    )
    outbox_backoff_max_seconds: float = _setting(600.0, "outbox: longest delay between two attempts, in seconds", float)
    outbox_alerts: str = _setting(
        "log", "comma-separated alert hooks for dead-lettered requests: log (CRITICAL log line), module:function, "
        "or a name in the otrs_ext.outbox_alerts entry point group",
    )
    pool_points: PointsFormula = _setting(
        DEFAULT_FORMULA, "points of a ticket for an agent, from its position in the agent's pool list and its age: "
        "terms position:base=,step=,min= (max(min, base - step*(position-1))) and age:per_hour=,max= "
        "(min(max, per_hour*hours)), separated by ;", parse_points,
    )
    pool_penalty_factor: float = _setting(
        3.0, "penalty for unlocking a ticket without a reply to the customer, as a multiple of its points", float
    )
    pool_queues: tuple[str, ...] = _setting(
        (), "comma-separated queues whose tickets the pool hands out; empty = every valid queue", _parse_names
    )
    pool_excluded_queues: tuple[str, ...] = _setting(
        (), "comma-separated queues never in the pool (e.g. Junk), also when OTRS_EXT_POOL_QUEUES is empty",
        _parse_names,
    )
    pool_permission: str = _setting(
        "rw", "permission key an agent needs on a queue's group (directly or through a role) to get its tickets"
    )
    pool_order: str = _setting(
        "create_time", "order of a queue's tickets in the pool: " + ", ".join(POOL_ORDERS) + " (priority: highest "
        "first, then oldest)",
    )
    pool_queue_orders: tuple[str, ...] = _setting(
        (), "comma-separated Queue=order pairs overriding OTRS_EXT_POOL_ORDER for those queues", _parse_names
    )
    pool_state_types: tuple[str, ...] = _setting(
        ("new", "open"), "state types of the tickets the pool hands out (OTRS Ticket::UnlockStateType)", _parse_names
    )
    pool_department_groups: tuple[str, ...] = _setting(
        (), "OTRS groups that are departments in the points reports (an agent belongs to those he holds "
        "OTRS_EXT_POOL_PERMISSION on); empty = the groups owning the pool queues", _parse_names,
    )
    pool_heads_group: str = _setting(
        "admin", "OTRS group whose rw members (directly or through a role) are heads of support: they read and "
        "adjust the points of their departments' agents (the department groups they hold rw on; none: all)",
    )
    pool_session_seconds: int = _setting(
        120, "a pool session without a heartbeat for this long expires: its unanswered ticket is unlocked", int
    )
    pool_heartbeat_seconds: int = _setting(
        20, "how often a pool client sends its heartbeat, in seconds (well below OTRS_EXT_POOL_SESSION_SECONDS)", int
    )
    log_level: str = _setting("INFO", "log level: DEBUG, INFO, WARNING, ERROR")
    log_json: bool = _setting(True, "structured JSON log lines (true) or plain text (false)", _parse_bool)

    def validate(self) -> Settings:
        """Check every value; raise one ConfigurationError listing all problems and their fixes."""
        _raise_if(self.problems())
        return self

    def problems(self) -> list[str]:
        """One line per wrong value: the variable, the value and how to fix it."""
        problems: list[str] = []

        def bad(name: str, message: str) -> None:
            value = getattr(self, name)
            problems.append(f"{ENV_PREFIX}{name.upper()} = {value!r}: {message}")

        db = urlsplit(self.db_url)
        if not db.scheme.startswith("mysql") and not db.scheme.startswith("mariadb"):
            bad("db_url", "must be a MySQL/MariaDB SQLAlchemy URL such as mysql+pymysql://otrs:secret@db:3306/otrs")
        elif not db.path.strip("/"):
            bad("db_url", "names no database; append it: mysql+pymysql://user:pw@host:3306/otrs")
        if urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            bad("redis_url", "must start with redis://, rediss:// or unix://, e.g. redis://127.0.0.1:6379/0")
        search = urlsplit(self.search_url)
        if search.scheme != "mysql" or not search.hostname or not search.port:
            bad("search_url", "must be mysql://HOST:PORT, the SphinxQL listener of searchd/Manticore")
        if self.otrs_version not in OTRS_GENERATIONS:
            bad("otrs_version", "use one of " + ", ".join(OTRS_GENERATIONS))
        if self.otrs_cache != "file" and urlsplit(self.otrs_cache).scheme not in ("redis", "rediss"):
            bad("otrs_cache", "use file, or a redis://host:port/db URL")
        if not (self.system_id.isdigit() and 1 <= len(self.system_id) <= 2):
            bad("system_id", "must be the one- or two-digit OTRS SystemID (SysConfig -> Core -> SystemID)")
        if self.ticket_number_generator not in TICKET_NUMBER_GENERATORS:
            bad("ticket_number_generator", "use one of " + ", ".join(TICKET_NUMBER_GENERATORS))
        if self.article_storage not in ("db", "fs"):
            bad("article_storage", "use db or fs, as SysConfig Ticket::Article::Backend::MIMEBase::ArticleStorage")
        if self.article_storage == "fs" and self.article_data_dir is None and self.otrs_home is None:
            bad("article_storage", "fs needs OTRS_EXT_ARTICLE_DATA_DIR or OTRS_EXT_OTRS_HOME to find the files")
        if self.otrs_cache != "file" and self.otrs_cache != "none" and not self.otrs_cache.startswith(
                ("redis://", "rediss://", "unix://")):
            bad("otrs_cache", "use file (OTRS's FileStorable cache), none, or the redis://host:port/db of Cache::Redis")
        if not 0 <= self.otrs_cache_subdir_levels <= 5:
            bad("otrs_cache_subdir_levels", "must be OTRS's Cache::SubdirLevels, 0 to 5 (default 2)")
        reproduced = [k for k in self.otrs_event_modules if k in _REPRODUCED_EVENT_MODULES]
        if reproduced:
            bad("otrs_event_modules", f"otrs-ext does the work of {', '.join(reproduced)} itself, in the same "
                "transaction; queueing it too would do it twice: remove it (or use *)")
        if not 0 <= self.ticket_number_pool <= 1000:
            bad("ticket_number_pool", "must be 0 (draw at each create) to 1000")
        if self.attachment_max_bytes <= 0:
            bad("attachment_max_bytes", "must be a positive number of bytes")
        if self.gi_session_max_seconds <= 0 or self.gi_session_idle_seconds <= 0:
            bad("gi_session_max_seconds", "GI session lifetimes must be positive numbers of seconds")
        if not self.tail_identity or len(self.tail_identity) > 40:
            bad("tail_identity", "must be 1 to 40 characters")
        if self.tail_debounce_seconds < 0 or self.tail_checkpoint_seconds < 0:
            bad("tail_debounce_seconds", "tail debounce and checkpoint seconds must not be negative")
        if self.tail_source not in ("binlog", "poll"):
            bad("tail_source", "use binlog (needs binlog_format=ROW, binlog_row_metadata=FULL) or poll")
        if self.tail_poll_seconds <= 0 or self.tail_poll_gap_seconds < 0:
            bad("tail_poll_seconds", "the poll interval must be positive and the gap grace not negative")
        if self.api_idempotency_stale_seconds < 1:
            bad("api_idempotency_stale_seconds", "must be at least 1 second (keep it above the longest request)")
        if urlsplit(self.client_api_url).scheme not in ("http", "https"):
            bad("client_api_url", "must be an http:// or https:// URL such as https://helpdesk.example/")
        if self.outbox_redis_url and urlsplit(self.outbox_redis_url).scheme not in ("redis", "rediss", "unix"):
            bad("outbox_redis_url", "must be empty or start with redis://, rediss:// or unix://")
        if self.client_timeout_seconds <= 0 or self.outbox_deadline_seconds <= 0:
            bad("outbox_deadline_seconds", "the client timeout and the outbox deadline must be positive")
        if not 0 < self.outbox_backoff_seconds <= self.outbox_backoff_max_seconds:
            bad("outbox_backoff_seconds", "must be positive and at most OTRS_EXT_OUTBOX_BACKOFF_MAX_SECONDS")
        problems += self._pool_problems()
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            bad("log_level", "use DEBUG, INFO, WARNING or ERROR")
        return problems

    def _pool_problems(self) -> list[str]:
        problems: list[str] = []

        def bad(name: str, message: str) -> None:
            problems.append(f"{ENV_PREFIX}{name.upper()} = {_env_value(getattr(self, name))!r}: {message}")

        if not 0 <= self.pool_penalty_factor <= 1000:
            bad("pool_penalty_factor", "must be a number from 0 (no penalty) to 1000, e.g. 3")
        if self.pool_permission not in PERMISSION_KEYS:
            bad("pool_permission", "use one of the OTRS permission keys " + ", ".join(PERMISSION_KEYS))
        if self.pool_order not in POOL_ORDERS:
            bad("pool_order", "use one of " + ", ".join(POOL_ORDERS))
        for pair in self.pool_queue_orders:
            queue, sep, order = pair.rpartition("=")
            if not sep or not queue.strip() or order.strip() not in POOL_ORDERS:
                bad("pool_queue_orders", f"{pair!r} is not Queue=order with order one of {', '.join(POOL_ORDERS)}")
        if not self.pool_state_types:
            bad("pool_state_types", "name at least one OTRS state type, e.g. new,open")
        if not self.pool_heads_group.strip():
            bad("pool_heads_group", "name the OTRS group of the heads of support, e.g. admin")
        if self.pool_session_seconds < 10 or not 1 <= self.pool_heartbeat_seconds < self.pool_session_seconds:
            bad("pool_session_seconds", "the session must last at least 10 s and the heartbeat "
                "(OTRS_EXT_POOL_HEARTBEAT_SECONDS) come more often than that")
        return problems

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read defaults, then the TOML file, then the environment, then ``overrides``; validate once."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        known = {f.name: f for f in fields(cls)}
        config_path = env.get(ENV_PREFIX + "CONFIG")
        if config_path:
            path = Path(config_path).expanduser()
            try:
                document = tomllib.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise ConfigurationError(
                    f"{ENV_PREFIX}CONFIG = {config_path!r}: no such file; create it or unset the variable"
                ) from None
            except tomllib.TOMLDecodeError as exc:
                raise ConfigurationError(f"{ENV_PREFIX}CONFIG = {config_path!r}: not valid TOML: {exc}") from None
            for key, value in document.items():
                if key not in known:
                    problems.append(f"{path}: unknown key {key!r}; known keys: {', '.join(sorted(known))}")
                    continue
                values[key] = _coerce(known[key], value, f"{path}: {key}", problems)
        for name, spec in known.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None:
                values[name] = _coerce(spec, raw, ENV_PREFIX + name.upper(), problems)
        values.update(overrides)
        settings = cls(**values)
        _raise_if(problems + settings.problems())
        return settings

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes).validate()

    def environ(self) -> dict[str, str]:
        """These settings as ``OTRS_EXT_*`` variables, for a child process (``Settings.load`` reads them back)."""
        return {ENV_PREFIX + f.name.upper(): _env_value(getattr(self, f.name)) for f in fields(self)}


def _raise_if(problems: list[str]) -> None:
    if problems:
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(problems))


def _coerce(spec: Any, raw: Any, where: str, problems: list[str]) -> Any:
    parse = spec.metadata.get("parse")
    if not isinstance(raw, str):
        if isinstance(raw, bool | list | int):
            return tuple(raw) if isinstance(raw, list) else raw
        raw = str(raw)
    if parse is None:
        return raw
    try:
        return parse(raw)
    except ValueError as exc:
        problems.append(f"{where} = {raw!r}: {exc}")
        return spec.default if spec.default is not MISSING else None


def describe() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting: the configuration reference."""
    return [
        (ENV_PREFIX + f.name.upper(), _show(f.default), f.metadata["help"])
        for f in fields(Settings)
    ]


def _env_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _show(default: Any) -> str:
    if default is None or default == ():
        return ""
    if isinstance(default, tuple):
        return ",".join(default)
    return str(default).lower() if isinstance(default, bool) else str(default)

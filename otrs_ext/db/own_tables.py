"""otrs-ext's own tables: all named with one prefix, created only by the Alembic migrations.

They live in the OTRS database, or in a separate database (``OTRS_EXT_OWN_SCHEMA``) on the same server.
OTRS tables are never altered: these maps are the only tables otrs-ext creates.
"""

from __future__ import annotations

import functools

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)
from sqlalchemy.dialects.mysql import DATETIME, MEDIUMTEXT

PREFIX = "otrs_ext_"
VERSION_TABLE = PREFIX + "alembic_version"


def own_metadata(schema: str | None = None) -> MetaData:
    """The own tables, qualified with ``schema`` when they live in a separate database."""
    md = MetaData(schema=schema)
    Table(
        PREFIX + "seed_run", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("seed", BigInteger, nullable=False),
        Column("tickets", Integer, nullable=False),
        Column("articles_per_ticket", Float, nullable=False),
        Column("generation", String(20), nullable=False),
        Column("status", String(20), nullable=False),  # running, done, failed
        Column("started_at", DateTime, nullable=False),
        Column("finished_at", DateTime),
        Column("seconds", Float),
        Column("counts", JSON),  # rows written per OTRS table
        Column("error", String(2000)),
    )
    # where a tailer resumes (log_file/log_pos or gtid: the start of its oldest unfinished transaction) and
    # up to where its events were handed to the handlers (events up to there are not dispatched again)
    Table(
        PREFIX + "tail_checkpoint", md,
        Column("identity", String(100), primary_key=True),
        Column("log_file", String(255), nullable=False),
        Column("log_pos", BigInteger, nullable=False),
        Column("gtid", String(255)),
        Column("dispatched_file", String(255), nullable=False),
        Column("dispatched_pos", BigInteger, nullable=False),
        Column("updated_at", DATETIME(fsp=6), nullable=False),
    )
    # per handler: the position up to which its store already reflects OTRS when that is ahead of the tailer
    # (a reindex of the search index; a first start's snapshot), see otrs_ext/events/checkpoint.py
    Table(
        PREFIX + "handler_position", md,
        Column("handler", String(100), primary_key=True),
        Column("log_file", String(255), nullable=False),
        Column("log_pos", BigInteger, nullable=False),
        Column("gtid", String(255)),
        Column("recorded_by", String(40), nullable=False),  # reindex, snapshot
        Column("updated_at", DATETIME(fsp=6), nullable=False),
    )
    # handlers whose effects are not naturally idempotent record the events they applied here
    Table(
        PREFIX + "handled_event", md,
        Column("handler", String(100), primary_key=True),
        Column("event_id", String(191), primary_key=True),
        Column("handled_at", DateTime, nullable=False),
    )
    # the event_log handler: one row per domain event, however often it was delivered
    Table(
        PREFIX + "event_log", md,
        Column("event_id", String(191), primary_key=True),
        Column("event_type", String(40), nullable=False),
        Column("ticket_id", BigInteger, nullable=False),
        Column("backfill", Boolean, nullable=False),
        Column("occurred_at", DateTime),
        Column("first_seen", DATETIME(fsp=6), nullable=False),
        Column("deliveries", Integer, nullable=False),
        Index(PREFIX + "event_log_ticket", "ticket_id"),
    )
    # API keys: only a hash of the secret is kept; ``prefix`` finds the row, the hash proves the key
    Table(
        PREFIX + "api_key", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("prefix", String(16), nullable=False, unique=True),
        Column("secret_hash", String(64), nullable=False),
        Column("scope", String(20), nullable=False),  # intake, agent
        Column("agent_id", Integer),  # the OTRS agent an agent key acts as
        Column("name", String(200), nullable=False),
        Column("rate_per_minute", Integer, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("last_used_at", DateTime),
        Column("revoked_at", DateTime),
    )
    # the stored outcome of a request sent with an Idempotency-Key (NULL status: still being processed)
    Table(
        PREFIX + "idempotency", md,
        Column("key_id", Integer, primary_key=True),
        Column("idem_key", String(191), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response_body", MEDIUMTEXT),
        Column("location", String(500)),
        Column("created_at", DateTime, nullable=False),
        Index(PREFIX + "idempotency_created", "created_at"),
    )
    # where a ticket created through the API came from (site-authorized, site-anonymous, email, api) and by
    # which key: OTRS has no column for it
    Table(
        PREFIX + "ticket_source", md,
        Column("ticket_id", BigInteger, primary_key=True),
        Column("source", String(40), nullable=False),
        Column("api_key_id", Integer),
        Column("created_at", DateTime, nullable=False),
    )
    _tags(md)
    _pool(md)
    return md


def _tags(md: MetaData) -> None:
    """Tags (``otrs_ext.tags``): OTRS dynamic fields were too slow for them and load OTRS's busiest tables."""
    # kind: source, participant, notification, manual; name_key: the name case-folded (the unique key: a binary
    # collation, so neither case, accents nor trailing spaces make two names one, as MariaDB's default would)
    Table(
        PREFIX + "tag", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("kind", String(20), nullable=False),
        Column("name", String(100), nullable=False),
        Column("name_key", String(100, collation="utf8mb4_bin"), nullable=False),
        Column("labels", JSON),  # {"en": "...", "ru": "..."}
        Column("colour", String(7)),  # #rrggbb
        Column("valid", Boolean, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("created_by", String(120), nullable=False),  # an agent id, or rule:<name>
        Index(PREFIX + "tag_kind_name", "kind", "name_key", unique=True),
    )
    # one link per ticket and tag: who set it (an agent, or a rule) and the article that made a rule set it
    Table(
        PREFIX + "ticket_tag", md,
        Column("ticket_id", BigInteger, primary_key=True),
        Column("tag_id", Integer, primary_key=True),
        Column("agent_id", Integer),
        Column("rule", String(100)),
        Column("article_id", BigInteger),
        Column("created_at", DATETIME(fsp=6), nullable=False),
        Index(PREFIX + "ticket_tag_tag", "tag_id", "ticket_id"),
    )
    # manual tags added and removed, kept after the link is gone
    Table(
        PREFIX + "ticket_tag_audit", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("ticket_id", BigInteger, nullable=False),
        Column("tag_id", Integer, nullable=False),
        Column("action", String(10), nullable=False),  # added, removed
        Column("agent_id", Integer),
        Column("rule", String(100)),
        Column("at", DATETIME(fsp=6), nullable=False),
        Index(PREFIX + "ticket_tag_audit_ticket", "ticket_id"),
    )
    # where a long resumable job (a tag backfill) got to
    Table(
        PREFIX + "job_progress", md,
        Column("job", String(100), primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("detail", JSON),
        Column("started_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=False),
        Column("finished_at", DateTime),
    )


def _pool(md: MetaData) -> None:
    """The ticket pool and its points (``otrs_ext.pool``)."""
    # append-only: credit on lock (pending), confirm on the holder's reply, penalty on a release without one,
    # adjust by a head of support. ``event_id`` makes the tailer's replays write nothing twice; ``credit_id``
    # ties a confirm or penalty to the credit of the same hold. Times are the database's, as OTRS's own.
    Table(
        PREFIX + "points_ledger", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("agent_id", Integer, nullable=False),
        Column("ticket_id", BigInteger),
        Column("kind", String(10), nullable=False),  # credit, confirm, penalty, adjust
        Column("points", Numeric(10, 2), nullable=False),  # signed
        Column("reason", String(500), nullable=False),
        Column("by_agent_id", Integer),  # who: the locking/replying agent, the unlocking user, the adjusting head
        Column("rule", String(40)),  # which rule wrote it: lock, reply, unlock, unlock-timeout, owner-change ...
        Column("credit_id", BigInteger),
        Column("event_id", String(191), nullable=False, unique=True),
        Column("occurred_at", DATETIME(fsp=6), nullable=False),
        Column("created_at", DATETIME(fsp=6), nullable=False),
        Index(PREFIX + "points_ledger_agent", "agent_id", "occurred_at"),
        Index(PREFIX + "points_ledger_ticket", "ticket_id"),
        Index(PREFIX + "points_ledger_time", "occurred_at"),
    )
    # per ticket, what the pool handler knows of its lock and owner, and the hold running on it (who holds it
    # since when, its credit, whether the holder has replied): the state the next lock/owner/reply event moves on
    Table(
        PREFIX + "points_hold", md,
        Column("ticket_id", BigInteger, primary_key=True),
        Column("locked", Boolean, nullable=False),
        Column("owner_id", Integer, nullable=False),
        # locked by another user than its owner: OTRS's lock screen sets the owner to the locker right after
        Column("awaiting_owner", Boolean, nullable=False),
        Column("holder_id", Integer),
        Column("credit_id", BigInteger),
        Column("credit_points", Numeric(10, 2)),
        Column("replied", Boolean, nullable=False),
        Column("since", DATETIME(fsp=6)),
        Column("updated_at", DATETIME(fsp=6), nullable=False),
        Index(PREFIX + "points_hold_holder", "holder_id"),
    )
    # a ticket handed to an agent by the pool; ``open_agent_id`` (the agent while it is open, NULL once released)
    # is unique: an agent holds at most one pool ticket, whatever process assigns
    Table(
        PREFIX + "pool_assignment", md,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("agent_id", Integer, nullable=False),
        Column("ticket_id", BigInteger, nullable=False),
        Column("position", Integer, nullable=False),
        Column("points", Numeric(10, 2), nullable=False),
        Column("assigned_at", DATETIME(fsp=6), nullable=False),
        Column("released_at", DATETIME(fsp=6)),
        # replied, unlock, system-unlock, owner-change, left, expired, state-change, gone
        Column("release_reason", String(40)),
        Column("open_agent_id", Integer, unique=True),
        Index(PREFIX + "pool_assignment_ticket", "ticket_id"),
        Index(PREFIX + "pool_assignment_agent", "agent_id", "assigned_at"),
    )


@functools.cache
def own_table(name: str, schema: str | None = None) -> Table:
    """One own table by its name without the prefix (``"event_log"``). Built once per process: fresh Table
    objects would miss SQLAlchemy's statement cache and recompile every statement."""
    return own_metadata(schema).tables[f"{schema}.{PREFIX}{name}" if schema else f"{PREFIX}{name}"]

"""tailer checkpoints, handled-event log, event log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.create_table(
        "otrs_ext_tail_checkpoint",
        sa.Column("identity", sa.String(100), primary_key=True),
        sa.Column("log_file", sa.String(255), nullable=False),
        sa.Column("log_pos", sa.BigInteger, nullable=False),
        sa.Column("gtid", sa.String(255)),
        sa.Column("dispatched_file", sa.String(255), nullable=False),
        sa.Column("dispatched_pos", sa.BigInteger, nullable=False),
        sa.Column("updated_at", mysql.DATETIME(fsp=6), nullable=False),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )
    op.create_table(
        "otrs_ext_handled_event",
        sa.Column("handler", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(191), primary_key=True),
        sa.Column("handled_at", sa.DateTime, nullable=False),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )
    op.create_table(
        "otrs_ext_event_log",
        sa.Column("event_id", sa.String(191), primary_key=True),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("ticket_id", sa.BigInteger, nullable=False),
        sa.Column("backfill", sa.Boolean, nullable=False),
        sa.Column("occurred_at", sa.DateTime),
        sa.Column("first_seen", mysql.DATETIME(fsp=6), nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Index("otrs_ext_event_log_ticket", "ticket_id"),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )


def downgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.drop_table("otrs_ext_event_log", schema=schema)
    op.drop_table("otrs_ext_handled_event", schema=schema)
    op.drop_table("otrs_ext_tail_checkpoint", schema=schema)

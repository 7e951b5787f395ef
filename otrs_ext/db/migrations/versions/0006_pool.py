"""pool: the points ledger, the per-ticket hold state of the pool handler, and the pool's assignments

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.create_table(
        "otrs_ext_points_ledger",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.Integer, nullable=False),
        sa.Column("ticket_id", sa.BigInteger),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("points", sa.Numeric(10, 2), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("by_agent_id", sa.Integer),
        sa.Column("rule", sa.String(40)),
        sa.Column("credit_id", sa.BigInteger),
        sa.Column("event_id", sa.String(191), nullable=False, unique=True),
        sa.Column("occurred_at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Column("created_at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Index("otrs_ext_points_ledger_agent", "agent_id", "occurred_at"),
        sa.Index("otrs_ext_points_ledger_ticket", "ticket_id"),
        sa.Index("otrs_ext_points_ledger_time", "occurred_at"),
        schema=schema, **TABLE_OPTIONS,
    )
    op.create_table(
        "otrs_ext_points_hold",
        sa.Column("ticket_id", sa.BigInteger, primary_key=True),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("awaiting_owner", sa.Boolean, nullable=False),
        sa.Column("holder_id", sa.Integer),
        sa.Column("credit_id", sa.BigInteger),
        sa.Column("credit_points", sa.Numeric(10, 2)),
        sa.Column("replied", sa.Boolean, nullable=False),
        sa.Column("since", mysql.DATETIME(fsp=6)),
        sa.Column("updated_at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Index("otrs_ext_points_hold_holder", "holder_id"),
        schema=schema, **TABLE_OPTIONS,
    )
    op.create_table(
        "otrs_ext_pool_assignment",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.Integer, nullable=False),
        sa.Column("ticket_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("points", sa.Numeric(10, 2), nullable=False),
        sa.Column("assigned_at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Column("released_at", mysql.DATETIME(fsp=6)),
        sa.Column("release_reason", sa.String(40)),
        sa.Column("open_agent_id", sa.Integer, unique=True),
        sa.Index("otrs_ext_pool_assignment_ticket", "ticket_id"),
        sa.Index("otrs_ext_pool_assignment_agent", "agent_id", "assigned_at"),
        schema=schema, **TABLE_OPTIONS,
    )


def downgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    for name in ("otrs_ext_pool_assignment", "otrs_ext_points_hold", "otrs_ext_points_ledger"):
        op.drop_table(name, schema=schema)

"""API keys, idempotency records, ticket sources

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.create_table(
        "otrs_ext_api_key",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("agent_id", sa.Integer),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rate_per_minute", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_used_at", sa.DateTime),
        sa.Column("revoked_at", sa.DateTime),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )
    op.create_table(
        "otrs_ext_idempotency",
        sa.Column("key_id", sa.Integer, primary_key=True),
        sa.Column("idem_key", sa.String(191), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response_body", mysql.MEDIUMTEXT),
        sa.Column("location", sa.String(500)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Index("otrs_ext_idempotency_created", "created_at"),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )
    op.create_table(
        "otrs_ext_ticket_source",
        sa.Column("ticket_id", sa.BigInteger, primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("api_key_id", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )


def downgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.drop_table("otrs_ext_ticket_source", schema=schema)
    op.drop_table("otrs_ext_idempotency", schema=schema)
    op.drop_table("otrs_ext_api_key", schema=schema)

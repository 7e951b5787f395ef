"""seed run log

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.create_table(
        "otrs_ext_seed_run",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("tickets", sa.Integer, nullable=False),
        sa.Column("articles_per_ticket", sa.Float, nullable=False),
        sa.Column("generation", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("seconds", sa.Float),
        sa.Column("counts", sa.JSON),
        sa.Column("error", sa.String(2000)),
        schema=schema,
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.drop_table("otrs_ext_seed_run", schema=schema)

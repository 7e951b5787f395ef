"""handler positions: where a handler's store is consistent with OTRS, ahead of the tailer's checkpoint

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.create_table(
        "otrs_ext_handler_position",
        sa.Column("handler", sa.String(100), primary_key=True),
        sa.Column("log_file", sa.String(255), nullable=False),
        sa.Column("log_pos", sa.BigInteger, nullable=False),
        sa.Column("gtid", sa.String(255)),
        sa.Column("recorded_by", sa.String(40), nullable=False),
        sa.Column("updated_at", mysql.DATETIME(fsp=6), nullable=False),
        schema=schema, mysql_charset="utf8mb4", mysql_engine="InnoDB",
    )


def downgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.drop_table("otrs_ext_handler_position", schema=schema)

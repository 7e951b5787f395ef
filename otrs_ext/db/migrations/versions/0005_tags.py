"""tags: tags, ticket links, the audit of manual changes, and the progress of resumable jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}


def upgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    op.create_table(
        "otrs_ext_tag",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100, collation="utf8mb4_bin"), nullable=False),
        sa.Column("labels", sa.JSON),
        sa.Column("colour", sa.String(7)),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Index("otrs_ext_tag_kind_name", "kind", "name_key", unique=True),
        schema=schema, **TABLE_OPTIONS,
    )
    op.create_table(
        "otrs_ext_ticket_tag",
        sa.Column("ticket_id", sa.BigInteger, primary_key=True),
        sa.Column("tag_id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer),
        sa.Column("rule", sa.String(100)),
        sa.Column("article_id", sa.BigInteger),
        sa.Column("created_at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Index("otrs_ext_ticket_tag_tag", "tag_id", "ticket_id"),
        schema=schema, **TABLE_OPTIONS,
    )
    op.create_table(
        "otrs_ext_ticket_tag_audit",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.BigInteger, nullable=False),
        sa.Column("tag_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("agent_id", sa.Integer),
        sa.Column("rule", sa.String(100)),
        sa.Column("at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Index("otrs_ext_ticket_tag_audit_ticket", "ticket_id"),
        schema=schema, **TABLE_OPTIONS,
    )
    op.create_table(
        "otrs_ext_job_progress",
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("detail", sa.JSON),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        schema=schema, **TABLE_OPTIONS,
    )


def downgrade() -> None:
    schema = context.config.attributes.get("own_schema")
    for name in ("otrs_ext_job_progress", "otrs_ext_ticket_tag_audit", "otrs_ext_ticket_tag", "otrs_ext_tag"):
        op.drop_table(name, schema=schema)

"""Alembic environment: runs on the connection handed over by ``otrs_ext.db.migrate``.

Only otrs-ext's prefixed tables are ever compared or touched, so autogenerate can never propose a change to
an OTRS table.
"""

from __future__ import annotations

from alembic import context

from otrs_ext.db.own_tables import PREFIX, VERSION_TABLE, own_metadata

config = context.config
own_schema = config.attributes.get("own_schema")


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201 - alembic's hook signature
    if type_ == "table":
        return name.startswith(PREFIX)
    return True


context.configure(
    connection=config.attributes["connection"],
    target_metadata=own_metadata(own_schema),
    version_table=VERSION_TABLE,
    version_table_schema=own_schema,
    include_object=include_object,
    include_schemas=False,
)
with context.begin_transaction():
    context.run_migrations()

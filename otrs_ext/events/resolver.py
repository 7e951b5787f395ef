"""The few database lookups the assembler needs while turning rows into events, cached per tailer."""

from __future__ import annotations

from sqlalchemy import Engine, select

from schema_maps import OtrsSchema
from schema_maps._articles import AUDIT_COLUMNS, MIME_COLUMNS

from ..db.lookups import Lookups

ARTICLE_KEYS = ("ticket_id", "article_sender_type_id", "is_visible_for_customer", *MIME_COLUMNS, *AUDIT_COLUMNS)


class DatabaseResolver:
    def __init__(self, engine: Engine, schema: OtrsSchema) -> None:
        self.engine = engine
        self.schema = schema
        self._history_types: dict[int, str] = {}
        self._field_objects: dict[int, str] = {}
        self._names: dict[str, dict[int, str]] = {}

    def history_type(self, type_id: int) -> str:
        if type_id not in self._history_types:
            # re-read: an add-on may have registered a history type since we started
            with self.engine.connect() as conn:
                names = Lookups.load(conn, self.schema).names("ticket_history_type")
            self._history_types = {i: n for n, i in names.items()}
        return self._history_types.get(type_id, f"#{type_id}")

    def dynamic_field_object(self, field_id: int) -> str:
        if field_id not in self._field_objects:
            df = self.schema.tables.dynamic_field
            with self.engine.connect() as conn:
                self._field_objects = dict(conn.execute(select(df.c.id, df.c.object_type)).all())
        return self._field_objects.get(field_id, "Ticket")

    def ticket_of_article(self, article_id: int) -> int | None:
        article = self.schema.tables.article
        with self.engine.connect() as conn:
            return conn.execute(select(article.c.ticket_id).where(article.c.id == article_id)).scalar()

    def uniform_article(self, row: dict) -> dict:
        """An article row as ``schema.articles.select()`` reads it: the channel by name, and OTRS 5's
        article type split into channel and customer visibility."""
        article = {key: row.get(key) for key in ARTICLE_KEYS}
        article.update(self.schema.articles.decode(row, self._name))
        return article

    def _name(self, table: str, ident: int) -> str:
        if ident not in self._names.get(table, {}):
            with self.engine.connect() as conn:
                names = Lookups.load(conn, self.schema).names(table)
            self._names[table] = {i: n for n, i in names.items()}
        return self._names[table].get(ident, "")

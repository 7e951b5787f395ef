"""One article vocabulary in, the right rows of each generation out, the same vocabulary back."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

import schema_maps
from schema_maps.install import lookup_ids

NOW = datetime(2025, 11, 25, 20, 0, 0)


def _article(**extra):
    return {
        "ticket_id": 1, "article_sender_type_id": 1, "is_visible_for_customer": 0, "channel": "Internal",
        "a_from": "Агент <agent@example.org>", "a_to": "", "a_subject": "Заметка", "a_body": "домены reg.ru",
        "a_content_type": "text/plain; charset=utf-8", "incoming_time": 1764100800, "content_path": "2025/11/25",
        "create_time": NOW, "create_by": 1, "change_time": NOW, "change_by": 1, **extra,
    }


@pytest.mark.parametrize("generation", ["otrs5", "otrs6", "znuny71", "otobo11"])
@pytest.mark.parametrize(("channel", "visible"), [("Internal", 0), ("Email", 1), ("Phone", 1)])
def test_insert_and_read_back(otrs_database, generation, channel, visible):
    engine = otrs_database(generation)
    schema = schema_maps.load(generation)
    with engine.begin() as conn:
        ids = lookup_ids(conn, schema)
        article_id = schema.articles.insert(conn, _article(channel=channel, is_visible_for_customer=visible), ids)
        row = conn.execute(schema.articles.select().where(schema.tables.article.c.id == article_id)).mappings().one()
        assert (row["channel"], row["is_visible_for_customer"]) == (channel, visible)
        assert (row["a_subject"], row["a_body"], row["ticket_id"]) == ("Заметка", "домены reg.ru", 1)
        articles = conn.execute(select(func.count()).select_from(schema.tables.article)).scalar()
        assert articles == 2  # the welcome article and this one


def test_otrs5_stores_channel_and_visibility_as_article_type(otrs_database):
    engine = otrs_database("otrs5")
    schema = schema_maps.load("otrs5")
    with engine.begin() as conn:
        ids = lookup_ids(conn, schema)
        article_id = schema.articles.insert(conn, _article(channel="Email", is_visible_for_customer=0), ids)
        types = schema.tables.article_type
        name = conn.execute(
            select(types.c.name).join(schema.tables.article, schema.tables.article.c.article_type_id == types.c.id)
            .where(schema.tables.article.c.id == article_id)
        ).scalar_one()
    assert name == "email-internal"

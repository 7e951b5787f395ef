"""Benchmark ``otrs-ext tags backfill``: tickets and articles/s over a seeded database, then a second run.

    .venv/bin/python bench/bench_tags_backfill.py --tickets 4000                 # ~20k articles
    .venv/bin/python bench/bench_tags_backfill.py --tickets 200000               # ~1M articles
    .venv/bin/python bench/bench_tags_backfill.py --db-url mysql+pymysql://...   # an existing seeded database
    .venv/bin/python bench/bench_tags_backfill.py --tickets 4000 --chunk 200 500 2000 --index

Starts a private mariadbd (unless --db-url) in a temp dir, seeds Znuny 7.1 tickets (5 articles each, what
``otrs-ext seed`` writes: mail gateway mails with their raw source, agents' replies and notes), then runs the
backfill with the shipped rules once per ``--chunk`` from an empty link table, and a second time after the
last, which must add nothing. ``--index`` also sets the tags in a private searchd (after a reindex), as the
command does by default. Prints tickets/s, articles/s and links added per run, and the links per tag kind.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import create_engine, func, select

import schema_maps
from otrs_ext.db import migrate
from otrs_ext.db.own_tables import own_table
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.localservices import MariaDBServer, SphinxServer
from otrs_ext.search.indexer import Indexer
from otrs_ext.search.reindex import reindex
from otrs_ext.seed import run_seed
from otrs_ext.tags.backfill import Backfill
from otrs_ext.tags.rules import load_rules
from schema_maps.install import install

GENERATION = "znuny71"


def clear(engine) -> None:
    with engine.begin() as conn:
        for name in ("ticket_tag", "tag", "job_progress"):
            conn.execute(own_table(name).delete())


def kinds(engine) -> dict[str, int]:
    link, tag = own_table("ticket_tag"), own_table("tag")
    with engine.connect() as conn:
        rows = conn.execute(select(tag.c.kind, func.count()).join(link, link.c.tag_id == tag.c.id).group_by(tag.c.kind))
        return dict(rows.all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--chunk", type=int, nargs="+", default=[500])
    parser.add_argument("--index", action="store_true", help="also set the tags in a private searchd")
    parser.add_argument("--db-url", help="use this seeded database instead of seeding a private one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tags-") as tmp:
        mariadb = sphinx = None
        try:
            if args.db_url:
                engine = create_engine(args.db_url)
            else:
                mariadb = MariaDBServer(Path(tmp) / "mariadb", innodb_buffer_pool_size="2G")
                mariadb.start()
                mariadb.create_database("bench")
                engine = create_engine(mariadb.url("bench"))
                with engine.begin() as conn:
                    schema = install(conn, GENERATION)
                migrate.upgrade(engine)
                report = run_seed(engine, schema, tickets=args.tickets, articles_per_ticket=5, seed=1, progress=True)
                print(report.summary().splitlines()[0], flush=True)
            with engine.connect() as conn:
                schema = schema_maps.detect(conn)
            indexer = None
            if args.index:
                sphinx = SphinxServer(Path(tmp) / "sphinx")
                sphinx.start()
                client = SphinxQL(sphinx.url)
                print(f"reindex: {reindex(engine, schema, client).summary()}", flush=True)
                indexer = Indexer(engine, schema, client)
            rules = load_rules()
            for chunk in args.chunk:
                clear(engine)
                started = time.monotonic()
                result = Backfill(engine, schema, rules, indexer=indexer, chunk=chunk).run()
                print(f"backfill chunk={chunk}: {result.summary()}  (wall {time.monotonic() - started:.1f} s)",
                      flush=True)
            print(f"links by kind: {kinds(engine)}")
            again = Backfill(engine, schema, rules, indexer=indexer, chunk=args.chunk[-1]).run()
            print(f"second run: {again.summary()}")
        finally:
            if sphinx is not None:
                sphinx.stop()
            if mariadb is not None:
                mariadb.stop()


if __name__ == "__main__":
    main()

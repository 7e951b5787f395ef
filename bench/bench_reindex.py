"""Benchmark ``otrs-ext search reindex``: articles/s into the Sphinx RT index, by worker count.

    .venv/bin/python bench/bench_reindex.py --tickets 20000             # ~100k articles
    .venv/bin/python bench/bench_reindex.py --tickets 200000 --workers 1 2 3 4   # ~1M articles
    .venv/bin/python bench/bench_reindex.py --db-url mysql+pymysql://...   # an existing seeded database
    .venv/bin/python bench/bench_reindex.py --tickets 20000 --corpus frequent --workers 2 --batch-bytes 4194304 131072

Starts a private mariadbd (unless --db-url) and searchd in a temp dir, seeds Znuny 7.1 tickets (5 articles each),
then reindexes into an empty index once per worker count (and per ``--batch-bytes``, the REPLACE statement size)
and prints articles/s beside the baseline: one connection, one row per REPLACE (what a naive loop over the
articles would do, measured on the first 5,000). ``--corpus frequent``: ``bench/frequent_corpus.py``'s text,
mail dense in domains, e-mail addresses and IPs (searchd's cost per article is three times the seed's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import frequent_corpus
from sqlalchemy import create_engine

import schema_maps
from otrs_ext.db import migrate
from otrs_ext.db.sphinxql import SphinxQL
from otrs_ext.localservices import MariaDBServer, SphinxServer
from otrs_ext.search import indexer as indexer_module
from otrs_ext.search.indexer import Indexer
from otrs_ext.search.reindex import reindex
from otrs_ext.seed import run_seed
from schema_maps.install import install

GENERATION = "znuny71"


def baseline(indexer: Indexer, count: int) -> float:
    """Single-row REPLACEs over one connection: articles/s."""
    with indexer.engine.connect() as db, indexer.index() as rt:
        documents = indexer.source.by_range(db, 1, count)
        started = time.monotonic()
        for document in documents:
            rt.replace([document])
        return len(documents) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--corpus", choices=("seed", "frequent"), default="seed")
    parser.add_argument("--batch-bytes", type=int, nargs="+", default=[indexer_module.BATCH_BYTES],
                        help="REPLACE statement sizes to compare (indexer.BATCH_BYTES)")
    parser.add_argument("--db-url", help="use this seeded database instead of seeding a private one")
    parser.add_argument("--mem-limit", default="512M")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reindex-") as tmp:
        mariadb = None
        if args.db_url:
            engine = create_engine(args.db_url, pool_size=max(args.workers) + 2)
        else:
            mariadb = MariaDBServer(Path(tmp) / "mariadb", innodb_buffer_pool_size="2G")
            mariadb.start()
            mariadb.create_database("bench")
            engine = create_engine(mariadb.url("bench"), pool_size=max(args.workers) + 2)
            with engine.begin() as conn:
                schema = install(conn, GENERATION)
            migrate.upgrade(engine)
            if args.corpus == "frequent":
                report = frequent_corpus.seed_frequent(engine, schema, tickets=args.tickets, articles_per_ticket=5,
                                                       seed=1)
            else:
                report = run_seed(engine, schema, tickets=args.tickets, articles_per_ticket=5, seed=1, progress=True)
            print(report.summary().splitlines()[0])
        schema = schema_maps.load(GENERATION)
        sphinx = SphinxServer(Path(tmp) / "sphinx")
        sphinx.start()
        try:
            client = SphinxQL(sphinx.url)
            indexer = Indexer(engine, schema, client)
            with indexer.index() as rt:
                rt.truncate()
            base = baseline(indexer, 5000)
            print(f"baseline (1 connection, 1 row per REPLACE): {base:,.0f} articles/s")
            for batch_bytes in args.batch_bytes:
                indexer_module.BATCH_BYTES = batch_bytes
                for workers in args.workers:
                    with indexer.index() as rt:
                        rt.truncate()
                    result = reindex(engine, schema, client, workers=workers, chunk=args.chunk)
                    print(f"reindex workers={workers} batch={batch_bytes:,} B: {result.summary()}  -> "
                          f"{result.articles_per_second / base:.1f}x the baseline", flush=True)
        finally:
            sphinx.stop()
            if mariadb is not None:
                mariadb.stop()


if __name__ == "__main__":
    main()

"""``otrs-ext search reindex`` records the position it is consistent with, and the tailer's ``search`` handler
goes on from there: the first tail after a reindex does not index every article again, yet every change made
during and after the reindex reaches the index. For the binlog and the polling source alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from support import tailing
from support.tailing import FAST, Recorder
from test_indexer import _match, _service, _until

import schema_maps
from otrs_ext.cli import main
from otrs_ext.events.checkpoint import CheckpointStore, HandlerPositions
from otrs_ext.events.domain import ArticleCreated, DynamicFieldChanged
from otrs_ext.events.handlers.search_index import SearchHandler
from otrs_ext.events.poll import PollConfig, PollTailer
from otrs_ext.events.tailer import TailConfig, Tailer
from otrs_ext.search.indexdef import INDEX_NAME
from otrs_ext.search.positions import ReindexPosition
from otrs_ext.search.reindex import ReindexState, reindex
from otrs_ext.seed import run_seed
from otrs_ext.tickets.inputs import NewArticle, NewTicket


class Running(tailing.Running):
    """A tailer (binlog or poll) in a thread; halting one that failed fails the test."""

    def halt(self, timeout: float = 15.0) -> None:
        super().halt(timeout)
        assert self.error is None, self.error


def _tailer(engine, schema, source: str, plugins: dict[str, object], *, identity: str = "default",
            search=None, redis=None) -> Running:
    dispatcher = tailing.dispatcher(engine, schema, plugins, search=search, redis=redis)
    config = TailConfig(identity=identity, **FAST)
    if source == "poll":
        return Running(PollTailer(engine, schema, dispatcher, config=config,
                                  poll=PollConfig(interval=0.1, gap_grace=3.0)))
    return Running(Tailer(engine, schema, dispatcher, config=config))


@pytest.fixture
def seeded(otrs_database) -> Iterator[tuple]:
    engine = otrs_database("znuny71", migrated=True)
    schema = schema_maps.load("znuny71")
    run_seed(engine, schema, tickets=20, articles_per_ticket=3, seed=11, progress=False)
    yield engine, schema


@pytest.mark.parametrize("source", ["binlog", "poll"])
def test_tail_after_a_reindex_hands_the_search_handler_only_what_came_after(seeded, search, redis_client,
                                                                           source: str) -> None:
    engine, schema = seeded
    holder = type("Holder", (), {"engine": engine, "schema": schema})
    service = _service(holder)
    with engine.connect() as conn:
        first_ticket = conn.exec_driver_sql("SELECT ticket_id FROM article ORDER BY id LIMIT 1").scalar_one()
        seeded_articles = conn.exec_driver_sql("SELECT COUNT(*) FROM article").scalar_one()
    during: list[int] = []

    def meanwhile(done: int, total: int) -> None:  # the reindex has indexed its first chunk: change what it holds
        if not during:
            service.set_title(1, first_ticket, "Renamed zebrawood")
            during.append(service.add_article(1, first_ticket, NewArticle(body="duringword", subject="during")))

    report = reindex(engine, schema, search, state=ReindexState(redis_client), workers=2, chunk=20,
                     progress=meanwhile, position=ReindexPosition(engine, schema, source=source))
    assert report.consistent_from is not None and during
    assert HandlerPositions(engine).load(["search"]) == {"search": report.consistent_from}
    after = service.create_ticket(1, NewTicket(title="After the reindex", queue="Raw"),
                                  NewArticle(body="afterword", subject="after"))

    recorder = Recorder()  # no position of its own: the first start's snapshot, then what follows it
    tail = _tailer(engine, schema, source, {"search": SearchHandler(), "recorder": recorder},
                   search=search, redis=redis_client)
    _until(lambda: _match(search, "afterword") == [after.article_id], 30)
    _until(lambda: _match(search, "duringword") == during, 30)
    tail.halt()

    # what a tailer reading from the reindex's position sees: all the search handler had to be handed
    probe = Recorder()
    CheckpointStore(engine, "probe").save(report.consistent_from, report.consistent_from)
    reading = _tailer(engine, schema, source, {"probe": probe}, identity="probe")
    _until(lambda: any(isinstance(e, ArticleCreated) and e.article_id == after.article_id for e in probe.events), 30)
    reading.halt()
    since = [e for e in probe.events if not isinstance(e, DynamicFieldChanged)]  # the one hook search lacks

    handled = tail.tailer.dispatcher.handled
    assert handled["search"] == len(since) < seeded_articles  # not every article again
    assert handled["recorder"] > seeded_articles  # the other handler got its first start's snapshot
    assert f'otrs_ext_tail_handler_events_total{{handler="search"}} {len(since)}' in tail.tailer.metrics.render()
    assert {e.event_id for e in recorder.events if not e.backfill} < {e.event_id for e in probe.events}
    assert not HandlerPositions(engine).load(["search"])  # passed by the checkpoint: forgotten
    # the change made during the reindex to a ticket it had already indexed is searchable
    renamed = search.query(f"SELECT id FROM {INDEX_NAME} WHERE MATCH('@title zebrawood')")
    with engine.connect() as conn:
        articles = conn.exec_driver_sql(f"SELECT id FROM article WHERE ticket_id = {first_ticket}").scalars().all()
    assert sorted(int(r[0]) for r in renamed) == sorted(articles)


def test_cli_reindex_records_where_the_tailer_goes_on(seeded, search, redis_client, redis_server,
                                                     sphinx_server) -> None:
    engine, schema = seeded
    env = {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False), "OTRS_EXT_REDIS_URL": redis_server.url,
           "OTRS_EXT_SEARCH_URL": sphinx_server.url, "OTRS_EXT_LOG_JSON": "false"}
    result = CliRunner().invoke(main, ["search", "reindex", "--no-progress"], env=env)
    assert result.exit_code == 0, result.output
    recorded = HandlerPositions(engine).load(["search"])["search"]
    assert f"consistent with {recorded}: the tailer's search handler goes on from there" in result.output
    assert re.fullmatch(r"mysql-bin\.\d+", recorded.log_file) and recorded.log_pos > 0

    tail = _tailer(engine, schema, "binlog", {"search": SearchHandler()}, search=search, redis=redis_client)
    _until(lambda: CheckpointStore(engine, "default").load() is not None, 30)
    tail.halt()
    assert tail.tailer.dispatcher.handled["search"] == 0  # nothing happened since the reindex
    started = CheckpointStore(engine, "default").load()
    assert started is not None and started.resume.key() >= recorded.key()  # streamed from there, no snapshot


def test_a_resumed_reindex_is_consistent_from_where_its_first_part_began(seeded, search, redis_client) -> None:
    engine, schema = seeded
    state, position = ReindexState(redis_client), ReindexPosition(engine, schema)
    interrupted = reindex(engine, schema, search, state=state, chunk=20, stop_after=1, position=position)
    began = state.load_position()
    assert interrupted.consistent_from is None and began is not None
    assert not HandlerPositions(engine).load(["search"])  # an incomplete index promises nothing
    _service(type("Holder", (), {"engine": engine, "schema": schema})).set_title(1, 1, "Moved on meanwhile")
    assert position.current().key() > began.key()

    resumed = reindex(engine, schema, search, state=state, chunk=20, position=position)
    assert resumed.resumed_from == interrupted.watermark
    # its first chunk was read before the title change: the tailer must bring that change
    assert resumed.consistent_from == began == HandlerPositions(engine).load(["search"])["search"]

"""The backfill over tickets that existed before the tailer ran: resumable by chunk, idempotent, ``--since``;
reconcile after a rule change; the ``otrs-ext tags`` commands, and rule files with mistakes (each named by its
line, nothing written)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from otrs_writes import email_ticket, incoming_mail, note, phone_ticket, reply
from sqlalchemy import func, select, text
from support.runtimes import runtime_for
from tag_support import links, rules_for_tests

import schema_maps
from otrs_ext.cli import main
from otrs_ext.db.own_tables import own_table
from otrs_ext.search.indexer import Indexer
from otrs_ext.tags.backfill import JOB, Backfill
from otrs_ext.tags.index_sync import index_tags
from otrs_ext.tags.reconcile import Reconcile
from otrs_ext.tags.store import TagStore
from otrs_ext.tickets.compose import build_ticket_core
from otrs_ext.tickets.inputs import NewArticle, NewTicket

SCHEMA = schema_maps.load("znuny71")
QUOTA = (b"From: robot@hosting.example\r\nSubject: Disk quota exceeded\r\nAuto-Submitted: auto-generated\r\n"
         b"Message-ID: <q@hosting.example>\r\n\r\nYou use 99%.\r\n")
HELLO = b"From: jane@acme.test\r\nSubject: Hello\r\nMessage-ID: <h@acme.test>\r\n\r\nHi.\r\n"


@pytest.fixture
def history(engine, agents):
    """Tickets as OTRS wrote them before otrs-ext ran: ticket id -> the tags they should get."""
    anna, ben = agents["anna.petrova"], agents["ben.miller"]
    made: dict[int, list[str]] = {}
    quota, _ = incoming_mail(engine, QUOTA)
    made[quota] = ["source:email", "notification:quota-exceeded"]
    hello, _ = incoming_mail(engine, HELLO)
    reply(engine, hello, anna)
    note(engine, hello, ben)
    made[hello] = ["source:email", "participant:anna.petrova"]
    phone, _ = phone_ticket(engine, ben)
    reply(engine, phone, ben)
    made[phone] = ["source:phone", "participant:ben.miller"]
    agent, _ = email_ticket(engine, anna)
    made[agent] = ["source:agent", "participant:anna.petrova"]
    follow = incoming_mail(engine, HELLO)[0]
    incoming_mail(engine, QUOTA, ticket_id=follow)
    made[follow] = ["source:email", "notification:quota-exceeded"]
    return made


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(own_table(table))).scalar_one()


def test_resumes_after_a_stop_and_a_second_run_changes_nothing(engine, history):
    backfill = Backfill(engine, SCHEMA, rules_for_tests(), chunk=2)
    first = backfill.run(max_chunks=1)
    assert not first.finished and first.tickets == 2 and first.added > 0
    ids = sorted(history)
    done = [i for i in ids if links(engine, i)]
    assert 1 <= len(done) <= 2  # the seeded welcome ticket (id 1) is in the first chunk too

    second = Backfill(engine, SCHEMA, rules_for_tests(), chunk=2).run()
    assert second.finished and second.resumed_after == first.position
    assert "resumed an unfinished run after ticket" in second.summary()
    for ticket_id, expected in history.items():
        assert links(engine, ticket_id) == sorted(expected), ticket_id
    with engine.connect() as conn:
        progress = own_table("job_progress")
        row = conn.execute(select(progress).where(progress.c.job == JOB)).mappings().one()
    assert row["finished_at"] is not None and row["detail"]["totals"]["tickets"] == first.tickets + second.tickets

    links_before = _count(engine, "ticket_tag")
    third = Backfill(engine, SCHEMA, rules_for_tests(), chunk=2).run()
    assert third.finished and third.added == 0 and third.resumed_after is None
    assert "nothing changed" in third.summary() and _count(engine, "ticket_tag") == links_before


def test_since_takes_only_tickets_created_from_that_date(engine, history):
    old = sorted(history)[:2]
    with engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET create_time = '2020-01-01 10:00:00' WHERE id IN :ids OR id = 1"),
                     {"ids": tuple(old)})
    report = Backfill(engine, SCHEMA, rules_for_tests()).run(since=datetime(2024, 1, 1))
    assert report.finished and report.tickets == len(history) - 2
    assert all(links(engine, i) == [] for i in old)
    assert all(links(engine, i) == sorted(history[i]) for i in sorted(history)[2:])


def test_rules_only_adds_notification_tags(engine, history):
    report = Backfill(engine, SCHEMA, rules_for_tests()).run(rules_only=True)
    assert report.job == "tags-backfill-rules" and report.finished
    for ticket_id, expected in history.items():
        assert links(engine, ticket_id) == sorted(t for t in expected if t.startswith("notification:"))


def test_reconcile_applies_a_changed_rule_keeps_manual_tags_and_fixes_the_index(engine, history, search):
    Backfill(engine, SCHEMA, rules_for_tests()).run()
    quota = next(i for i, tags in history.items() if "notification:quota-exceeded" in tags)
    store = TagStore()
    with engine.begin() as conn:
        vip = store.ensure(conn, "manual", "vip", created_by="7")
        store.link(conn, quota, vip, agent_id=7, audit=True)
        # a link of a ticket OTRS no longer has
        store.link(conn, 999_999, vip, agent_id=7)
    indexer = Indexer(engine, SCHEMA, search)
    indexer.sync_tickets(sorted(history))  # documents written with the tags of now
    with indexer.index() as rt:
        rt.execute(f"UPDATE {rt.index} SET tag_ids = () WHERE ticket_id = {sorted(history)[1]}")  # drifted

    renamed = rules_for_tests('[[notification]]\nname = "disk-full"\nfrom = "@hosting.example"\n'
                              'subject = "quota"\n')
    report = Reconcile(engine, SCHEMA, renamed, indexer=indexer, range_size=3).run()
    changes = {str(change) for change in report.changes}
    assert f"ticket {quota}: +notification:disk-full" in changes
    assert f"ticket {quota}: -notification:quota-exceeded" in changes
    assert links(engine, quota) == ["manual:vip", "notification:disk-full", "source:email"]
    assert report.forgotten == [999_999] and report.index_fixed >= 1
    with engine.connect() as conn:
        tag_ids = {t: tuple(store.tag_ids(conn, t)) for t in history}
    indexed = index_tags(indexer, min(history), max(history))
    assert {t: found for t, found in indexed.items() if t in history} == {t: {tag_ids[t]} for t in indexed
                                                                        if t in history}

    again = Reconcile(engine, SCHEMA, renamed, indexer=indexer).run()
    assert not again.changed and "nothing changed" in again.summary()
    relabelled = rules_for_tests('[[notification]]\nname = "disk-full"\nfrom = "@hosting.example"\n'
                                 'subject = "quota"\nlabels = { ru = "Диск заполнен" }\ncolour = "#112233"\n')
    presented = Reconcile(engine, SCHEMA, relabelled).run(ticket_id=quota)
    assert presented.presented == ["notification:disk-full"] and not presented.changes
    with engine.connect() as conn:
        disk_full = store.find(conn, "notification", "disk-full")
    assert disk_full.label("ru") == "Диск заполнен" and disk_full.colour == "#112233"
    single = Reconcile(engine, SCHEMA, rules_for_tests()).run(ticket_id=quota)
    assert {str(c) for c in single.changes} == {f"ticket {quota}: +notification:quota-exceeded",
                                               f"ticket {quota}: -notification:disk-full"}


@pytest.fixture
def shell(engine, agents, redis_server, sphinx_server, tmp_path: Path):
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
    env = {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False),
           "OTRS_EXT_REDIS_URL": redis_server.url, "OTRS_EXT_SEARCH_URL": sphinx_server.url,
           "OTRS_EXT_LOG_JSON": "false", "OTRS_EXT_OTRS_HOME": str(tmp_path / "otrs"),
           "OTRS_EXT_STATE_DIR": str(tmp_path / "state"), "OTRS_EXT_TAG_RULES": ""}
    runner = CliRunner()

    def run(*args: str, code: int = 0, **more_env: str):
        result = runner.invoke(main, ["tags", *args], env={**env, **more_env})
        assert result.exit_code == code, result.output
        return result

    return run


def test_the_commands(engine, agents, history, shell, search):
    backfilled = shell("backfill", "--no-progress", "--chunk", "10")
    assert "links added" in backfilled.output and "articles/s" in backfilled.output
    # a complete run is where the tailer's tags handler goes on from (no snapshot of every ticket for it)
    assert "the tailer's tags handler goes on from" in backfilled.output
    with engine.connect() as conn:
        positions = own_table("handler_position")
        assert conn.execute(select(positions.c.recorded_by).where(positions.c.handler == "tags")).scalar() == \
            "backfill"
    assert "nothing changed" in shell("backfill", "--no-progress").output
    quota = next(i for i, tags in history.items() if "notification:quota-exceeded" in tags)
    shell("create", "vip", "--label", "ru=ВИП", "--colour", "#aa0000")
    assert "manual:vip" in shell("list", "--kind", "manual").output
    assert "source:email" in shell("list").output
    refused = shell("add", str(quota), "vip", "--agent", "nobody-at-all", code=2)
    assert "no agent with login" in refused.output
    assert "manual:vip added" in shell("add", str(quota), "vip", "--agent", "anna.petrova").output
    assert "manual:vip" in shell("list", "--ticket", str(quota), "--agent", "anna.petrova").output
    bad = shell("add", str(quota), "source:phone", "--agent", "anna.petrova", code=2)
    assert "set by rules" in bad.output
    assert "manual:vip removed" in shell("remove", str(quota), "manual:vip", "--agent", "anna.petrova").output
    assert "nothing changed" in shell("reconcile", "--no-progress").output
    assert "reconciled 1 tickets" in shell("reconcile", "--ticket", str(quota)).output


BAD_FILES = [
    ("[[notification]]\nname = \"quota\"\nsubject = \"(unclosed\"\n", 3,
     'notification rule "quota": subject: bad regex'),
    ("[[source]]\ntag = \"email\"\nchanel = \"Email\"\n", 3, "unknown key 'chanel'"),
    ("\n[[notification]]\nname = \"a\"\nfrom = \"@x.test\"\n\n[[notification]]\nname = \"A\"\nfrom = \"@y.test\"\n",
     7, "duplicate rule name"),
    ("[[notification]]\nname = \"quota exceeded\"\nfrom = \"@x.test\"\n", 2, "not a valid tag name"),
    ("[[notifications]]\nname = \"a\"\n", 1, "unknown section 'notifications'"),
    ("[participant]\nnotes = yes\n", 2, "not valid TOML"),
    ("[[source]]\ntag = \"x\"\nsender_type = \"robot\"\n", 3, "unknown value 'robot'"),
    ("[[notification]]\nname = \"q\"\nheader = { \"Auto-Submitted\" = 5 }\n", 3, "Auto-Submitted: must be"),
]


@pytest.mark.parametrize("text_, line, message", BAD_FILES)
def test_a_rule_file_with_a_mistake_is_refused_naming_the_line_and_nothing_is_written(
        engine, history, shell, tmp_path, text_, line, message):
    path = tmp_path / "rules.toml"
    path.write_text(text_, encoding="utf-8")
    for command in (("backfill", "--no-progress"), ("reconcile", "--no-progress")):
        result = shell(*command, code=2, OTRS_EXT_TAG_RULES=str(path))
        assert f"{path}:{line}: " in result.output and message in result.output, result.output
    assert _count(engine, "ticket_tag") == 0 and _count(engine, "tag") == 0 and _count(engine, "job_progress") == 0


def test_a_missing_rule_file_is_named(shell, tmp_path):
    result = shell("backfill", code=2, OTRS_EXT_TAG_RULES=str(tmp_path / "nope.toml"))
    assert "nope.toml': no such file" in result.output


@pytest.mark.parametrize("generation", ["otrs5", "otobo11"])
def test_the_backfill_reads_other_generations_through_the_schema_maps(otrs_database, redis_server, sphinx_server,
                                                                       tmp_path, generation):
    engine = otrs_database(generation, migrated=True)
    (tmp_path / "otrs" / "var" / "log").mkdir(parents=True)
    (tmp_path / "otrs" / "var" / "log" / "TicketCounter.log").write_text("")  # OTRS 5's counter file
    runtime = runtime_for(engine, redis_server.url, sphinx_server.url, tmp_path, otrs_version=generation)
    try:
        core = build_ticket_core(runtime)
        phone = core.service.create_ticket(1, NewTicket(title="Call", queue="Raw"), NewArticle(
            body="called", channel="Phone", sender_type="customer", visible_for_customer=True,
            history_type="PhoneCallCustomer", history_comment="%%")).ticket_id
        core.service.add_article(1, phone, NewArticle(body="answer", channel="Email", sender_type="agent",
                                                      visible_for_customer=True, history_type="SendAnswer"))
        core.close()
        report = Backfill(engine, runtime.schema, rules_for_tests()).run()
    finally:
        runtime.close()
    assert report.finished
    assert links(engine, phone) == ["participant:root@localhost", "source:phone"]

"""``otrs-ext ticket ...`` end to end: a shell user creates and works a ticket, and reads it back as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from support.agents import add_agent

import schema_maps
from otrs_ext.cli import main


@pytest.fixture
def shell(otrs_database, redis_server, sphinx_server, tmp_path: Path):
    engine: Engine = otrs_database("znuny71")
    (tmp_path / "otrs" / "var" / "tmp").mkdir(parents=True)
    with engine.begin() as conn:
        add_agent(conn, schema_maps.load("znuny71"), "nobody", first_name="No", last_name="Rights")
    # only these variables: a test may set others (monkeypatch.setenv) that must not be overridden
    env = {"OTRS_EXT_DB_URL": engine.url.render_as_string(hide_password=False),
           "OTRS_EXT_REDIS_URL": redis_server.url, "OTRS_EXT_SEARCH_URL": sphinx_server.url,
           "OTRS_EXT_LOG_JSON": "false", "OTRS_EXT_OTRS_HOME": str(tmp_path / "otrs"),
           "OTRS_EXT_STATE_DIR": str(tmp_path / "state")}
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(main, ["ticket", *args], env=env)
        if ok:
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout)
        return result

    run.engine = engine
    return run


def test_create_with_html_and_attachment_then_read_back(shell, tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_bytes("host;ip\nреги.рф;10.0.0.1\n".encode())
    created = shell("create", "--title", "Домен не резолвится", "--queue", "Raw", "--customer-user", "jane@acme.test",
                    "--customer-id", "ACME", "--channel", "Phone", "--sender-type", "customer", "--visible",
                    "--subject", "DNS", "--html", "--body", "<p>Hello <b>team</b></p>", "--attach", str(report))
    ticket = created["ticket"]
    assert ticket["title"] == "Домен не резолвится" and ticket["queue"] == "Raw" and ticket["state"] == "new"
    assert len(ticket["tn"]) >= 14 and created["article_id"]

    got = shell("get", ticket["tn"], "--history")
    article = got["articles"][0]
    assert article["channel"] == "Phone" and article["sender_type"] == "customer" and article["visible_for_customer"]
    assert "Hello team" in article["body"] and "<b>team</b>" in article["body_html"]
    assert [a["filename"] for a in article["attachments"]] == ["report.csv"]
    assert [h["history_type"] for h in got["history"]][:3] == ["NewTicket", "CustomerUpdate", "PhoneCallCustomer"]


def test_an_agents_day_on_one_ticket(shell) -> None:
    tn = shell("create", "--title", "Printer on fire", "--queue", "Raw")["ticket"]["tn"]
    assert shell("lock", tn)["ticket"]["lock"] == "lock"
    assert shell("move", tn, "Misc")["ticket"]["queue"] == "Misc"
    assert shell("priority", tn, "4 high")["ticket"]["priority"] == "4 high"
    assert shell("title", tn, "Printer extinguished")["ticket"]["title"] == "Printer extinguished"
    noted = shell("article", tn, "--body", "called the fire brigade", "--time-units", "15")
    assert noted["article_id"]
    pending = shell("state", tn, "pending reminder", "--pending-until", "2030-01-02 10:00")["ticket"]
    assert pending["state"] == "pending reminder" and pending["pending_until"] > 0
    closed = shell("state", tn, "closed successful")["ticket"]
    assert closed["state"] == "closed successful" and closed["pending_until"] == 0
    history = [h["history_type"] for h in shell("get", tn, "--history", "--no-articles")["history"]]
    for expected in ("Lock", "Move", "PriorityUpdate", "TitleUpdate", "AddNote", "StateUpdate", "SetPendingTime"):
        assert expected in history


def test_refusals_are_readable_and_write_nothing(shell) -> None:
    def tickets() -> int:
        with shell.engine.connect() as conn:
            return conn.execute(text("SELECT COUNT(*) FROM ticket")).scalar_one()

    before = tickets()
    bad = shell("create", "--title", "x", "--queue", "No Such Queue", "--state", "nope", ok=False)
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "ticket.queue: unknown queue 'No Such Queue'" in bad.output and "ticket.state: unknown" in bad.output
    denied = shell("create", "--title", "x", "--queue", "Raw", "--as", "nobody", ok=False)
    assert denied.exit_code == 2 and "nobody" in denied.output and "create" in denied.output
    missing = shell("get", "999999", ok=False)
    assert missing.exit_code == 2 and "no ticket with number or id '999999'" in missing.output
    assert tickets() == before


def _fields(engine: Engine) -> None:
    """A dropdown and a multiselect as Znuny stores them (config in Perl's YAML::XS form)."""
    audit = "NOW(), 1, NOW(), 1"
    with engine.begin() as conn:
        for name, kind, config in (
                ("Product", "Dropdown", "---\nPossibleNone: '1'\nPossibleValues:\n  domains: Domains\n"
                                        "  hosting: Hosting\n"),
                ("Tags", "Multiselect", "---\nPossibleValues:\n  blue: Blue\n  red: Red\n"),
                ("Due", "Date", "---\nDateRestriction: ''\n")):
            conn.execute(text(f"INSERT INTO dynamic_field (internal_field, name, label, field_order, field_type, "
                              f"object_type, config, valid_id, create_time, create_by, change_time, change_by) "
                              f"VALUES (0, :n, :n, 1, :k, 'Ticket', :c, 1, {audit})"),
                         {"n": name, "k": kind, "c": config.encode()})
        conn.execute(text(f"INSERT INTO ticket_type (name, valid_id, create_time, create_by, change_time, "
                          f"change_by) VALUES ('Incident', 1, {audit})"))


def test_type_customer_pending_fields_and_merge(shell) -> None:
    _fields(shell.engine)
    tn = shell("create", "--title", "Домен не продлён", "--queue", "Raw", "--body", "expired")["ticket"]["tn"]
    assert shell("type", tn, "Incident")["ticket"]["type"] == "Incident"
    ticket = shell("customer", tn, "--customer-user", "jane@acme.test", "--customer-id", "ACME")["ticket"]
    assert (ticket["customer_user"], ticket["customer_id"]) == ("jane@acme.test", "ACME")
    shell("state", tn, "pending reminder", "--pending-until", "2030-01-02 10:00")
    assert shell("pending", tn, "2030-01-03 09:30")["ticket"]["pending_until"] == 1893663000
    assert shell("pending", tn, "--clear")["ticket"]["pending_until"] == 0
    assert shell("field", tn, "Product", "hosting")["ticket"]["dynamic_fields"]["Product"] == "hosting"
    assert shell("field", tn, "Tags", "red", "blue")["ticket"]["dynamic_fields"]["Tags"] == ["red", "blue"]
    assert shell("field", tn, "Due", "2030-05-01")["ticket"]["dynamic_fields"]["Due"] == "2030-05-01T00:00:00"
    assert "Tags" not in shell("field", tn, "Tags", "--clear")["ticket"]["dynamic_fields"]

    main = shell("create", "--title", "Original", "--queue", "Raw", "--body", "first")["ticket"]
    merged = shell("merge", tn, "--into", main["tn"])
    assert merged["ticket"]["state"] == "merged" and merged["main_ticket"]["tn"] == main["tn"]
    assert len(shell("get", main["tn"])["articles"]) == 2
    history = [h["history_type"] for h in shell("get", tn, "--history", "--no-articles")["history"]]
    for expected in ("TypeUpdate", "CustomerUpdate", "SetPendingTime", "TicketDynamicFieldUpdate", "Merged"):
        assert expected in history


def test_refused_changes_say_why_and_write_nothing(shell) -> None:
    _fields(shell.engine)
    tn = shell("create", "--title", "Printer on fire", "--queue", "Raw")["ticket"]["tn"]

    def rows() -> tuple:
        with shell.engine.connect() as conn:
            return tuple(tuple(conn.execute(text(sql)).all()) for sql in (
                "SELECT * FROM ticket", "SELECT id FROM ticket_history", "SELECT * FROM dynamic_field_value"))

    before = rows()
    refusals = [
        (("field", tn, "Nope", "x"), "NAME: no ticket dynamic field 'Nope'; known: Due, Product, Tags"),
        (("field", tn, "Product", "printers"), "VALUE: 'printers' is not a possible value of 'Product'"),
        (("field", tn, "Tags", "red", "pink"), "VALUE[1]: 'pink' is not a possible value"),
        (("field", tn, "Due", "2030-02-30"), "VALUE: must be a date, YYYY-MM-DD"),
        (("field", tn, "Product"), "give VALUE(s) or --clear"),
        (("pending", tn, "2030-13-01"), "Invalid value for 'DATETIME'"),
        (("pending", tn, "2030-01-03 09:30"), "only pending states have a pending time"),
        (("pending", tn), "give DATETIME or --clear"),
        (("type", tn, "Nonsense"), "type: unknown ticket type 'Nonsense'"),
        (("type", tn, "Incident", "--as", "nobody"), "'nobody'"),
        (("customer", tn), "give --customer-user, --customer-id or both"),
        (("responsible", tn, "root@localhost"), "OTRS_EXT_TICKET_RESPONSIBLE=true"),
        (("merge", tn, "--into", tn), "cannot be merged into itself"),
        (("merge", tn, "--into", "999999"), "no ticket with number or id '999999'"),
        (("merge", tn, "--into", "1", "--as", "nobody"), "no 'rw' permission"),
        (("field", "999999", "Product", "hosting"), "no ticket with number or id '999999'"),
    ]
    for args, message in refusals:
        result = shell(*args, ok=False)
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, (
            args, result.output)
    assert rows() == before


def test_responsible_when_otrs_has_the_feature_on(shell, monkeypatch) -> None:
    monkeypatch.setenv("OTRS_EXT_TICKET_RESPONSIBLE", "true")
    tn = shell("create", "--title", "Printer on fire", "--queue", "Raw")["ticket"]["tn"]
    ticket = shell("responsible", tn, "nobody")["ticket"]
    assert ticket["responsible"] == "nobody"
    # OTRS's ResponsibleCheck: the responsible may now work the ticket without any group rights
    assert shell("title", tn, "Printer extinguished", "--as", "nobody")["ticket"]["title"] == "Printer extinguished"

"""The tasks otrs-ext queues for OTRS's daemon (``otrs_tasks``), on the genuine OTRS 5, OTRS 6, Znuny 7.0/7.1
and OTOBO 11 schemas: rows as ``SchedulerDB::TaskAdd`` writes them, data Perl's Storable thaws, modules as
configured.

That OTRS's daemon then makes the same rows as Znuny's in-request event layer is shown against real Znuny
code in ``tests/oracle/test_side_effects.py``.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import text
from support.sysconfig_rows import modify, seed

from otrs_ext.errors import ConfigurationError
from otrs_ext.settings import Settings
from otrs_ext.tickets.inputs import NewArticle, NewTicket
from otrs_ext.tickets.otrs_tasks import OtrsSideEffects

EVENT = "Kernel::System::Ticket::Event::"
APPOINTMENT = "Kernel::System::Calendar-TicketAppointmentProcessTicket()"
MODULES = "Ticket::EventModulePost###"


def _tasks(core) -> list[dict]:
    """``scheduler_task`` rows, ``task_data`` thawed by Perl's Storable as OTRS's daemon reads it."""
    with core.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text("SELECT * FROM scheduler_task ORDER BY id")).mappings()]
    script = ("use Storable; use MIME::Base64; use JSON::PP; local $/; print JSON::PP->new->utf8->encode("
              "[map { Storable::thaw(decode_base64($_)) } @{ JSON::PP->new->decode(<STDIN>) }]);")
    blobs = [r["task_data"].decode("ascii") for r in rows]
    thawed = json.loads(subprocess.run(["perl", "-e", script], input=json.dumps(blobs), capture_output=True,
                                       text=True, check=True).stdout)
    for row, data in zip(rows, thawed, strict=True):
        row["data"] = data
    return rows


def _scenario(core) -> int:
    service = core.service
    created = service.create_ticket(core.agent, NewTicket(
        title="Printer", queue="Raw", lock="unlock", priority="3 normal", state="new", customer_id="ACME",
        customer_user="jane@acme.test", owner_id=1), NewArticle(
        body="Ünïcode body", subject="Flames", channel="Phone", sender_type="customer", visible_for_customer=True,
        from_="jane@acme.test", history_type="PhoneCallCustomer", history_comment="%%"))
    core.clock.advance(1)
    service.set_owner(core.agent, created.ticket_id, core.agent)
    core.clock.advance(1)
    service.move(core.agent, created.ticket_id, "Misc")
    return created.ticket_id


@pytest.mark.parametrize("generation", ["otrs5", "otrs6", "znuny7", "znuny71", "otobo11"])
def test_rows_on_the_genuine_schema_thaw_as_the_daemon_reads_them(ticket_core, generation):
    core = ticket_core(generation, genuine=True)
    core.service.side_effects = OtrsSideEffects(core.schema)
    ticket_id = _scenario(core)
    tasks = _tasks(core)
    assert {(t["task_type"], t["attempts"], t["lock_key"], t["lock_time"]) for t in tasks} == {
        ("AsynchronousExecutor", 1, 0, None)}
    assert len({t["ident"] for t in tasks}) == len(tasks) and all(len(str(t["ident"])) == 18 for t in tasks)
    calls = [(t["name"], t["data"]["Params"].get("Event"), str(t["create_time"])) for t in tasks]
    notify, index = EVENT + "NotificationEvent-Run()", EVENT + "TicketEscalationIndex-Run()"
    expected = [
        (index, "ArticleCreate", "2025-11-25 20:00:00"),
        (notify, "NotificationNewTicket", "2025-11-25 20:00:00"),
        (notify, "NotificationOwnerUpdate", "2025-11-25 20:00:01"),
        (notify, "NotificationMove", "2025-11-25 20:00:02"),
        (index, "TicketQueueUpdate", "2025-11-25 20:00:02"),
    ]
    if generation != "otrs5":  # OTRS 5 has no appointment calendars
        expected.insert(0, (APPOINTMENT, None, "2025-11-25 20:00:00"))
        expected.insert(-1, (APPOINTMENT, None, "2025-11-25 20:00:02"))
    assert calls == expected
    for task in tasks:
        data = task["data"]
        assert task["name"] == f"{data['Object']}-{data['Function']}()"
        params = data["Params"]
        assert params.get("TicketID", params.get("Data", {}).get("TicketID")) == ticket_id
    new_ticket = tasks[1 if generation == "otrs5" else 2]["data"]["Params"]
    assert new_ticket["UserID"] == core.agent and new_ticket["Transaction"] == 1
    assert new_ticket["Config"] == {"Module": EVENT + "NotificationEvent", "Transaction": "1"}
    assert new_ticket["Data"]["CustomerMessageParams"]["Body"] == "Ünïcode body"
    move = tasks[-1]["data"]["Params"]["Data"]["OldTicketData"]
    assert (move["Queue"], move["QueueID"], move["Owner" + "ID"]) == ("Raw", 2, core.agent)


def test_no_tasks_without_modules_and_the_cache_entry_goes(ticket_core):
    core = ticket_core("znuny7", genuine=True)
    core.service.side_effects = OtrsSideEffects(core.schema, modules=())
    _scenario(core)
    assert _tasks(core) == []
    core.service.side_effects = OtrsSideEffects(core.schema)
    stale: list = []
    invalidate = core.service.invalidator.invalidate
    core.service.invalidator.invalidate = lambda items: (stale.extend(items), invalidate(items))[1]
    _scenario(core)
    assert _tasks(core) and ("SchedulerDB", "TaskListUnlocked") in stale


def test_the_installations_sysconfig_decides(ticket_core):
    """Znuny's shipped module settings, then an admin's changes: NotificationEvent switched off, the escalation
    index made non-transactional, and a module of an add-on that otrs-ext has never heard of."""
    core = ticket_core("znuny7", genuine=True)
    with core.engine.begin() as conn:
        seed(conn, names=(), prefixes=(MODULES,))
        modify(conn, MODULES + "7000-NotificationEvent", {"Module": EVENT + "NotificationEvent",
                                                           "Transaction": "1"}, valid=0)
        conn.execute(text(
            "INSERT INTO sysconfig_default (name, description, navigation, is_invisible, is_readonly, is_required, "
            "is_valid, has_configlevel, user_modification_possible, user_modification_active, xml_content_raw, "
            "xml_content_parsed, xml_filename, effective_value, is_dirty, exclusive_lock_guid, create_time, "
            "create_by, change_time, change_by) VALUES (:name, '', 'Core', 0, 0, 0, 1, 0, 0, 0, '', '', "
            "'AddOn.xml', :value, 0, '0', NOW(), 1, NOW(), 1)"),
            {"name": MODULES + "9999-AddOnSync", "value": "---\nEvent: TicketPriorityUpdate\n"
                                                           "Module: Kernel::System::Ticket::Event::AddOnSync\n"})
    core.service.side_effects = OtrsSideEffects(core.schema)
    ticket_id = _scenario(core)
    core.service.set_priority(core.agent, ticket_id, "4 high")
    calls = [(t["name"].removeprefix(EVENT), t["data"]["Params"].get("Event")) for t in _tasks(core)]
    assert calls == [
        ("Kernel::System::Calendar-TicketAppointmentProcessTicket()", None),
        ("TicketEscalationIndex-Run()", "ArticleCreate"),
        ("Kernel::System::Calendar-TicketAppointmentProcessTicket()", None),
        ("TicketEscalationIndex-Run()", "TicketQueueUpdate"),
        ("AddOnSync-Run()", "TicketPriorityUpdate"),  # not transactional: first
        ("TicketEscalationIndex-Run()", "TicketPriorityUpdate"),
    ]


@pytest.mark.parametrize("modules", [("3600-ForceUnlockOnMove",), ("*", "4000-TicketArticleNewMessageUpdate")])
def test_modules_otrs_ext_does_itself_cannot_be_chosen(modules):
    with pytest.raises(ConfigurationError, match="OTRS_EXT_OTRS_EVENT_MODULES"):
        Settings(otrs_event_modules=modules).validate()


def test_the_setting_reads_from_the_environment():
    assert Settings.load({"OTRS_EXT_OTRS_EVENT_MODULES": ""}).otrs_event_modules == ()
    assert Settings.load({}).otrs_event_modules == ("*",)
    assert Settings.load({"OTRS_EXT_OTRS_EVENT_MODULES": "9990-EscalationIndex, 7000-NotificationEvent"}
                             ).otrs_event_modules == ("9990-EscalationIndex", "7000-NotificationEvent")

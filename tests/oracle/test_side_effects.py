"""OTRS's own side effects of otrs-ext's writes: the escalation index, notification mails and calendar
appointments, made by OTRS's daemon from the tasks otrs-ext queued, must equal what Znuny's event layer
made for the same requests.

On the Znuny side the event modules ran inside each request; on otrs-ext's side they run when the daemon
(``SchedulerTasksRun``, under the same frozen clock) executes the queued tasks, which happens here right
after each otrs-ext write, as a running daemon would within its next second or so. In production the
daemon's clock is a little later than the write's: ``ticket.change_time`` after the escalation rebuild, the
``SendAgentNotification`` history row and the ``mail_queue`` row then carry the daemon's moment.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from typing import Any

import pytest
from oracle_harness import DAEMON, DATABASE, EPOCH, utc
from scenarios import AGENT, article_op, new_article, new_ticket, ticket_op
from sqlalchemy import create_engine, text

# Queue "Raw" (id 2) escalates: first response 1 h, update 2 h, solution 8 h (working time, default calendar).
ESCALATING_RAW = {"op": "Call", "Object": "Kernel::System::Queue", "Method": "QueueUpdate", "QueueID": 2,
                  "Name": "Raw", "ValidID": 1, "GroupID": 1, "Calendar": "", "FirstResponseTime": 60,
                  "FirstResponseNotify": 0, "UpdateTime": 120, "UpdateNotify": 0, "SolutionTime": 480,
                  "SolutionNotify": 0, "FollowUpID": 1, "FollowUpLock": 0, "SystemAddressID": 1,
                  "SalutationID": 1, "SignatureID": 1, "UnlockTimeout": 0, "Comment": "", "UserID": 1}
PHONE = {"channel": "Phone", "sender": "customer", "visible": True, "history_type": "PhoneCallCustomer",
         "history_comment": "%%", "from_": "Jane Doe <jane@acme.test>", "to": "Raw",
         "body": "The printer in room 4 is on fire.\nPlease hurry."}
FOLLOW_UP = {"channel": "Email", "sender": "customer", "visible": True, "history_type": "FollowUp",
             "history_comment": "%%", "from_": "Jane Doe <jane@acme.test>", "to": "Raw",
             "subject": "Re: Flames", "body": "It is still burning – Grüße aus Raum 4!"}
SYSTEM = 1  # PostMaster and the customer interface write a customer's follow-up as user 1


def test_create_and_customer_follow_up_escalate_and_notify_the_owner(oracle):
    """The Done-when case: a queue with escalation times, the owner (agent1, rw on the queue's group, a valid
    e-mail) gets Znuny's default "follow-up (unlocked)" notification by e-mail."""
    ops = [ticket_op(owner=AGENT), article_op(**PHONE), {"op": "AddSeconds", "Seconds": 300},
           article_op(**FOLLOW_UP, user=SYSTEM)]

    def ext(core):
        created = core.service.create_ticket(AGENT, new_ticket(owner=AGENT), new_article(**PHONE))
        core.znuny(DAEMON)
        core.advance(300)
        core.service.add_article(SYSTEM, created.ticket_id, new_article(**FOLLOW_UP), as_system=True)
        core.znuny(DAEMON)

    engine = create_engine(oracle.server.url(DATABASE))
    try:
        znuny = oracle.run_znuny(ops, setup=[ESCALATING_RAW], after=DAEMON)
        znuny_mails = _mails(engine)
        ours = oracle.run_ext(ext, setup=[ESCALATING_RAW], after=DAEMON)
        our_mails = _mails(engine)
    finally:
        engine.dispose()
    ticket = ours.rows["ticket"][0]
    # the effects happened at all (not two empty sides): escalation destinations and one mail to agent1
    assert ticket["escalation_response_time"] > EPOCH and ticket["escalation_solution_time"] > EPOCH
    assert [h["history_type"] for h in ours.rows["ticket_history"]].count("SendAgentNotification") == 1
    assert len(our_mails) == 1 and "To: agent1@oracle.example.com" in our_mails[0]["Header"]
    assert "It is still burning =E2=80=93 Gr=C3=BC=C3=9Fe aus Raum 4!" in our_mails[0]["Body"]
    assert our_mails == znuny_mails
    # The mail's raw message differs between any two Znuny runs: Perl's random header order, a Message-ID
    # and MIME boundary made of the clock, the process id and random digits; it is compared just above with
    # those parts masked. The row's insert_fingerprint is "<pid>-<random>", like an article's.
    assert oracle.compare(znuny, ours, ignore=["mail_queue.raw_message", "mail_queue.insert_fingerprint"]) == []


def test_tasks_before_the_daemon_ran(oracle):
    """What otrs-ext leaves in ``scheduler_task`` for a create with its article: the calendar task Znuny writes
    itself (same data), then the event-module calls Znuny made in-request, in its order: the escalation index
    (once, after the ticket's last event) and NotificationEvent for NotificationNewTicket, the one event of
    the request a shipped notification listens to (it finds no recipient: agent1 has no "My Queues")."""
    def ext(core):
        core.service.create_ticket(AGENT, new_ticket(owner=AGENT), new_article(**PHONE))

    ours = oracle.run_ext(ext, setup=[ESCALATING_RAW])
    tasks = [(t["name"], t["task_data"]["Params"].get("Event")) for t in ours.rows["scheduler_task"]]
    assert tasks == [
        ("Kernel::System::Calendar-TicketAppointmentProcessTicket()", None),
        ("Kernel::System::Ticket::Event::TicketEscalationIndex-Run()", "ArticleCreate"),
        ("Kernel::System::Ticket::Event::NotificationEvent-Run()", "NotificationNewTicket"),
    ]
    znuny = oracle.run_znuny([ticket_op(owner=AGENT), article_op(**PHONE)], setup=[ESCALATING_RAW])
    # Znuny's own queued row is the same task, data and all (one per request: the driver's TicketCreate and
    # ArticleCreate are two requests, otrs-ext's create is one write)
    assert [(t["name"], t["task_type"], t["attempts"], t["lock_key"], t["task_data"])
            for t in znuny.rows["scheduler_task"]] == 2 * [
        (t["name"], t["task_type"], t["attempts"], t["lock_key"], t["task_data"])
        for t in ours.rows["scheduler_task"][:1]]
    notification = ours.rows["scheduler_task"][2]["task_data"]["Params"]
    assert notification["Config"]["Module"] == "Kernel::System::Ticket::Event::NotificationEvent"
    assert notification["Transaction"] == 1 and notification["UserID"] == AGENT
    assert notification["Data"]["CustomerMessageParams"]["Body"] == PHONE["body"]


def _mails(engine) -> list[dict[str, str]]:
    """The ``mail_queue`` messages (Perl Storable of {Header, Body}) with the per-run random parts masked and
    the headers in a fixed order."""
    with engine.connect() as conn:
        blobs = [r[0] for r in conn.execute(text("SELECT raw_message FROM mail_queue ORDER BY id"))]
    script = ("use Storable; use MIME::Base64; use JSON::PP; local $/; my @in = map { decode_base64($_) } "
              "split /\\n/, <STDIN>; print JSON::PP->new->canonical->encode([map { Storable::thaw($_) } @in]);")
    out = subprocess.run(["perl", "-e", script], input="\n".join(base64.b64encode(b).decode() for b in blobs),
                         capture_output=True, text=True, check=True).stdout
    mails = []
    for message in json.loads(out):
        header = re.sub(r"(Message-ID: <)[^@]+", r"\1<random>", message["Header"])
        header = "\n".join(sorted(header.strip().split("\n")))
        mails.append({"Header": re.sub(r"=_\d+-\d+-\d+", "=_<boundary>", header),
                      "Body": re.sub(r"=_\d+-\d+-\d+", "=_<boundary>", message["Body"])})
    return mails


def _calendar_rows(engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT a.title, a.start_time, a.end_time, a.all_day, a.ticket_appointment_rule_id, t.rule_id, "
            "a.create_by, a.change_by FROM calendar_appointment a "
            "LEFT JOIN calendar_appointment_ticket t ON t.appointment_id = a.id ORDER BY a.id")).mappings()]


CALENDAR = {"op": "Call", "Object": "Kernel::System::Calendar", "Method": "CalendarCreate",
            "CalendarName": "Ticket dates", "GroupID": 1, "Color": "#3A87AD", "UserID": 1,
            "TicketAppointments": [{"RuleID": "0123456789abcdef0123456789abcdef", "StartDate": "PendingTime",
                                    "EndDate": "Plus_30", "QueueID": [2], "SearchParam": {}}]}


def test_pending_ticket_gets_its_calendar_appointment(oracle):
    """The oracle README's §5 example: a pending time puts the ticket into a ticket-appointment calendar."""
    ops = [ticket_op(title="Auto close", owner=1),
           {"op": "TicketStateSet", "TicketID": "$t", "State": "pending auto close+", "UserID": AGENT},
           {"op": "TicketPendingTimeSet", "TicketID": "$t", "String": "2025-11-26 09:00:00", "UserID": AGENT}]

    def ext(core):
        created = core.service.create_ticket(AGENT, new_ticket(title="Auto close", owner=1))
        core.service.set_state(AGENT, created.ticket_id, "pending auto close+")
        core.service.set_pending_time(AGENT, created.ticket_id, utc(EPOCH + 13 * 3600))

    engine = create_engine(oracle.server.url(DATABASE))
    try:
        znuny = oracle.run_znuny(ops, setup=[CALENDAR], after=DAEMON)
        znuny_calendar = _calendar_rows(engine)
        ours = oracle.run_ext(ext, setup=[CALENDAR], after=DAEMON)
        our_calendar = _calendar_rows(engine)
    finally:
        engine.dispose()
    assert [r["title"][-10:] for r in znuny_calendar] == ["Auto close"]
    assert our_calendar == znuny_calendar
    assert oracle.compare(znuny, ours) == []


@pytest.mark.parametrize("modules", [(), ("9990-EscalationIndex",)], ids=["none", "escalation-only"])
def test_the_setting_chooses_the_modules(oracle, modules):
    def ext(core):
        core.service.create_ticket(AGENT, new_ticket(owner=AGENT), new_article(**PHONE))

    ours = oracle.run_ext(ext, setup=[ESCALATING_RAW], otrs_event_modules=modules)
    names = [t["name"] for t in ours.rows["scheduler_task"]]
    assert names == ["Kernel::System::Ticket::Event::TicketEscalationIndex-Run()" for _ in modules]


# --- the events themselves ------------------------------------------------------------------------------------
TRACE_MODULE = r"""package Kernel::System::Ticket::Event::OracleTrace;
# written by tests/oracle/test_side_effects.py: every ticket event, its data and the frozen time, one JSON line
use strict;
use warnings;
use JSON::PP;
our @ObjectDependencies = ();
sub new { my ($Type) = @_; return bless {}, $Type; }
sub Run {
    my ( $Self, %Param ) = @_;
    my %Out;
    for my $Key ( keys %{ $Param{Data} || {} } ) {
        my $Value = $Param{Data}->{$Key};
        $Out{$Key} = !ref $Value ? $Value
            : ref $Value eq 'HASH' ? '{' . join( ',', sort keys %{$Value} ) . '}'
            : ref $Value eq 'ARRAY' ? '[' . join( ',', map { ref $_ ? ref $_ : $_ } @{$Value} ) . ']'
            : ref $Value;
    }
    open my $FH, '>>', 'TRACE_FILE' or die "trace: $!";
    print $FH JSON::PP->new->canonical->encode( { Time => 0 + time, Event => $Param{Event}, UserID => $Param{UserID},
        Data => \%Out } ) . "\n";
    close $FH;
    return 1;
}
1;
"""
TRACE_CONFIG = """package Kernel::Config::Files::ZZZZOracleTrace;
# written by tests/oracle/test_side_effects.py: the trace module, run at once (not in the transaction phase)
use strict;
use warnings;
sub Load {
    my ( $File, $Self ) = @_;
    $Self->{'Ticket::EventModulePost'}->{'000-OracleTrace'} = {
        Module => 'Kernel::System::Ticket::Event::OracleTrace',
    };
    return;
}
1;
"""
# Events otrs-ext does not raise (module docstring of otrs_events): the Seen bookkeeping's flag events, and
# TicketAllChildrenClosed, which a module raises when it runs (in OTRS's daemon for otrs-ext's writes).
NOT_RAISED = {"TicketFlagSet", "TicketFlagDelete", "ArticleFlagSet", "TicketAllChildrenClosed"}
NOTE = {"channel": "Internal", "sender": "agent", "visible": False, "history_type": "AddNote",
        "history_comment": "%%Note", "subject": "Checked", "body": "Cable replaced."}


@pytest.fixture
def traced(oracle):
    """Znuny with a module that logs every event as it is raised; removed again afterwards."""
    trace = oracle.workdir / "events.jsonl"
    module = oracle.home / "Custom" / "Kernel" / "System" / "Ticket" / "Event" / "OracleTrace.pm"
    config = oracle.home / "Kernel" / "Config" / "Files" / "ZZZZOracleTrace.pm"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text(TRACE_MODULE.replace("TRACE_FILE", str(trace)))
    config.write_text(TRACE_CONFIG)
    trace.touch()
    if os.geteuid() == 0:
        owner = oracle.home.stat()
        for path in (module, config, trace):
            os.chown(path, owner.st_uid, owner.st_gid)
    try:
        yield trace
    finally:
        module.unlink()
        config.unlink()
        trace.unlink()


def _shape(data: dict[str, Any]) -> dict[str, Any]:
    """Our event data in the trace's notation (a hash as its sorted keys, an array as its items)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = "{" + ",".join(sorted(value)) + "}"
        elif isinstance(value, list):
            out[key] = "[" + ",".join("ARRAY" if isinstance(v, list | dict) else str(v) for v in value) + "]"
        else:
            out[key] = value
    return out


def test_writes_raise_the_events_znuny_raises(oracle, traced):
    """Every operation, through Znuny with an event trace and through otrs-ext's recorder: the same events in
    the same order, with the same data (hashes compared by their keys; OldTicketData only by presence)."""
    setup = [{"op": "Call", "Object": "Kernel::System::Type", "Method": "TypeAdd", "Name": "Incident",
              "ValidID": 1, "UserID": 1},
             {"op": "Call", "Object": "Kernel::System::DynamicField", "Method": "DynamicFieldAdd", "Name": "ExtRef",
              "Label": "External reference", "FieldOrder": 100, "FieldType": "Text", "ObjectType": "Ticket",
              "Config": {"DefaultValue": ""}, "ValidID": 1, "UserID": 1}]
    step = {"op": "AddSeconds", "Seconds": 1}
    znuny_steps: list[list[dict[str, Any]]] = [
        [ticket_op(owner=1), article_op(**PHONE)],
        [article_op(**NOTE, ref="n"),
         {"op": "TicketAccountTime", "TicketID": "$t", "ArticleID": "$n", "TimeUnit": "1.5", "UserID": AGENT}],
        [article_op(**FOLLOW_UP, user=SYSTEM)],
        [{"op": "TicketLockSet", "TicketID": "$t", "Lock": "lock", "UserID": AGENT}],
        [{"op": "TicketOwnerSet", "TicketID": "$t", "NewUserID": AGENT, "UserID": AGENT}],
        [{"op": "TicketResponsibleSet", "TicketID": "$t", "NewUserID": AGENT, "UserID": 1}],
        [{"op": "TicketQueueSet", "TicketID": "$t", "Queue": "Misc", "UserID": AGENT}],
        [{"op": "TicketPrioritySet", "TicketID": "$t", "Priority": "4 high", "UserID": AGENT}],
        [{"op": "TicketTitleUpdate", "TicketID": "$t", "Title": "Printer replaced", "UserID": AGENT}],
        [{"op": "TicketTypeSet", "TicketID": "$t", "Type": "Incident", "UserID": AGENT}],
        [{"op": "TicketCustomerSet", "TicketID": "$t", "No": "BETA", "User": "joe@beta.test", "UserID": AGENT}],
        [{"op": "TicketStateSet", "TicketID": "$t", "State": "pending reminder", "UserID": AGENT},
         {"op": "TicketPendingTimeSet", "TicketID": "$t", "String": "2025-11-27 09:00:00", "UserID": AGENT}],
        [{"op": "DynamicFieldValueSet", "FieldName": "ExtRef", "ObjectID": "$t", "Value": "X-42", "UserID": AGENT}],
        [{"op": "TicketStateSet", "TicketID": "$t", "State": "closed successful", "UserID": AGENT}],
        [ticket_op("t2", title="Duplicate", owner=1)],
        [{"op": "TicketMerge", "MainTicketID": "$t", "MergeTicketID": "$t2", "UserID": AGENT}],
    ]

    def ext(core) -> list[list[Any]]:
        captured: list[Any] = []
        queue = core.service.side_effects.queue

        def spy(w):
            captured.extend(w.recorder.finish())
            return queue(w)

        core.service.side_effects.queue = spy
        s = core.service
        groups: list[list[Any]] = []

        def group(*writes) -> None:
            for write in writes:
                write()
            groups.append(list(captured))
            captured.clear()
            core.advance(1)

        t = s.create_ticket(AGENT, new_ticket(owner=1), new_article(**PHONE)).ticket_id
        groups.append(list(captured))
        captured.clear()
        core.advance(1)
        group(lambda: s.add_article(AGENT, t, new_article(**NOTE, time_units=1.5)))
        group(lambda: s.add_article(SYSTEM, t, new_article(**FOLLOW_UP), as_system=True))
        group(lambda: s.lock(AGENT, t))
        group(lambda: s.set_owner(AGENT, t, AGENT))
        group(lambda: s.set_responsible(1, t, AGENT))
        group(lambda: s.move(AGENT, t, "Misc"))
        group(lambda: s.set_priority(AGENT, t, "4 high"))
        group(lambda: s.set_title(AGENT, t, "Printer replaced"))
        group(lambda: s.set_type(AGENT, t, "Incident"))
        group(lambda: s.set_customer(AGENT, t, "BETA", "joe@beta.test"))
        group(lambda: s.set_state(AGENT, t, "pending reminder", pending_until=utc(EPOCH + 37 * 3600)))
        group(lambda: s.set_dynamic_field(AGENT, t, "ExtRef", "X-42"))
        group(lambda: s.set_state(AGENT, t, "closed successful"))
        created: list[int] = []
        group(lambda: created.append(s.create_ticket(AGENT, new_ticket(title="Duplicate", owner=1)).ticket_id))
        group(lambda: s.merge(AGENT, created[0], t))
        return groups

    ops = [op for ops_of_step in znuny_steps for op in [*ops_of_step, step]]
    oracle.run_znuny(ops, setup=setup)
    lines = [json.loads(line) for line in traced.read_text().splitlines()]
    by_time: dict[int, list[dict[str, Any]]] = {}
    for line in lines:
        if line["Time"] >= EPOCH:  # the setup ran at the same moment but raised no ticket event
            by_time.setdefault(line["Time"], []).append(line)
    assert len(by_time) == len(znuny_steps)
    traced.write_text("")
    ours = oracle.run_ext(ext, setup=setup).returned
    problems = []
    for index, (moment, theirs) in enumerate(sorted(by_time.items())):
        want = [(e["Event"], e["UserID"], e["Data"]) for e in theirs if e["Event"] not in NOT_RAISED]
        got = [(e.name, e.user_id, _shape(dict(e.data))) for e in ours[index]]
        if [(n, int(u)) for n, u, _ in want] != [(n, u) for n, u, _ in got]:
            problems.append(f"step {index} ({moment - EPOCH} s): events\n  znuny {[(n, u) for n, u, _ in want]}"
                            f"\n  ext   {[(n, u) for n, u, _ in got]}")
            continue
        for (name, _, theirs_data), (_, _, our_data) in zip(want, got, strict=True):
            for key in sorted(set(theirs_data) | set(our_data)):
                a, b = theirs_data.get(key), our_data.get(key)
                if key == "OldTicketData" and a and b:
                    continue
                if ("" if a is None else str(a)) != ("" if b is None else str(b)):
                    problems.append(f"step {index} {name}.{key}: znuny={a!r} ext={b!r}")
    assert not problems, "\n".join(problems)

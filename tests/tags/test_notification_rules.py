"""Notification rules on real-looking mails, Russian and English: the automatic ones get the rule's tag, ordinary
customer mail (even about quotas, even replies) gets none. Most rows run the matcher on the parsed mail; a few go
through the mail gateway's rows and the running tailer."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default

import pytest
from otrs_writes import incoming_mail
from tag_support import rules_for_tests, wait_links

from otrs_ext.tags.facts import ArticleFacts


def mail(headers: str, body: str = "Hello,\n\nsee above.\n") -> bytes:
    lines = [line.strip() for line in headers.strip().splitlines()]
    folded = "\r\n".join(lines).replace("\r\n\\ ", "\r\n ")  # "\ " starts a folded continuation line
    return (folded + "\r\n" + "Message-ID: <x@test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            + body).encode()


ROWS = [
    # --- quota warnings --------------------------------------------------------------------------------------
    ("quota, English", mail("""
        From: Hosting Robot <noreply@hosting.example>
        To: support@acme.test
        Subject: Disk quota exceeded for account acme
        Auto-Submitted: auto-generated"""), {"quota-exceeded"}),
    ("quota, Russian, encoded subject", mail("""
        From: =?utf-8?B?0JHQuNC70LvQuNC90LM=?= <billing@isp.example>
        To: support@acme.test
        Subject: =?utf-8?B?0J/RgNC10LLRi9GI0LXQvdCwINC60LLQvtGC0LAg0L/QvtGH0YLQvtCy0L7Qs9C+INGP0YnQuNC60LA=?="""),
     {"quota-exceeded"}),
    ("quota, Russian, capitalised", mail("""
        From: robot@hosting.example
        Subject: Квота диска исчерпана на 95%"""), {"quota-exceeded"}),
    # --- monitoring -----------------------------------------------------------------------------------------
    ("load alert, Zabbix PROBLEM", mail("""
        From: Zabbix <zabbix@monitoring.example>
        Subject: PROBLEM: High load average on web01
        Auto-Submitted: auto-generated"""), {"load-alert"}),
    ("load alert, Russian", mail("""
        From: alerts@monitoring.example
        Subject: =?utf-8?q?=D0=92=D1=8B=D1=81=D0=BE=D0=BA=D0=B0=D1=8F_=D0=BD=D0=B0=D0=B3=D1=80=D1=83=D0=B7=D0=BA=D0=B0?=
        \\ =?utf-8?q?_=D0=BD=D0=B0_db02?=
        Auto-Submitted: Auto-Generated"""), {"load-alert"}),
    ("load alert, RECOVERY", mail("""
        From: zabbix@monitoring.example
        Subject: RECOVERY: load average OK on web01
        Auto-Submitted: auto-generated (zabbix)"""), {"load-alert"}),
    ("a person at the monitoring company: no auto header", mail("""
        From: Olga <olga@monitoring.example>
        Subject: PROBLEM with our invoice"""), set()),
    ("auto-generated, but from the customer's own Zabbix", mail("""
        From: zabbix@acme.test
        Subject: PROBLEM: High load average on acme-web
        Auto-Submitted: auto-generated"""), set()),
    # --- out of office ---------------------------------------------------------------------------------------
    ("out of office, English", mail("""
        From: Jane Doe <jane@acme.test>
        Subject: Out of Office: Re: [Ticket#2026112610000042] Printer
        Auto-Submitted: auto-replied"""), {"out-of-office"}),
    ("out of office, Russian", mail("""
        From: =?utf-8?B?0JjQstCw0L0=?= <ivan@customer.ru>
        Subject: =?utf-8?B?0JDQstGC0L7QvtGC0LLQtdGCOiDQktC90LUg0L7RhNC40YHQsA==?=
        auto-submitted: Auto-Replied
        X-Auto-Response-Suppress: All"""), {"out-of-office"}),
    ("out of office without the header: left alone", mail("""
        From: jane@acme.test
        Subject: Out of office until Monday"""), set()),
    # --- bounces -------------------------------------------------------------------------------------------
    ("bounce, Postfix", mail("""
        From: MAILER-DAEMON@mx.acme.test (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        Auto-Submitted: auto-replied"""), {"bounce", "out-of-office"}),
    ("bounce, Russian provider", mail("""
        From: postmaster@mail.ru
        Subject: =?utf-8?B?0J3QtdC00L7RgdGC0LDQstC70LXQvdC90L7QtSDRgdC+0L7QsdGJ0LXQvdC40LU=?="""), {"bounce"}),
    # --- lists and loops -----------------------------------------------------------------------------------
    ("mailing list, English", mail("""
        From: Announce <announce@lists.vendor.example>
        Subject: [vendor-announce] Release 7.1.8
        Precedence: list
        List-Id: <announce.lists.vendor.example>"""), {"mailing-list"}),
    ("newsletter, Russian", mail("""
        From: news@shop.ru
        Subject: =?utf-8?B?0KHQutC40LTQutC4INC90LXQtNC10LvQuA==?=
        Precedence: bulk"""), {"mailing-list"}),
    ("precedence junk", mail("""
        From: offers@spam.example
        Subject: You won
        Precedence: JUNK"""), {"mailing-list"}),
    ("a mail loop", mail("""
        From: helpdesk@partner.example
        Subject: Re: Re: Re: your request
        X-Loop: helpdesk@partner.example"""), {"mail-loop"}),
    # --- ordinary customer mail ----------------------------------------------------------------------------
    ("ordinary, English, quota in the body", mail("""
        From: Jane Doe <jane@acme.test>
        Subject: Mailbox full?""", "I think we hit our disk quota, can you check?\n"), set()),
    ("ordinary, Russian, quota in the body", mail("""
        From: =?utf-8?B?0JjQstCw0L0=?= <ivan@customer.ru>
        Subject: =?utf-8?B?0J/QvtGH0YLQsA==?=""", "Кажется, у нас закончилась квота на диске.\n"), set()),
    ("reply about a quota, English", mail("""
        From: jane@acme.test
        Subject: Re: Disk quota question
        In-Reply-To: <y@test>"""), set()),
    ("reply about a quota, Russian", mail("""
        From: ivan@customer.ru
        Subject: =?utf-8?B?UmU6INCf0YDQtdCy0YvRiNC10L3QsCDQutCy0L7RgtCwPw==?="""), set()),
    ("ordinary, English", mail("""
        From: "Doe, Jane" <jane@acme.test>
        Subject: Printer on fire"""), set()),
    ("ordinary, Russian", mail("""
        From: ivan@customer.ru
        Subject: =?utf-8?B?0J3QtSDRgNCw0LHQvtGC0LDQtdGCINC/0YDQuNC90YLQtdGA?="""), set()),
    ("the hosting company, not about a quota", mail("""
        From: billing@hosting.example
        Subject: Invoice for November"""), set()),
]


def _facts(raw: bytes, *, sender: str = "customer", queue: str = "Raw") -> ArticleFacts:
    parsed = BytesHeaderParser(policy=default).parsebytes(raw)  # OTRS stores a_from and a_subject decoded
    decoded = {name: str(parsed[name] or "") for name in ("From", "Subject")}
    return ArticleFacts(article_id=1, ticket_id=1, channel="Email", sender_type=sender, visible_for_customer=True,
                        create_by=1, login="root@localhost", a_from=decoded["From"], subject=decoded["Subject"],
                        queue=queue, raw_headers=raw)


def test_the_table_has_enough_rows_in_both_languages():
    assert len(ROWS) >= 20
    assert sum(1 for _, _, expected in ROWS if not expected) >= 8


@pytest.mark.parametrize("label, raw, expected", ROWS, ids=[row[0] for row in ROWS])
def test_rules_tag_automatic_mails_and_nothing_else(label, raw, expected):
    rules = rules_for_tests()
    assert {rule.name for rule in rules.notifications_for(_facts(raw))} == expected


def test_agents_articles_and_the_queue_condition():
    rules = rules_for_tests()
    quota = ROWS[0][1]
    assert rules.notifications_for(_facts(quota, sender="agent")) == []  # an agent forwarding it: not a candidate
    assert {r.name for r in rules.notifications_for(_facts(ROWS[-1][1], queue="Junk"))} == {"junk-queue"}
    no_raw = ArticleFacts(article_id=1, ticket_id=1, channel="Email", sender_type="customer",
                          visible_for_customer=True, create_by=1, login=None, a_from="zabbix@monitoring.example",
                          subject="PROBLEM: load average")
    assert rules.notifications_for(no_raw) == []  # header conditions need the raw mail


def test_mails_through_the_gateway_rows_and_the_tailer(engine, tag_tail):
    tail = tag_tail()
    by_label = {label: (raw, expected) for label, raw, expected in ROWS}
    cases = ["quota, Russian, encoded subject", "out of office, English", "bounce, Postfix",
             "ordinary, Russian, quota in the body"]
    made = []
    for label in cases:
        raw, expected = by_label[label]
        # the raw mail comes 0.2 s after the article's history row, as the gateway's separate commit
        ticket_id, _ = incoming_mail(engine, raw, raw_delay=0.2)
        made.append((ticket_id, expected))
    for ticket_id, expected in made:
        wait_links(engine, ticket_id, ["source:email", *(f"notification:{name}" for name in expected)])
    # a follow-up on the ordinary ticket that is an out-of-office reply adds its tag to that ticket
    ordinary = made[-1][0]
    incoming_mail(engine, by_label["out of office, Russian"][0], ticket_id=ordinary)
    wait_links(engine, ordinary, ["source:email", "notification:out-of-office"])
    assert tail.error is None

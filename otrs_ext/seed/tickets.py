"""Pure generation of ticket rows: what to draw for a ticket (queue, customer, final state, article count...).

``TicketFactory.make`` appends the rows of one ticket to a ``Batch``: the ticket, its articles in the uniform
article vocabulary of ``schema_maps`` (turned into the generation's tables by ``Batch.tables``), attachments,
raw e-mail sources, history and ``Seen`` flags. Nothing here touches the database; ids are taken from an
``Ids`` allocator the runner initialises from ``MAX(id) + 1``.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from otrs_ext.db.lookups import Lookups
from schema_maps import OtrsSchema

from .attachments import AttachmentMaker
from .numbers import DayCounters
from .org import Org, Queue
from .roster import DISPATCH_QUEUE
from .story import play
from .text import TOPIC_WEIGHTS, TOPICS, TextMaker

DAY = 86_400
# topic -> (queue, weight) of the queues its tickets end up in
TOPIC_QUEUES = {
    "hosting": (("Support::Hosting", 4), ("Hosting::Shared", 3), ("Hosting::VPS", 2),
                ("Hosting::Dedicated", 1)),
    "domains": (("Support::Domains", 35), ("Domains::Registration", 35), ("Support::Domains::Transfers", 30)),
    "dns": (("Domains::DNS", 6), ("Support::Domains", 4)),
    "ssl": (("Support::SSL", 1),),
    "mail": (("Support::Mail", 8), ("Hosting::Shared", 2)),
    "billing": (("Billing", 3), ("Billing::Invoices", 4), ("Billing::Refunds", 3)),
    "sales": (("Sales", 7), ("Sales::Partners", 3)),
    "abuse": (("Abuse::Spam", 6), ("Abuse::Phishing", 4)),
}
# final state mix by age of the ticket: (max age in days, ((state, weight), ...))
STATE_MIX = (
    (2, (("new", 20), ("open", 28), ("pending reminder", 10), ("pending auto close+", 8),
         ("closed successful", 28), ("closed unsuccessful", 5), ("removed", 1))),
    (14, (("new", 3), ("open", 14), ("pending reminder", 8), ("pending auto close+", 5),
          ("closed successful", 58), ("closed unsuccessful", 10), ("merged", 1), ("removed", 1))),
    (None, (("open", 1.5), ("pending reminder", 1.5), ("closed successful", 81), ("closed unsuccessful", 14),
            ("merged", 1), ("removed", 1))),
)
STATES = ("new", "open", "pending reminder", "pending auto close+", "closed successful",
          "closed unsuccessful", "merged", "removed")
PRIORITIES = (("3 normal", 80), ("2 low", 6), ("4 high", 10), ("1 very low", 1), ("5 very high", 3))
CHANNELS = (("Email", 65), ("Phone", 20), ("Internal", 15))
HISTORY_TYPES = ("NewTicket", "CustomerUpdate", "EmailCustomer", "PhoneCallCustomer", "WebRequestCustomer",
                 "FollowUp", "SendAnswer", "PhoneCallAgent", "AddNote", "Misc", "Lock", "Unlock",
                 "OwnerUpdate", "ResponsibleUpdate", "StateUpdate", "SetPendingTime", "Move",
                 "PriorityUpdate", "Merged")


def _cum(pairs: tuple[tuple[Any, float], ...]) -> tuple[list[Any], list[float]]:
    return [p for p, _ in pairs], list(itertools.accumulate(w for _, w in pairs))


@dataclass
class Ids:
    """Next explicit id per table; the writer inserts rows with exactly these ids."""

    ticket: int
    article: int
    history: int
    attachment: int
    plain: int


@dataclass
class Batch:
    """Rows of a group of tickets, by uniform table; committed together."""

    tickets: list[dict] = field(default_factory=list)
    articles: list[dict] = field(default_factory=list)  # uniform article vocabulary (schema_maps)
    attachments: list[dict] = field(default_factory=list)
    plain: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    article_flags: list[dict] = field(default_factory=list)
    ticket_flags: list[dict] = field(default_factory=list)
    counters: list[dict] = field(default_factory=list)

    def tables(self, schema: OtrsSchema, article_ids: Mapping[str, Mapping[str, int]]
               ) -> list[tuple[Table, list[dict]]]:
        """(table, rows) in an order that satisfies OTRS's foreign keys (ticket → article → the rest)."""
        t = schema.tables
        article_rows: dict[Table, list[dict]] = {}
        for article in self.articles:
            for table, row in schema.articles.bulk_rows(article, article_ids):
                article_rows.setdefault(table, []).append(row)
        out = [(t.ticket, self.tickets), *article_rows.items(),
               (schema.articles.attachments, self.attachments), (schema.articles.plain, self.plain),
               (t.ticket_history, self.history),
               (t.article_flag, self.article_flags), (t.ticket_flag, self.ticket_flags)]
        if self.counters:
            out.append((t.ticket_number_counter, self.counters))
        return [(table, rows) for table, rows in out if rows]


class TicketFactory:
    """Draws tickets; one instance per run, fed with one seeded ``random.Random``."""

    def __init__(self, *, rng: random.Random, org: Org, lookups: Lookups, schema: OtrsSchema, now: int,
                 numbers: DayCounters, mean_articles: float) -> None:
        if mean_articles < 1:
            raise ValueError("articles_per_ticket must be at least 1: every ticket starts with an article")
        self.rng, self.org, self.lookups, self.now = rng, org, lookups, now
        self.numbers, self.mean = numbers, mean_articles
        self.text = TextMaker(rng)
        self.files = AttachmentMaker(rng, self.text)
        t = schema.tables
        self.title_len = t.ticket.c.title.type.length
        self.history_len = t.ticket_history.c.name.type.length
        self.customer_user_len = t.ticket.c.customer_user_id.type.length
        self.create_time_unix = schema.traits.create_time_unix  # OTRS 5
        types = lookups.names("ticket_type")
        self.type_id = types.get("Unclassified") or min(types.values(), default=1)
        # every id by name, resolved once (admins rename and add rows; ids differ between versions)
        self.sender = {n: lookups.id("article_sender_type", n) for n in ("agent", "customer")}
        self.history_type = {n: lookups.id("ticket_history_type", n) for n in HISTORY_TYPES}
        self.state_id = {n: lookups.id("ticket_state", n) for n in STATES}
        self.state_type = {n: lookups.state_types[i] for n, i in self.state_id.items()}
        self.priority_id = {n: lookups.id("ticket_priority", n) for n, _ in PRIORITIES}
        self.lock_id = {n: lookups.id("ticket_lock_type", n) for n in ("unlock", "lock")}
        self.agents_by_id = {a.id: a for a in org.agents.values()}
        self.lead = org.lead
        self.lead_queues = {qid for qid, owners in org.owners.items() if org.lead in owners}
        self._topics = (list(TOPICS), list(itertools.accumulate(TOPIC_WEIGHTS)))
        self._queues = {topic: _cum(tuple((org.queues[q], w) for q, w in pairs))
                        for topic, pairs in TOPIC_QUEUES.items()}
        self._states = [(limit, _cum(mix)) for limit, mix in STATE_MIX]
        self._priorities = _cum(PRIORITIES)
        self._channels = _cum(CHANNELS)
        self.dispatch: Queue = org.queues[DISPATCH_QUEUE]
        self.last_ticket_of: dict[str, tuple[str, int]] = {}  # customer login -> (tn, id) of his last ticket
        self.recent_tns: list[str] = []

    # --- draws ---------------------------------------------------------------------------------------------
    def pick(self, table: tuple[list[Any], list[float]]) -> Any:
        items, cum = table
        return items[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    def pick_topic(self) -> str:
        return self.pick(self._topics)

    def pick_queue(self, topic: str) -> Queue:
        return self.pick(self._queues[topic])

    def pick_final_state(self, age_seconds: int) -> str:
        for limit, table in self._states:
            if limit is None or age_seconds < limit * DAY:
                return self.pick(table)
        raise AssertionError("unreachable")

    def pick_priority(self) -> str:
        return self.pick(self._priorities)

    def pick_channel(self) -> str:
        return self.pick(self._channels)

    def pick_customer(self) -> Any:
        # a few customers write a lot: skew towards the front of the roster
        customers = self.org.customers
        return customers[int(len(customers) * self.rng.random() ** 1.6)]

    def article_count(self) -> int:
        """Uniform on [1, 2·mean − 1] with stochastic rounding: every ticket has one, the mean is exact."""
        x = self.rng.uniform(1.0, 2.0 * self.mean - 1.0)
        n = int(x)
        return n + (1 if self.rng.random() < x - n else 0)

    def recent_tn(self, fallback: str) -> str:
        return self.rng.choice(self.recent_tns) if self.recent_tns else fallback

    # --- generation ----------------------------------------------------------------------------------------
    def make(self, created: int, batch: Batch, ids: Ids) -> None:
        """Append every row of one ticket created at epoch ``created`` to ``batch``."""
        rec = play(self, batch, ids, created)
        self.last_ticket_of[rec.customer.login] = (rec.tn, rec.tid)
        if len(self.recent_tns) < 256:
            self.recent_tns.append(rec.tn)
        else:
            self.recent_tns[self.rng.randrange(256)] = rec.tn

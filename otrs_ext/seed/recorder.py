"""Write one ticket's rows the way OTRS's own operations write them (OTRS_INTERNALS §4, §13).

``TicketRecorder`` offers the operations the story of a ticket is made of (lock + owner, state change, unlock,
article) and appends, for each, the rows OTRS writes: history rows in OTRS's order with the snapshot of the
ticket *after* the change (e.g. Lock, "Reset of unlock time.", OwnerUpdate; StateUpdate then SetPendingTime),
articles in the uniform vocabulary of ``schema_maps``, attachments and the raw e-mail source. ``finish`` adds
the ``Seen`` flags and finally the ticket row from the final state.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .attachments import Attachment
from .mime import encode_address, encode_header, raw_email
from .text import Body, render_html, render_plain
from .timeline import content_path, db_time
from .vocabulary import AGENT_FQDN, MID_HOSTS

if TYPE_CHECKING:
    from .org import Agent, Queue
    from .roster import CustomerSpec
    from .tickets import Batch, Ids, TicketFactory

CLOSED, PENDING = "closed", ("pending reminder", "pending auto")
CONTENT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = 'text/html; charset="utf-8"'  # the file-2 attachment of rich-text articles (§13.4)
ROOT = 1  # PostMaster, the customer panel and the daemon act as user 1
_FP = bytes.maketrans(b"+/", b"xQ")


class TicketRecorder:
    """The mutable ticket of one story plus the rows written for it so far."""

    def __init__(self, f: TicketFactory, batch: Batch, ids: Ids, created: int, customer: CustomerSpec,
                 queue: Queue, priority: str) -> None:
        self.f, self.rng, self.batch, self.ids = f, f.rng, batch, ids
        self.created = created
        self.tid = ids.ticket
        ids.ticket += 1
        self.tn = f.numbers.next(created)
        self.customer = customer
        self.queue = queue
        self.priority = priority
        self.title = ""  # the first article's subject, set by the story
        self.creator = ROOT  # create_by of the ticket: an agent for phone tickets, else PostMaster / portal
        self.owner_id = self.responsible_id = ROOT
        self.lock = "unlock"
        self.state = "new"
        self.until = self.timeout = 0
        self.changed = (created, ROOT)
        self.views: dict[int, list[int]] = {}  # agent id -> times he had the ticket open
        self.articles: list[tuple[int, int]] = []  # (article id, time)
        self.refs: list[str] = []  # Message-IDs of the thread, for In-Reply-To / References
        self.last_body = self.last_when = ""
        self.pid = self.rng.randint(1000, 65000)  # web server worker named in the insert fingerprints
        self._ts: dict[int, str] = {}

    # --- history and setters -------------------------------------------------------------------------------
    def ts(self, t: int) -> str:
        s = self._ts.get(t)
        if s is None:
            s = self._ts[t] = db_time(t)
        return s

    def hist(self, kind: str, name: str, t: int, by: int, article_id: int | None = None) -> None:
        f = self.f
        ts = self.ts(t)
        self.batch.history.append({
            "id": self.ids.history, "name": name[: f.history_len], "history_type_id": f.history_type[kind],
            "ticket_id": self.tid, "article_id": article_id, "type_id": f.type_id, "queue_id": self.queue.id,
            "owner_id": self.owner_id, "priority_id": f.priority_id[self.priority],
            "state_id": f.state_id[self.state],
            "create_time": ts, "create_by": by, "change_time": ts, "change_by": by,
        })
        self.ids.history += 1
        self.changed = (t, by)

    def view(self, agent_id: int, t: int) -> None:
        if agent_id != ROOT:
            self.views.setdefault(agent_id, []).append(t)

    def reset_unlock_time(self, t: int, by: int) -> None:
        self.timeout = t
        self.hist("Misc", "Reset of unlock time.", t, by)

    def take(self, agent: Agent, t: int) -> None:
        """What the compose / lock screens do: lock (+ unlock-time reset), then owner (+ responsible)."""
        if self.lock != "lock":
            self.lock = "lock"
            self.hist("Lock", "%%lock", t, agent.id)
            self.reset_unlock_time(t, agent.id)
        if self.owner_id != agent.id:
            self.set_owner(agent, t, agent.id)
        self.view(agent.id, t)

    def set_owner(self, agent: Agent, t: int, by: int) -> None:
        self.owner_id = agent.id
        self.hist("OwnerUpdate", f"%%{agent.login}%%{agent.id}", t, by)
        if self.responsible_id == ROOT:  # Ticket::ResponsibleAutoSet
            self.responsible_id = agent.id
            self.hist("ResponsibleUpdate", f"%%{agent.login}%%{agent.id}", t, by)

    def unlock(self, t: int, by: int) -> None:
        if self.lock == "lock":
            self.lock = "unlock"
            self.hist("Unlock", "%%unlock", t, by)

    def move(self, queue: Queue, t: int, by: int) -> None:
        old, self.queue = self.queue, queue
        self.hist("Move", f"%%{queue.name}%%{queue.id}%%{old.name}%%{old.id}", t, by)
        self.unlock(t, ROOT)  # ForceUnlock runs as user 1 (§13.1)
        self.view(by, t)

    def set_priority(self, new: str, t: int, by: int) -> None:
        if new == self.priority:
            return
        old, self.priority = self.priority, new
        pid = self.f.priority_id
        self.hist("PriorityUpdate", f"%%{old}%%{pid[old]}%%{new}%%{pid[new]}", t, by)

    def set_state(self, new: str, t: int, by: int, until: int = 0) -> None:
        if new == self.state:
            return
        old, self.state = self.state, new
        kind = self.f.state_type[new]
        self.hist("StateUpdate", f"%%{old}%%{new}%%", t, by)
        if kind in PENDING:
            self.until = until
            self.hist("SetPendingTime", "%%" + time.strftime("%Y-%m-%d %H:%M", time.gmtime(until)), t, by)
        else:  # TicketPendingTimeReset runs on every change into a non-pending state (§13.5)
            self.until = 0
            self.hist("SetPendingTime", "%%00-00-00 00:00", t, by)
        if kind in (CLOSED, "removed", "merged"):
            self.unlock(t, by)  # the close screens unlock after closing
        self.view(by, t)

    # --- articles ------------------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        raw = base64.b64encode(self.rng.getrandbits(192).to_bytes(24, "big")).translate(_FP)
        return f"{self.pid}-{raw.decode('ascii')}"

    def article(self, t: int, by: int, sender: str, channel: str, visible: int, a_from: str, a_to: str,
                subject: str, body: Body, history: tuple[str, str], *, html: bool = False,
                files: Sequence[Attachment] = (), message_id: str = "", cc: str = "",
                from_name: str = "") -> int:
        """Write an article like ArticleCreate (+ its history row) and return its id."""
        f, ids, batch = self.f, self.ids, self.batch
        aid = ids.article
        ids.article += 1
        ts = self.ts(t)
        doc = None
        if html:
            doc, plain = render_html(body)
        else:
            plain = render_plain(body)
        in_reply_to = self.refs[-1] if self.refs and message_id else ""
        references = " ".join(self.refs[-8:]) if message_id else ""
        batch.articles.append({
            "id": aid, "ticket_id": self.tid, "article_sender_type_id": f.sender[sender], "channel": channel,
            "is_visible_for_customer": visible, "search_index_needs_rebuild": 1,
            "insert_fingerprint": self.fingerprint(), "a_from": a_from, "a_reply_to": "", "a_to": a_to,
            "a_cc": cc, "a_bcc": "", "a_subject": subject, "a_message_id": message_id,
            "a_message_id_md5": hashlib.md5(message_id.encode("utf-8")).hexdigest() if message_id else None,
            "a_in_reply_to": in_reply_to, "a_references": references, "a_content_type": CONTENT_TYPE,
            "a_body": plain, "incoming_time": t, "content_path": content_path(t),
            "create_time": ts, "create_by": by, "change_time": ts, "change_by": by,
        })
        stored = [_file("file-2", HTML_TYPE, doc.encode("utf-8"), "", None)] if doc is not None else []
        stored += [_file(x.filename, x.content_type, x.content, x.disposition, x.content_id) for x in files]
        for row in stored:  # file-2 first: it sorts before the real attachments by id (§13.4)
            row.update(id=ids.attachment, article_id=aid, create_time=ts, create_by=by, change_time=ts,
                       change_by=by)
            ids.attachment += 1
            batch.attachments.append(row)
        if channel == "Email" and message_id:  # PostMaster and ArticleSend keep the raw mail
            address = a_from.rpartition("<")[2].rstrip(">")
            headers = (("From", encode_address(from_name, address) if from_name else a_from),
                       ("To", encode_header(a_to)), ("Cc", cc), ("Subject", encode_header(subject)),
                       ("Message-ID", message_id),
                       ("In-Reply-To", in_reply_to), ("References", references))
            raw = raw_email(headers=headers, epoch=t, text=plain, html=doc, files=files,
                            boundary=f"{self.rng.getrandbits(64):016x}")
            batch.plain.append({"id": ids.plain, "article_id": aid, "body": raw, "create_time": ts,
                                "create_by": by, "change_time": ts, "change_by": by})
            ids.plain += 1
            self.refs.append(message_id)
        self.hist(history[0], history[1], t, by, aid)
        self.articles.append((aid, t))
        self.view(by, t)
        if visible:  # what the next mail quotes: the last message the customer could see
            self.last_body = plain
            self.last_when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))
        return aid

    # --- the end -------------------------------------------------------------------------------------------
    def finish(self) -> None:
        """Append the Seen flags and the ticket row (from the final state) to the batch."""
        f, batch = self.f, self.batch
        last_article = self.articles[-1][1]
        for agent_id, seen in sorted(self.views.items()):
            for aid, t in self.articles:
                i = bisect.bisect_left(seen, t)  # the first time he had the ticket open after it arrived
                if i < len(seen):
                    batch.article_flags.append({"article_id": aid, "article_key": "Seen",
                                                "article_value": "1", "create_time": self.ts(seen[i]),
                                                "create_by": agent_id})
            i = bisect.bisect_left(seen, last_article)
            if i < len(seen):  # TicketNewMessageUpdate: only who has seen every article keeps the ticket flag
                batch.ticket_flags.append({"ticket_id": self.tid, "ticket_key": "Seen", "ticket_value": "1",
                                           "create_time": self.ts(seen[i]), "create_by": agent_id})
        changed, changed_by = self.changed
        c = self.customer
        row = {
            "id": self.tid, "tn": self.tn, "title": self.title[: f.title_len], "queue_id": self.queue.id,
            "ticket_lock_id": f.lock_id[self.lock], "type_id": f.type_id, "service_id": None, "sla_id": None,
            "user_id": self.owner_id, "responsible_user_id": self.responsible_id,
            "ticket_priority_id": f.priority_id[self.priority], "ticket_state_id": f.state_id[self.state],
            "customer_id": c.customer_id, "customer_user_id": c.login[: f.customer_user_len],
            "timeout": self.timeout, "until_time": self.until, "escalation_time": 0,
            "escalation_update_time": 0, "escalation_response_time": 0, "escalation_solution_time": 0,
            "archive_flag": 0, "create_time": self.ts(self.created), "create_by": self.creator,
            "change_time": self.ts(changed), "change_by": changed_by,
        }
        if f.create_time_unix:  # OTRS 5
            row["create_time_unix"] = self.created
        batch.tickets.append(row)


def _file(name: str, ctype: str, content: bytes, disposition: str, cid: str | None) -> dict[str, Any]:
    return {"filename": name, "content_size": str(len(content)), "content_type": ctype, "content_id": cid,
            "content_alternative": None, "disposition": disposition, "content": content}


def customer_message_id(rng: Any, customer: CustomerSpec) -> str:
    host = customer.email.partition("@")[2]
    return f"<{rng.getrandbits(64):016X}{rng.getrandbits(24):06x}@{MID_HOSTS.get(host, 'mail.' + host)}>"


def agent_message_id(rng: Any, t: int) -> str:
    """OTRS's outgoing Message-ID layout ``<epoch.random@FQDN>`` (§4.3)."""
    return f"<{t}.{rng.getrandbits(40)}@{AGENT_FQDN}>"

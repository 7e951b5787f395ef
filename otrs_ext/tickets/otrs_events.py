"""The OTRS events an otrs-ext write raises, with the data Znuny's own code passes to its event modules.

Every ticket event Znuny raises comes with a ``ticket_history`` row written just before it (``HistoryAdd``
itself raises ``HistoryAdd``), so the events are derived in one place, from the history rows a ``Write``
adds: ``EventRecorder.history`` is called by ``Write.history``. What the history row cannot say is read
back within the same transaction (the article of an article row).

Observed with a tracing event module in Znuny 7.0 (every event, its data and its order, per operation; the
same trace checks this module in ``tests/oracle/test_side_effects.py``):

* TicketCreate: ``HistoryAdd`` (NewTicket), then the customer's ``HistoryAdd`` + ``TicketCustomerUpdate``,
  and only then ``TicketCreate``;
* an article: ``HistoryAdd``, ``ArticleCreate`` {ArticleID, TicketID, OldTicketData}, the unlock-timeout
  reset's events and last, by history type, ``NotificationNewTicket`` (the first article of an EmailAgent/
  EmailCustomer/PhoneCallCustomer/WebRequestCustomer/SystemRequest), ``NotificationAddNote`` or
  ``NotificationFollowUp``; the note of a merge raises none (TicketMerge writes it with NoAgentNotify);
* a lock: ``HistoryAdd``, the unlock-timeout reset's ``HistoryAdd`` + ``TicketUnlockTimeoutUpdate``, then
  ``TicketLockUpdate``;
* owner/responsible: ``HistoryAdd``, ``NotificationOwnerUpdate``/``NotificationResponsibleUpdate``, then
  ``TicketOwnerUpdate``/``TicketResponsibleUpdate``; a move: ``NotificationMove`` (unless the ticket was
  closed), ``TicketQueueUpdate`` {OldTicketData}; a state: ``TicketStateUpdate`` {OldTicketData};
* the rest one event per row: ``TicketLockUpdate`` (unlock), ``TicketPriorityUpdate``, ``TicketTitleUpdate``,
  ``TicketTypeUpdate``, ``TicketPendingTimeUpdate``, ``TicketUnlockTimeoutUpdate`` (the ``Misc`` "Reset of
  unlock time." row), ``TicketAccountTime``, ``TicketDynamicFieldUpdate_<Name>`` {FieldName, Value,
  OldValue, TicketID, UserID}; a merge raises ``TicketMerge`` {TicketID of the merged ticket, MainTicketID}
  after all its other rows.

Events Znuny raises at the end of the call that wrote a row are held back (``_Deferred``) until that call's
later rows are through.

Not raised: the flag events of the Seen bookkeeping (``TicketFlagSet``/``TicketFlagDelete``/
``ArticleFlagSet``), which have no history row; no shipped module or notification listens to them.
``OldTicketData`` is the ticket's row under TicketGet's names plus its escalation flags, not TicketGet's
computed extras (age, dynamic fields).

Znuny runs the transactional modules per Perl object, ticket events first, then the article object's, then
the article backend's (``ArticleCreate`` and its notification events); ``source`` keeps that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

if TYPE_CHECKING:
    from .write import Row, Write

TICKET, ARTICLE, BACKEND = 0, 1, 2  # the Perl object whose transaction pipe holds the event
NEW_TICKET_NOTIFYING = {"emailagent", "emailcustomer", "phonecallcustomer", "webrequestcustomer", "systemrequest"}
NOT_ARTICLE_ROWS = {"TimeAccounting"}  # history rows with an article id that are not an ArticleCreate
UNLOCK_RESET = "Reset of unlock time."
ENDED_STATE_TYPES = ("merged", "closed", "removed")  # no escalation in these (TicketEscalationDateCalculation)


@dataclass(frozen=True)
class OtrsEvent:
    name: str
    ticket_id: int
    user_id: int
    data: Mapping[str, Any]
    source: int = TICKET


@dataclass(frozen=True)
class _Deferred:
    """An event Znuny raises at the end of the call that wrote a history row, after the rows that call
    still writes (``absorbs``): TicketCreate after the customer's row, TicketLockUpdate and an article's
    notification event after the unlock-timeout reset, TicketMerge after everything of the merge."""

    event: OtrsEvent
    absorbs: str  # "customer", "unlock reset" or "all"

    def takes(self, tid: int, history_type: str, name: str) -> bool:
        if self.absorbs == "all":
            return True
        if tid != self.event.ticket_id:
            return False
        if self.absorbs == "customer":
            return history_type == "CustomerUpdate"
        return history_type == "Misc" and name == UNLOCK_RESET


@dataclass
class EventRecorder:
    """Collects one write's events in the order Znuny raises them."""

    escalation_flags: Any = None  # callable(w, row) -> dict of the *TimeEscalation flags; see otrs_tasks
    events: list[OtrsEvent] = field(default_factory=list)
    _deferred: list[_Deferred] = field(default_factory=list)  # innermost last

    def finish(self) -> list[OtrsEvent]:
        """Every event of the write (calling it again gives the same list)."""
        while self._deferred:
            self.events.append(self._deferred.pop().event)
        return list(self.events)

    def history(self, w: Write, ticket: Row, history_type: str, name: str, *, article_id: int | None,
                user_id: int) -> None:
        tid = int(ticket["id"])
        parts = name[2:].split("%%") if name.startswith("%%") else []
        if history_type == "Merged" and len(parts) > 1 and parts[1] == str(tid):
            # TicketMerge writes its note with NoAgentNotify: that article raises no notification event.
            self._deferred = [d for d in self._deferred
                              if not (d.event.ticket_id == tid and d.event.name.startswith("Notification"))]
        while self._deferred and not self._deferred[-1].takes(tid, history_type, name):
            self.events.append(self._deferred.pop().event)
        add = self._adder(tid, user_id)
        add("HistoryAdd", {"TicketID": tid})
        if history_type == "NewTicket":
            self._defer(OtrsEvent("TicketCreate", tid, user_id, {"TicketID": tid}), "customer")
        elif history_type == "CustomerUpdate":
            add("TicketCustomerUpdate", {"TicketID": tid})
        elif history_type == "Lock":
            self._defer(OtrsEvent("TicketLockUpdate", tid, user_id, {"TicketID": tid}), "unlock reset")
        elif history_type == "Unlock":
            add("TicketLockUpdate", {"TicketID": tid})
        elif history_type in ("OwnerUpdate", "ResponsibleUpdate"):
            self._person(add, tid, user_id, history_type, parts)
        elif history_type == "Move":
            old = {**ticket, "queue_id": int(parts[3])} if len(parts) > 3 and parts[3].isdigit() else ticket
            if w.lookups.state_types.get(old["ticket_state_id"]) != "closed":
                add("NotificationMove", {"TicketID": tid, "CustomerMessageParams": {"Queue": parts[0] if parts else ""},
                                         "Recipients": []})
            add("TicketQueueUpdate", {"TicketID": tid, "OldTicketData": self._ticket_data(w, old)})
        elif history_type == "StateUpdate":
            old_id = w.lookups.names("ticket_state").get(parts[0]) if parts else None
            old = {**ticket, "ticket_state_id": old_id} if old_id is not None else ticket
            add("TicketStateUpdate", {"TicketID": tid, "OldTicketData": self._ticket_data(w, old)})
        elif history_type in SIMPLE:
            add(SIMPLE[history_type], {"TicketID": tid})
        elif history_type == "Misc" and name == UNLOCK_RESET:
            add("TicketUnlockTimeoutUpdate", {"TicketID": tid})
        elif history_type == "TicketDynamicFieldUpdate":
            self._dynamic_field(add, tid, user_id, parts)
        elif history_type == "Merged":
            self._merged(tid, user_id, parts)
        elif history_type == "TimeAccounting" and article_id is not None:
            add("TicketAccountTime", {"TicketID": tid, "ArticleID": article_id})
        elif article_id is not None and history_type not in NOT_ARTICLE_ROWS:
            self._article(w, ticket, history_type, name, article_id, user_id)

    def _defer(self, event: OtrsEvent, absorbs: str) -> None:
        self._deferred.append(_Deferred(event, absorbs))

    # --- one kind of row each ---------------------------------------------------------------------------
    def _adder(self, tid: int, user_id: int):  # noqa: ANN202 - a small local closure
        def add(event: str, data: dict[str, Any], source: int = TICKET) -> None:
            self.events.append(OtrsEvent(event, tid, user_id, data, source))
        return add

    @staticmethod
    def _person(add, tid: int, user_id: int, history_type: str, parts: list[str]) -> None:  # noqa: ANN001
        login = parts[0] if parts else ""
        new_id = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        params: dict[str, Any] = {"TicketID": tid, "NewUserID": new_id, "NewUser": login, "UserID": user_id}
        if history_type == "OwnerUpdate":
            params["Body"] = ""  # TicketOwnerSet's "Comment", none here
        # Znuny pushes [UserID] (an array in the array) when agents assign themselves: it skips nobody.
        skip = [[user_id]] if user_id == new_id else []
        kind = "Owner" if history_type == "OwnerUpdate" else "Responsible"
        add(f"Notification{kind}Update", {"TicketID": tid, "SkipRecipients": skip, "CustomerMessageParams": params})
        add(f"Ticket{kind}Update", {"TicketID": tid})

    @staticmethod
    def _dynamic_field(add, tid: int, user_id: int, parts: list[str]) -> None:  # noqa: ANN001
        """``FieldName%%<name>%%Value%%<new>%%OldValue%%<old>``: the readable values the history keeps (a
        text field's value itself; a cleared value is undef, as in Znuny)."""
        fields = dict(zip(parts[0::2], parts[1::2], strict=False))
        field_name = fields.get("FieldName", "")
        add(f"TicketDynamicFieldUpdate_{field_name}", {
            "FieldName": field_name, "Value": fields.get("Value") or None,
            "OldValue": fields.get("OldValue") or None, "TicketID": tid, "UserID": user_id})

    def _merged(self, tid: int, user_id: int, parts: list[str]) -> None:
        """``%%<merged tn>%%<merged id>%%<main tn>%%<main id>``, on both tickets; TicketMerge is raised once,
        when the merge has written everything else."""
        if len(parts) < 4 or not (parts[1].isdigit() and parts[3].isdigit()) or tid != int(parts[3]):
            return
        merged_id, main_id = int(parts[1]), int(parts[3])
        self._defer(OtrsEvent("TicketMerge", merged_id, user_id, {"TicketID": merged_id, "MainTicketID": main_id}),
                    "all")

    def _article(self, w: Write, ticket: Row, history_type: str, comment: str, article_id: int,
                 user_id: int) -> None:
        tid = int(ticket["id"])
        article = w.written_article(article_id)  # the values this write has just inserted, else read them
        if article is None:
            query = w.schema.articles.select()
            article = w.conn.execute(query.where(query.selected_columns.id == article_id)).mappings().first()
        add = self._adder(tid, user_id)
        add("ArticleCreate", {"ArticleID": article_id, "TicketID": tid,
                              "OldTicketData": self._ticket_data(w, ticket)}, BACKEND)
        if article is None:
            return
        kind = history_type.lower()
        first = kind in NEW_TICKET_NOTIFYING and (
            w.first_article_of_new(tid, article_id) or self._first_article(w, tid, article_id))
        if not first and kind not in ("addnote", "followup"):
            return
        event = "NotificationNewTicket" if first else "NotificationAddNote" if kind == "addnote" else \
            "NotificationFollowUp"
        self._defer(OtrsEvent(event, tid, user_id, {
            "TicketID": tid, "ArticleID": article_id, "SenderTypeID": int(article["article_sender_type_id"]),
            "IsVisibleForCustomer": int(article["is_visible_for_customer"]), "Queue": None, "Recipients": None,
            "SkipRecipients": [], "CustomerMessageParams": {} if event == "NotificationAddNote" else _article_params(
                w, article, tid, history_type, comment, user_id)}, BACKEND), "unlock reset")

    @staticmethod
    def _first_article(w: Write, tid: int, article_id: int) -> bool:
        """No article of the ticket before this one (ArticleCreate's ``$FirstArticle``)."""
        a = w.schema.tables.article
        earlier = select(func.count()).select_from(a).where(a.c.ticket_id == tid, a.c.id < article_id)
        return w.conn.execute(earlier).scalar_one() == 0

    def _ticket_data(self, w: Write, ticket: Row) -> dict[str, Any]:
        """The ticket under TicketGet's names (OldTicketData), with its escalation flags where set."""
        state_id = ticket["ticket_state_id"]
        data: dict[str, Any] = {
            "TicketID": int(ticket["id"]), "TicketNumber": ticket.get("tn"), "Title": ticket.get("title"),
            "QueueID": ticket["queue_id"], "Queue": w.name_of("queue", ticket["queue_id"]),
            "StateID": state_id, "State": w.name_of("ticket_state", state_id),
            "StateType": w.lookups.state_types.get(state_id),
            "PriorityID": ticket["ticket_priority_id"], "Priority": w.name_of("ticket_priority",
                                                                              ticket["ticket_priority_id"]),
            "LockID": ticket["ticket_lock_id"], "Lock": w.name_of("ticket_lock_type", ticket["ticket_lock_id"]),
            "TypeID": ticket.get("type_id"), "Type": w.name_of("ticket_type", ticket.get("type_id")),
            "ServiceID": ticket.get("service_id") or "", "SLAID": ticket.get("sla_id") or "",
            "OwnerID": ticket["user_id"], "ResponsibleID": ticket["responsible_user_id"],
            "CustomerID": ticket.get("customer_id"), "CustomerUserID": ticket.get("customer_user_id"),
            "ArchiveFlag": "y" if ticket.get("archive_flag") else "n",
            "UnlockTimeout": ticket.get("timeout") or 0, "UntilTime": ticket.get("until_time") or 0,
            "EscalationTime": ticket.get("escalation_time") or 0,
            "EscalationResponseTime": ticket.get("escalation_response_time") or 0,
            "EscalationUpdateTime": ticket.get("escalation_update_time") or 0,
            "EscalationSolutionTime": ticket.get("escalation_solution_time") or 0,
            "CreateBy": ticket.get("create_by"), "ChangeBy": ticket.get("change_by"),
        }
        if self.escalation_flags is not None:
            data.update(self.escalation_flags(w, ticket))
        return data


SIMPLE = {
    "PriorityUpdate": "TicketPriorityUpdate",
    "TitleUpdate": "TicketTitleUpdate",
    "TypeUpdate": "TicketTypeUpdate",
    "SetPendingTime": "TicketPendingTimeUpdate",
}


def _article_params(w: Write, article: Mapping[str, Any], tid: int, history_type: str, comment: str,
                    user_id: int) -> dict[str, Any]:
    """ArticleCreate's own parameters as its notification events carry them (``CustomerMessageParams``): the
    stored header fields and body, which the notification templates' <OTRS_CUSTOMER_*> tags read."""
    content_type = article.get("a_content_type") or ""
    charset = content_type.split("charset=", 1)[1].strip("\"'") if "charset=" in content_type else ""
    params: dict[str, Any] = {
        "TicketID": tid, "UserID": user_id, "HistoryType": history_type, "HistoryComment": comment,
        "SenderTypeID": int(article["article_sender_type_id"]),
        "SenderType": w.name_of("article_sender_type", article["article_sender_type_id"]),
        "IsVisibleForCustomer": int(article["is_visible_for_customer"]),
        "From": article.get("a_from") or "", "To": article.get("a_to") or "", "Cc": article.get("a_cc") or "",
        "Bcc": article.get("a_bcc") or "", "ReplyTo": article.get("a_reply_to") or "",
        "Subject": article.get("a_subject") or "", "Body": article.get("a_body") or "",
        "MessageID": article.get("a_message_id") or "", "InReplyTo": article.get("a_in_reply_to") or "",
        "References": article.get("a_references") or "", "ContentType": content_type,
        "MimeType": content_type.split(";", 1)[0].strip(), "Charset": charset,
    }
    # ArticleCreate binds \$Param{MD5} in its INSERT, so the key exists even without a Message-ID (undef)
    params["MD5"] = article.get("a_message_id_md5") or None
    return params


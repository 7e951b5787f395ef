"""Differences from Znuny that are being fixed (issue 9), as precise expected failures.

A scenario that shows such a difference today is marked ``@pending("search_index", ...)``. The mark is a
strict ``xfail`` that only accepts ``PendingDifference``: ``Oracle.diff`` raises it when *every* difference of
the scenario matches the patterns of the named issues. Any other difference returns normally and fails the
scenario as usual, so a pending mark never hides a new regression. When the fix lands the diff is empty, the
scenario passes, strict xfail turns that into a failure, and the fixer sets ``fixed=True`` below (or removes
the name from the scenario): the marks go away in one place.

Unlike ``deliberate.py`` (differences kept for good), everything here is meant to disappear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest


class PendingDifference(AssertionError):
    """Every difference of the scenario is one of its pending issues."""


@dataclass(frozen=True)
class Pending:
    item: int
    what: str
    patterns: tuple[str, ...]  # regular expressions, matched at the start of a diff line
    fixed: bool = False

    def matches(self, line: str) -> bool:
        return any(re.match(p, line) for p in self.patterns)


ISSUES: dict[str, Pending] = {
    "events": Pending(1, "OTRS's event layer: scheduler_task rows, escalation index, notifications",
                      (r"scheduler_task\[", r"ticket\[\d+\]\.escalation_", r"mail_queue\[",
                       r"ticket\[\d+\]\.change_(time|by)", r"ticket_history\[\d+\]: only znuny: .*notification"),
                      fixed=True),
    "search_index": Pending(2, "article_search_index rows (Ticket::SearchIndexModule DB)",
                            (r"article_search_index\[",), fixed=True),
    "dynamic_field": Pending(3, "dynamic field set: ticket change_time/change_by; clearing deletes the row",
                             (r"ticket\[\d+\]\.change_(time|by)", r"dynamic_field_value\[",
                              r"ticket_history\[\d+\]"), fixed=True),
    "merge": Pending(4, "merge: ParentChild link, TicketLinkAdd history, Seen flags, change_time/by of moved rows",
                     (r"link_relation\[", r"ticket_history\[\d+\]", r"ticket_flag\[", r"article\[\d+\]\.change_",
                      r"ticket\[\d+\]\.change_(time|by)"), fixed=True),
    "html": Pending(5, "HTML -> plain text (HTMLUtils::ToAscii) of a_body", (r"article_data_mime\[\d+\]\.a_body",),
                    fixed=True),
    "gi": Pending(6, "GI TicketCreate/TicketUpdate rows (responsible, OwnerUpdate, a_from/a_to, charset as sent, "
                     "newline, attachment disposition; TicketUpdate sets the pending time before the state)",
                         (r"ticket\[\d+\]\.(responsible_user_id|change_(time|by)|user_id|ticket_lock_id|timeout)",
                          r"ticket_history\[", r"article_data_mime\[\d+\]\.(a_from|a_to|a_body|a_content_type)",
                          r"article_data_mime_attachment\[\d+\]\.(disposition|content_type|content)",
                          r"article_data_mime_plain\[", r"ticket_flag\[", r"article_flag\["), fixed=True),
    "fs_modes": Pending(7, "FS article storage directory modes", (r"fs_article\[",), fixed=True),
    "gi_update": Pending(6, "GI TicketUpdate (found here, not in the issue's list): a_from is the agent's full name "
                            "alone, the pending time is set before the state, attachments come after ArticleCreate "
                            "(no MIMEBase_AttachmentName search index row)",
                         (r"ticket_history\[", r"article_data_mime\[\d+\]\.a_from", r"article_search_index\["),
                         fixed=True),
}


def pending(*names: str) -> pytest.MarkDecorator:
    """The strict xfail of the scenario's still-open issues (usable as a decorator and in ``pytest.param(marks=)``);
    the marker ``oracle_pending`` alone when all of them are fixed."""
    unknown = [n for n in names if n not in ISSUES]
    if unknown:
        raise KeyError(f"unknown pending issue(s) {unknown}; known: {sorted(ISSUES)}")
    open_issues = [ISSUES[n] for n in names if not ISSUES[n].fixed]
    if not open_issues:
        return pytest.mark.oracle_pending(*names)
    reason = "; ".join(f"issue 9 item {p.item}: {p.what}" for p in open_issues)
    # pytest ignores the extra keyword; conftest reads it to tell the oracle which issues may explain the diff
    return pytest.mark.xfail(strict=True, raises=PendingDifference, reason=reason, oracle_pending=names)


def names_of(node: pytest.Item) -> tuple[str, ...]:
    """The pending issue names a test is marked with."""
    out: list[str] = []
    for mark in node.iter_markers("xfail"):
        out += mark.kwargs.get("oracle_pending", ())
    for mark in node.iter_markers("oracle_pending"):
        out += mark.args
    return tuple(out)


def explain(lines: list[str], names: tuple[str, ...], issues: dict[str, Pending] | None = None) -> None:
    """Raise ``PendingDifference`` when every line belongs to an open issue among ``names``."""
    issues = ISSUES if issues is None else issues
    open_issues = [issues[n] for n in names if not issues[n].fixed]
    if lines and open_issues and all(any(p.matches(line) for p in open_issues) for line in lines):
        raise PendingDifference(f"{len(lines)} pending difference(s):\n" + "\n".join(lines))

"""The ONE registry of deliberate, documented differences between Znuny's rows and otrs-ext's.

``oracle_rows.diff`` drops a difference only when an entry here explains it; every other difference fails the
scenario. An entry applies to the scenarios whose pytest node names match one of its ``scenarios`` patterns
(``fnmatch``), and in each of those scenarios it must still occur: an entry that explains nothing there is
reported as stale, so the registry shrinks when a difference is fixed. Keep patterns narrow for that reason.
Only a rule of the design with an exact predicate may say ``must_occur=False`` (and ``scenarios=("*",)``).

Fields:
* ``table``: the dumped table (see ``oracle_rows.TABLES``);
* ``column``: the column, or ``"*"`` for rows present on one side only (a table otrs-ext leaves to OTRS);
* ``reason``: why it is deliberate, in a sentence the README repeats;
* ``scenarios``: fnmatch patterns of pytest node names (``test_create_html[outlook]``, ``test_gi_*``);
* ``when``: optional predicate ``(znuny_value, ext_value) -> bool`` narrowing the entry to certain values.

Random parts (``article.insert_fingerprint``, ``ticket_number_counter.counter_uid``, ``scheduler_task.ident``,
oracle README §3) are not differences at all and live in ``oracle_rows.RANDOM``, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deliberate:
    table: str
    column: str
    reason: str
    scenarios: tuple[str, ...]
    when: Callable[[Any, Any], bool] | None = None
    # False only for a rule of the design that holds wherever it applies (its predicate must then be exact):
    # such an entry is not reported when a scenario does not show it
    must_occur: bool = True

    def label(self) -> str:
        return f"{self.table}.{self.column}"


def _astral_replaced(znuny: Any, ext: Any) -> bool:
    """Znuny's value is otrs-ext's with every character above U+FFFF replaced by U+FFFD."""
    return isinstance(znuny, str) and isinstance(ext, str) and znuny != ext and \
        znuny == re.sub("[\U00010000-\U0010FFFF]", "\uFFFD", ext)


def _astral_words_dropped(znuny: Any, ext: Any) -> bool:
    """Znuny's index words are otrs-ext's without the words that hold characters above U+FFFF."""
    if not (isinstance(znuny, str) and isinstance(ext, str)) or znuny == ext:
        return False
    kept = [w for w in ext.split() if not re.search("[\U00010000-\U0010FFFF]", w)]
    return " ".join(kept) == znuny


ASTRAL = ("otrs-ext keeps characters above U+FFFF (emoji, math letters) on utf8mb4 tables; Znuny's MySQL driver "
          "connects with SET NAMES utf8 and replaces them by U+FFFD before sending (oracle README §4), losing "
          "them. On 3-byte utf8 tables otrs-ext refuses them with a field error instead.")

def _event_module_task(znuny: Any, ext: Any) -> bool:
    """A ``scheduler_task`` row only otrs-ext has, calling an event module (``<Module>-Run()``: the escalation
    index and NotificationEvent, and TicketAllChildrenClosed after a merge)."""
    return znuny is None and isinstance(ext, dict) and str(ext.get("name", "")).endswith("-Run()")


HANDED_TO_DAEMON = (
    "otrs-ext cannot run OTRS's Perl event modules inside its own transaction: it queues the calls Znuny makes "
    "in-request (TicketEscalationIndex, NotificationEvent, ...) as AsynchronousExecutor tasks in OTRS's own format, "
    "which OTRS's daemon runs with OTRS's code; once it has, the rows are equal (the daemon=True scenarios)")


# Add entries only for differences that are intended for good, with the reason a reviewer can check.
REGISTRY: tuple[Deliberate, ...] = (
    Deliberate("article_data_mime", "a_subject", ASTRAL, ("test_characters_above_the_basic_plane*",),
               _astral_replaced),
    Deliberate("article_data_mime", "a_body", ASTRAL, ("test_characters_above_the_basic_plane*",),
               _astral_replaced),
    Deliberate("scheduler_task", "*", HANDED_TO_DAEMON,
               ("test_before_the_daemon[[]note]", "test_before_the_daemon[[]move]", "test_before_the_daemon[[]state]",
                "test_before_the_daemon[[]priority]", "test_create_before_the_daemon", "test_gi_create_*",
                "test_merge[[]*]", "test_dynamic_field_sets"), _event_module_task),
    Deliberate("article_search_index", "article_value",
               "follows from the entry above: otrs-ext indexes the words it stored; Znuny's index has none of the "
               "U+FFFD it stored instead", ("test_characters_above_the_basic_plane[[]math]",), _astral_words_dropped),
)

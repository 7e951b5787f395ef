"""The tag rules file (TOML, ``OTRS_EXT_TAG_RULES``; without it ``default_rules.toml`` next to this module).

Three sections, all data: ``[[source]]`` rules (first match wins) give each ticket its one ``source:<tag>``;
``[participant]`` says which agent articles make ``participant:<login>``; ``[[notification]]`` rules each give
``notification:<name>`` to the mails they recognise. The shipped file documents every key.

The file is checked completely when it is loaded (the tailer and the ``tags`` commands load it at start): a
TOML syntax error names its line (tomllib says it), and so does every other problem (an unknown key, a bad
regex, an unknown value, a duplicate or invalid rule name), found by scanning the text for the offending
table and key. All problems are reported together in one ``ConfigurationError``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, ValidationError
from .facts import ArticleFacts, header_values
from .store import COLOUR, check_name

DEFAULT_FILE = "default_rules.toml"
SENDER_TYPES = ("customer", "agent", "system")
CREATED_BY = ("system", "agent")
#: articles notification rules look at unless a rule names its own ``sender_type``: incoming, not agents' own
DEFAULT_CANDIDATES = frozenset({"customer", "system"})
#: rule names and source tags are machine names: stable in URLs, filters and the ``rule`` column of links
RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SOURCE_CONDITIONS = ("ticket_source", "history_type", "history_name", "channel", "sender_type", "created_by")
NOTIFICATION_CONDITIONS = ("from", "subject", "header", "queue", "sender_type")
NOTIFICATION_KEYS = ("name", "description", "label", "labels", "colour", *NOTIFICATION_CONDITIONS)
PARTICIPANT_KEYS = ("notes", "exclude")
SECTIONS = ("source", "participant", "notification")


@dataclass(frozen=True)
class SourceRule:
    """``source:<tag>`` when every condition holds for the ticket's first article (no conditions: always)."""

    tag: str
    conditions: Mapping[str, frozenset[str]]  # condition -> accepted values, case-folded
    line: int = 0

    def matches(self, facts: ArticleFacts, ticket_source: str | None) -> bool:
        known = {"ticket_source": ticket_source, "history_type": facts.history_type,
                 "history_name": facts.history_name, "channel": facts.channel, "sender_type": facts.sender_type,
                 "created_by": facts.created_by}
        for name, accepted in self.conditions.items():
            value = known[name]
            if value is None or value.casefold() not in accepted:
                return False
        return True


@dataclass(frozen=True)
class ParticipantRule:
    """Agents' articles that make ``participant:<login>``: customer-visible ones, with ``notes`` also the rest."""

    notes: bool = False
    exclude: frozenset[str] = frozenset()  # logins, case-folded

    def login(self, facts: ArticleFacts) -> str | None:
        if facts.sender_type != "agent" or not (facts.visible_for_customer or self.notes) or not facts.login:
            return None
        if facts.login.casefold() in self.exclude:
            return None
        try:
            check_name(facts.login)
        except ValidationError:  # a login no tag can carry (spaces around it, too long): no tag rather than a stop
            return None
        return facts.login


@dataclass(frozen=True)
class NotificationRule:
    """``notification:<name>`` for an article when every condition given holds (a list: any of its values)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    colour: str | None = None
    from_: tuple[str, ...] = ()  # an address, @domain, or a glob such as mailer-daemon@*; case-folded
    subject: tuple[re.Pattern[str], ...] = ()
    headers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (header name, globs of its value, case-folded)
    queues: frozenset[str] = frozenset()  # case-folded
    sender_types: frozenset[str] = DEFAULT_CANDIDATES
    line: int = 0

    @property
    def rule(self) -> str:
        """What links set by this rule carry in their ``rule`` column."""
        return f"notification:{self.name}"

    def considers(self, facts: ArticleFacts) -> bool:
        return facts.sender_type in self.sender_types

    def matches(self, facts: ArticleFacts, headers: EmailMessage | None) -> bool:
        if not self.considers(facts):
            return False
        if self.queues and (facts.queue is None or facts.queue.casefold() not in self.queues):
            return False
        if self.from_ and not any(_address_matches(a, p) for a in facts.from_addresses() for p in self.from_):
            return False
        if self.subject and not any(p.search(facts.subject or "") for p in self.subject):
            return False
        for name, patterns in self.headers:
            if headers is None:
                return False
            values = [v.casefold() for v in header_values(headers, name)]
            if not any(fnmatchcase(v, p) for v in values for p in patterns):
                return False
        return True


@dataclass(frozen=True)
class TagRules:
    origin: str
    sources: tuple[SourceRule, ...] = ()
    participant: ParticipantRule = ParticipantRule()
    notifications: tuple[NotificationRule, ...] = ()
    digest: str = ""  # of the file's text: a backfill started under other rules does not resume

    def source_tag(self, first: ArticleFacts, ticket_source: str | None) -> str | None:
        """The source tag name of a ticket whose first article is ``first``; None when no rule holds."""
        for rule in self.sources:
            if rule.matches(first, ticket_source):
                return rule.tag
        return None

    def participant_login(self, facts: ArticleFacts) -> str | None:
        return self.participant.login(facts)

    def notifications_for(self, facts: ArticleFacts) -> list[NotificationRule]:
        considered = [rule for rule in self.notifications if rule.considers(facts)]
        if not considered:
            return []
        headers = facts.headers() if any(rule.headers for rule in considered) else None
        return [rule for rule in considered if rule.matches(facts, headers)]

    def wants_raw_mail(self, sender_type: str) -> bool:
        """True when a rule reads header fields of articles from this sender type (the raw mail is then read)."""
        return any(rule.headers and sender_type in rule.sender_types for rule in self.notifications)

    def notification_senders(self) -> frozenset[str]:
        """Sender types any notification rule looks at."""
        return frozenset().union(*(rule.sender_types for rule in self.notifications))

    def summary(self) -> str:
        return (f"{len(self.sources)} source rules, {len(self.notifications)} notification rules "
                f"(participants: {'replies and notes' if self.participant.notes else 'replies'}) from {self.origin}")


def _address_matches(address: str, pattern: str) -> bool:
    if pattern.startswith("@"):
        return address.endswith(pattern)
    if any(c in pattern for c in "*?["):
        return fnmatchcase(address, pattern)
    return address == pattern


# --- loading --------------------------------------------------------------------------------------------------
def default_rules_path() -> Path:
    return Path(str(resources.files(__package__).joinpath(DEFAULT_FILE)))


def load_rules(path: Path | None = None) -> TagRules:
    """The rules of ``path`` (the setting ``OTRS_EXT_TAG_RULES``), or the shipped ones when it is None."""
    chosen = path or default_rules_path()
    try:
        text = chosen.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"OTRS_EXT_TAG_RULES = '{chosen}': no such file; write the rules there (the shipped "
                                 f"{default_rules_path()} shows every key) or unset the variable") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"OTRS_EXT_TAG_RULES = '{chosen}': cannot be read: {exc}") from None
    return parse_rules(text, str(chosen))


def parse_rules(text: str, origin: str = "rules.toml") -> TagRules:
    """Rules from TOML ``text``; ``origin`` names the file in errors (``origin:LINE: ...``)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if found is None:
            raise ConfigurationError(f"{origin}: not valid TOML: {message}") from None
        reason = message[:found.start()].strip()
        raise ConfigurationError(f"{origin}:{found.group(1)}: not valid TOML: {reason} "
                                 f"(column {found.group(2)})") from None
    return _Reader(text, origin).read(document)


class _Reader:
    """Turns a parsed document into rules, collecting every problem with the line it is on."""

    def __init__(self, text: str, origin: str) -> None:
        self.origin = origin
        self.text = text
        self.locator = _Locator(text)
        self.problems: list[tuple[int, str]] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def read(self, document: Mapping[str, Any]) -> TagRules:
        for key in document:
            if key not in SECTIONS:
                self.problem(self.locator.section_line(key), f"unknown section {key!r}; the file holds "
                             "[[source]] rules, one [participant] table and [[notification]] rules")
        sources = self._sources(document.get("source", []))
        participant = self._participant(document.get("participant", {}))
        notifications = self._notifications(document.get("notification", []))
        if self.problems:
            lines = [f"{self.origin}:{line}: {message}" for line, message in sorted(self.problems, key=lambda p: p[0])]
            raise ConfigurationError("\n".join(lines))
        return TagRules(origin=self.origin, sources=tuple(sources), participant=participant,
                        notifications=tuple(notifications),
                        digest=hashlib.sha256(self.text.encode()).hexdigest()[:16])

    # --- sections ---------------------------------------------------------------------------------------
    def _tables(self, section: str, value: Any) -> list[Mapping[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(self.locator.section_line(section),
                         f"{section}: must be [[{section}]] tables (one per rule), not [{section}] or a value")
            return []
        return value

    def _sources(self, value: Any) -> list[SourceRule]:
        rules = []
        for index, table in enumerate(self._tables("source", value)):
            where = _Where(self, "source", index)
            tag = table.get("tag")
            label = f"source rule #{index + 1}" + (f" ({tag!r})" if isinstance(tag, str) else "")
            for key in table:
                if key not in ("tag", "description", *SOURCE_CONDITIONS):
                    where.problem(key, f"{label}: unknown key {key!r}; conditions are {', '.join(SOURCE_CONDITIONS)}")
            if not isinstance(tag, str):
                where.problem("tag" if "tag" in table else None,
                              f"{label}: needs tag = \"<name>\" (the ticket gets source:<name>)")
                continue
            if not RULE_NAME.fullmatch(tag):
                where.problem("tag", f"{label}: tag: {tag!r} is not a valid tag name (letters, digits, . _ -, "
                                     "starting with a letter or digit, at most 100)")
            conditions: dict[str, frozenset[str]] = {}
            for key in SOURCE_CONDITIONS:
                if key in table:
                    values = where.strings(key, table[key], label)
                    allowed = {"sender_type": SENDER_TYPES, "created_by": CREATED_BY}.get(key)
                    for item in values:
                        if allowed and item not in allowed:
                            where.problem(key, f"{label}: {key}: unknown value {item!r}; use {', '.join(allowed)}")
                    conditions[key] = frozenset(v.casefold() for v in values)
            rules.append(SourceRule(tag=tag, conditions=conditions, line=where.start))
        return rules

    def _participant(self, value: Any) -> ParticipantRule:
        if not isinstance(value, dict):
            self.problem(self.locator.section_line("participant"), "participant: must be one [participant] table")
            return ParticipantRule()
        where = _Where(self, "participant", 0)
        for key in value:
            if key not in PARTICIPANT_KEYS:
                where.problem(key, f"[participant]: unknown key {key!r}; keys are {', '.join(PARTICIPANT_KEYS)}")
        notes = value.get("notes", False)
        if not isinstance(notes, bool):
            where.problem("notes", "[participant]: notes: must be true or false")
            notes = False
        exclude = where.strings("exclude", value["exclude"], "[participant]", empty=True) if "exclude" in value else []
        return ParticipantRule(notes=notes, exclude=frozenset(e.casefold() for e in exclude))

    def _notifications(self, value: Any) -> list[NotificationRule]:
        rules = []
        seen: dict[str, str] = {}
        for index, table in enumerate(self._tables("notification", value)):
            where = _Where(self, "notification", index)
            name = table.get("name")
            label = f'notification rule "{name}"' if isinstance(name, str) else f"notification rule #{index + 1}"
            for key in table:
                if key not in NOTIFICATION_KEYS:
                    where.problem(key, f"{label}: unknown key {key!r}; keys are {', '.join(NOTIFICATION_KEYS)}")
            if not isinstance(name, str):
                where.problem("name" if "name" in table else None,
                              f"{label}: needs name = \"<name>\" (the tag is notification:<name>)")
                continue
            if not RULE_NAME.fullmatch(name):
                where.problem("name", f"{label}: name: not a valid tag name (letters, digits, . _ -, starting with "
                                      "a letter or digit, at most 100)")
            if name.casefold() in seen:
                where.problem("name", f"{label}: duplicate rule name (also rule {seen[name.casefold()]!r}); "
                                      "each rule gives its own tag")
            seen.setdefault(name.casefold(), name)
            if not any(key in table for key in NOTIFICATION_CONDITIONS if key != "sender_type"):
                where.problem(None, f"{label}: has no condition; give from, subject, header or queue "
                                    "(a rule without one would tag every incoming mail)")
            rules.append(self._notification(table, name, label, where))
        return rules

    def _notification(self, table: Mapping[str, Any], name: str, label: str, where: _Where) -> NotificationRule:
        labels: dict[str, str] = {}
        if "label" in table:
            if isinstance(table["label"], str) and table["label"].strip():
                labels["en"] = table["label"]
            else:
                where.problem("label", f"{label}: label: must be a string (or labels = {{ en = \"...\", ru = ... }})")
        if "labels" in table:
            given = table["labels"]
            if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
                where.problem("labels", f"{label}: labels: must be a table of language = \"text\"")
            else:
                labels.update(given)
        colour = table.get("colour")
        if colour is not None and (not isinstance(colour, str) or not COLOUR.fullmatch(colour)):
            where.problem("colour", f"{label}: colour: must be \"#rrggbb\"")
            colour = None
        subjects = []
        for pattern in where.strings("subject", table["subject"], label) if "subject" in table else []:
            try:
                subjects.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                where.problem("subject", f"{label}: subject: bad regex {pattern!r}: {exc}")
        headers = []
        if "header" in table:
            given = table["header"]
            if not isinstance(given, dict) or not given:
                where.problem("header", f"{label}: header: must be a table of Header-Name = \"pattern\" or "
                                        "[\"pattern\", ...]")
            else:
                for header, patterns in given.items():
                    if not re.fullmatch(r"[!-9;-~]+", header):
                        where.problem(header, f"{label}: header: {header!r} is not a header field name")
                    values = where.strings(header, patterns, f"{label}: header")
                    headers.append((header, tuple(v.casefold() for v in values)))
        senders = where.strings("sender_type", table["sender_type"], label) if "sender_type" in table else []
        for sender in senders:
            if sender not in SENDER_TYPES:
                where.problem("sender_type", f"{label}: sender_type: unknown value {sender!r}; use "
                                             f"{', '.join(SENDER_TYPES)}")
        addresses = where.strings("from", table["from"], label) if "from" in table else []
        for address in addresses:
            if "@" not in address:
                where.problem("from", f"{label}: from: {address!r} is neither an address nor @domain")
        queues = where.strings("queue", table["queue"], label) if "queue" in table else []
        return NotificationRule(
            name=name, labels=labels, colour=colour, from_=tuple(a.strip().casefold() for a in addresses),
            subject=tuple(subjects), headers=tuple(headers), queues=frozenset(q.casefold() for q in queues),
            sender_types=frozenset(senders) or DEFAULT_CANDIDATES, line=where.start)


class _Where:
    """One table of a section (its lines in the text) for problems about its keys."""

    def __init__(self, reader: _Reader, section: str, index: int) -> None:
        self.reader = reader
        self.section = section
        self.index = index
        self.start = reader.locator.block_start(section, index)

    def problem(self, key: str | None, message: str) -> None:
        line = self.reader.locator.key_line(self.section, self.index, key) if key else self.start
        self.reader.problem(line, message)

    def strings(self, key: str, value: Any, label: str, *, empty: bool = False) -> list[str]:
        """``value`` as a list of non-empty strings (a string is a list of one), non-empty unless ``empty``;
        a problem if not."""
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not (values or empty) \
                or not all(isinstance(v, str) and v.strip() for v in values):
            self.problem(key, f"{label}: {key}: must be a non-empty string or a list of them")
            return []
        return values


class _Locator:
    """Where the tables and keys of a TOML text are: a table is the lines from its header (``[[notification]]``,
    ``[participant]``) to the next top-level header; dotted headers (``[notification.header]``) belong to the
    table before them."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.blocks: dict[str, list[tuple[int, int]]] = {}  # section -> [(first line, line after last)], 1-based
        current: tuple[str, int] | None = None
        for number, line in enumerate(self.lines, start=1):
            match = self._HEADER.match(line)
            if match is None:
                continue
            name = match.group(1).strip()
            top = name.split(".")[0].strip().strip("\"'")
            if "." in name and current is not None and current[0] == top:
                continue
            if current is not None:
                self.blocks.setdefault(current[0], []).append((current[1], number))
            current = (top, number)
        if current is not None:
            self.blocks.setdefault(current[0], []).append((current[1], len(self.lines) + 1))

    def section_line(self, section: str) -> int:
        """The first header of ``section``, or a top-level ``section = ...`` key; 1 when neither is found."""
        blocks = self.blocks.get(section)
        if blocks:
            return blocks[0][0]
        pattern = re.compile(rf"^\s*[\"']?{re.escape(section)}[\"']?\s*=")
        first_header = min((b[0][0] for b in self.blocks.values()), default=len(self.lines) + 1)
        for number, line in enumerate(self.lines[:first_header - 1], start=1):
            if pattern.match(line):
                return number
        return 1

    def block_start(self, section: str, index: int) -> int:
        blocks = self.blocks.get(section, [])
        return blocks[index][0] if index < len(blocks) else self.section_line(section)

    def key_line(self, section: str, index: int, key: str) -> int:
        """The line of ``key`` in the ``index``-th table of ``section``: as a key of its own, in an inline
        table or a dotted key; the table's header line when it is not found."""
        blocks = self.blocks.get(section, [])
        if index >= len(blocks):
            return self.section_line(section)
        first, end = blocks[index]
        quoted = re.escape(key)
        own = re.compile(rf"^\s*(?:\"{quoted}\"|'{quoted}'|{quoted})\s*=")
        inner = re.compile(rf"(?:^|[\s{{,.])(?:\"{quoted}\"|'{quoted}'|{quoted})\s*=")
        for pattern in (own, inner):
            for number in range(first, end):
                if pattern.search(self.lines[number - 1]):
                    return number
        return first


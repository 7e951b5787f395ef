"""Structured row dumps of one scenario and their column-by-column comparison.

``dump(conn, base)`` reads every row Znuny keeps for the tickets created after the snapshot (the tables of
``../shared/oracle/dump_rows.sh`` plus dynamic field values, links, scheduler tasks with their ``task_data``
decoded, the mail queue and the search index), in a deterministic order, with surrogate ids replaced by their
rank within the scenario: the first ticket of the scenario is ticket 1 whatever its id, and every column that
points at a ticket or an article is mapped the same way. ``diff(znuny, ext)`` then compares the two dumps.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from deliberate import REGISTRY, Deliberate
from sqlalchemy import Connection, bindparam, text

Rows = dict[str, list[dict[str, Any]]]

# Parts that differ between two runs of the same Znuny (oracle README §3): never compared.
RANDOM = frozenset({("article", "insert_fingerprint"), ("ticket_number_counter", "counter_uid"),
                    ("scheduler_task", "ident"), ("mail_queue", "insert_fingerprint")})
STORABLE = frozenset({("scheduler_task", "task_data"), ("mail_queue", "raw_message")})
# Ids of the snapshot's rows: the scenario dumps only rows made after the snapshot.
BASE_TABLES = ("ticket", "article", "ticket_number_counter", "link_relation", "scheduler_task",
               "scheduler_future_task", "mail_queue", "link_object")


@dataclass(frozen=True)
class Base:
    """The highest ids of the snapshot: rows above them belong to the scenario."""

    ticket: int
    article: int
    counter: int
    scheduler_task: int
    scheduler_future_task: int
    mail_queue: int
    link_object: int


def base_of(conn: Connection) -> Base:
    def top(table: str) -> int:
        return int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one())
    return Base(ticket=top("ticket"), article=top("article"), counter=top("ticket_number_counter"),
                scheduler_task=top("scheduler_task"), scheduler_future_task=top("scheduler_future_task"),
                mail_queue=top("mail_queue"), link_object=top("link_object"))


@dataclass(frozen=True)
class Table:
    """One dumped table: its query (``:t`` = scenario ticket ids, ``:a`` = their article ids, ``:b_*`` = base
    ids) and which columns hold ticket or article ids."""

    sql: str
    tickets: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    own_id: bool = True  # the table's ``id`` is a surrogate: replaced by the row's rank
    # rows are paired by this column (in order within equal values) instead of by position, so one extra row
    # reads as one "only ..." line rather than shifting every row after it
    align: str | None = None


A = "(SELECT id FROM article WHERE ticket_id IN :t)"
TABLES: dict[str, Table] = {
    "ticket": Table("SELECT * FROM ticket WHERE id IN :t ORDER BY id", tickets=("id",), own_id=False),
    "ticket_history": Table(
        "SELECT h.*, ht.name AS history_type FROM ticket_history h "
        "JOIN ticket_history_type ht ON ht.id = h.history_type_id WHERE h.ticket_id IN :t ORDER BY h.id",
        tickets=("ticket_id",), articles=("article_id",)),
    "article": Table(
        "SELECT a.*, c.name AS channel, s.name AS sender_type FROM article a "
        "JOIN communication_channel c ON c.id = a.communication_channel_id "
        "JOIN article_sender_type s ON s.id = a.article_sender_type_id WHERE a.ticket_id IN :t ORDER BY a.id",
        tickets=("ticket_id",), articles=("id",), own_id=False),
    "article_data_mime": Table(f"SELECT * FROM article_data_mime WHERE article_id IN {A} ORDER BY id",
                               articles=("article_id",)),
    "article_data_mime_attachment": Table(
        f"SELECT * FROM article_data_mime_attachment WHERE article_id IN {A} ORDER BY id", articles=("article_id",)),
    "article_data_mime_plain": Table(f"SELECT * FROM article_data_mime_plain WHERE article_id IN {A} ORDER BY id",
                                     articles=("article_id",)),
    "ticket_flag": Table("SELECT * FROM ticket_flag WHERE ticket_id IN :t ORDER BY ticket_id, ticket_key, create_by",
                         tickets=("ticket_id",), own_id=False),
    "article_flag": Table(
        f"SELECT * FROM article_flag WHERE article_id IN {A} ORDER BY article_id, article_key, create_by",
        articles=("article_id",), own_id=False),
    "article_search_index": Table(
        "SELECT * FROM article_search_index WHERE ticket_id IN :t ORDER BY article_id, article_key, id",
        tickets=("ticket_id",), articles=("article_id",)),
    "ticket_lock_index": Table("SELECT * FROM ticket_lock_index WHERE ticket_id IN :t ORDER BY ticket_id",
                               tickets=("ticket_id",), own_id=False),
    "ticket_index": Table("SELECT * FROM ticket_index WHERE ticket_id IN :t ORDER BY ticket_id",
                          tickets=("ticket_id",), own_id=False),
    "ticket_watcher": Table("SELECT * FROM ticket_watcher WHERE ticket_id IN :t ORDER BY ticket_id, user_id",
                            tickets=("ticket_id",), own_id=False),
    "time_accounting": Table("SELECT * FROM time_accounting WHERE ticket_id IN :t ORDER BY id",
                             tickets=("ticket_id",), articles=("article_id",)),
    "dynamic_field_value": Table(
        "SELECT v.*, f.name AS field_name, f.object_type FROM dynamic_field_value v "
        "JOIN dynamic_field f ON f.id = v.field_id "
        f"WHERE (f.object_type = 'Ticket' AND v.object_id IN :t) OR (f.object_type = 'Article' AND v.object_id IN {A}) "
        "ORDER BY v.id"),
    "link_relation": Table(
        "SELECT r.*, so.name AS source_object, tob.name AS target_object FROM link_relation r "
        "JOIN link_object so ON so.id = r.source_object_id JOIN link_object tob ON tob.id = r.target_object_id "
        "WHERE (so.name = 'Ticket' AND r.source_key IN :ts) OR (tob.name = 'Ticket' AND r.target_key IN :ts) "
        "ORDER BY r.source_object_id, r.source_key, r.target_object_id, r.target_key, r.type_id",
        own_id=False),
    "link_object": Table("SELECT * FROM link_object WHERE id > :b_link_object ORDER BY id"),
    "ticket_number_counter": Table("SELECT * FROM ticket_number_counter WHERE id > :b_counter ORDER BY id"),
    "scheduler_task": Table("SELECT * FROM scheduler_task WHERE id > :b_scheduler_task ORDER BY id", align="name"),
    "scheduler_future_task": Table(
        "SELECT * FROM scheduler_future_task WHERE id > :b_scheduler_future_task ORDER BY id"),
    "mail_queue": Table("SELECT * FROM mail_queue WHERE id > :b_mail_queue ORDER BY id", articles=("article_id",)),
}


def plain(value: Any) -> Any:
    """A value as the comparison sees it: text for times, decimals and UTF-8 bytes; other bytes summarised."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(value)} bytes sha256:{hashlib.sha256(value).hexdigest()[:16]}>"
    return value


def decode_storable(blobs: Sequence[str]) -> list[Any]:
    """``scheduler_task.task_data`` (base64 of Perl Storable ``nfreeze``) as data, by Perl's own Storable."""
    if not blobs:
        return []
    script = (
        "local $/; my $in = JSON::PP->new->decode(<STDIN>); "
        "my @out = map { my $d = eval { Storable::thaw(MIME::Base64::decode_base64($_)) }; "
        "defined $d ? $d : {'<undecodable>' => $@ || 'thaw returned undef'} } @$in; "
        "print JSON::PP->new->canonical->allow_blessed->convert_blessed->allow_nonref->encode(\\@out);"
    )
    result = subprocess.run(["perl", "-MStorable", "-MMIME::Base64", "-MJSON::PP", "-e", script],
                            input=json.dumps(list(blobs)).encode(), capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"decoding task_data with Perl Storable failed: {result.stderr.decode(errors='replace')}")
    return json.loads(result.stdout)


def _map_ids(data: Any, tickets: Mapping[int, int], articles: Mapping[int, int]) -> Any:
    """TicketID/ArticleID values inside decoded task data, by rank (other values unchanged)."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            ranks = tickets if key == "TicketID" else articles if key == "ArticleID" else None
            if ranks is not None and str(value).isdigit() and int(value) in ranks:
                out[key] = f"<ticket {ranks[int(value)]}>" if ranks is tickets else f"<article {ranks[int(value)]}>"
            else:
                out[key] = _map_ids(value, tickets, articles)
        return out
    if isinstance(data, list):
        return [_map_ids(v, tickets, articles) for v in data]
    return data


def dump(conn: Connection, base: Base, *, only: Iterable[str] | None = None) -> Rows:
    """Every row of the scenario (tickets above ``base``), ids ranked; ``only`` limits the tables."""
    ticket_ids = [r[0] for r in conn.execute(text("SELECT id FROM ticket WHERE id > :b ORDER BY id"),
                                             {"b": base.ticket})]
    tickets = {tid: rank for rank, tid in enumerate(ticket_ids, start=1)}
    article_ids = [r[0] for r in conn.execute(
        text("SELECT id FROM article WHERE ticket_id IN :t ORDER BY id").bindparams(bindparam("t", expanding=True)),
        {"t": ticket_ids or [-1]})]
    articles = {aid: rank for rank, aid in enumerate(article_ids, start=1)}
    params = {"t": ticket_ids or [-1], "ts": [str(t) for t in ticket_ids] or ["-1"],
              **{f"b_{k}": v for k, v in vars(base).items()}}
    rows: Rows = {}
    for name, table in TABLES.items():
        if only is not None and name not in only:
            continue
        used = {k: v for k, v in params.items() if re.search(rf":{k}\b", table.sql)}
        statement = text(table.sql)
        for key in ("t", "ts"):
            if key in used:
                statement = statement.bindparams(bindparam(key, expanding=True))
        raw = [dict(r) for r in conn.execute(statement, used).mappings()]
        rows[name] = [_ranked(name, table, rank, row, tickets, articles) for rank, row in enumerate(raw, start=1)]
    if rows.get("scheduler_task"):
        decoded = decode_storable([_raw(r.pop("task_data")).decode() for r in rows["scheduler_task"]])
        for row, data in zip(rows["scheduler_task"], decoded, strict=True):
            row["task_data"] = _map_ids(data, tickets, articles)
    if rows.get("mail_queue"):
        messages = decode_storable([base64.b64encode(_raw(r.pop("raw_message"))).decode()
                                    for r in rows["mail_queue"]])
        for row, message in zip(rows["mail_queue"], messages, strict=True):
            row["raw_message"] = _masked_mail(message)
    return rows


def _raw(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value or b"")


def _masked_mail(message: Any) -> Any:
    """A queued mail ({Header, Body}, Kernel::System::Email's Storable) with its per-run random parts masked:
    the Message-ID's local part and the MIME boundaries (clock, pid, random digits); headers sorted."""
    if not isinstance(message, dict) or "Header" not in message:
        return message
    def mask(part: str) -> str:
        return re.sub(r"=_\d+-\d+-\d+", "=_<boundary>", part)
    header = re.sub(r"(Message-ID: <)[^@>]+", r"\1<random>", str(message["Header"]))
    return {"Header": sorted(mask(line) for line in header.strip().split("\n")),
            "Body": mask(str(message.get("Body", "")))}


def _ranked(name: str, table: Table, rank: int, row: dict[str, Any], tickets: Mapping[int, int],
            articles: Mapping[int, int]) -> dict[str, Any]:
    # blobs decoded later by Perl's Storable stay bytes
    out = {k: v if (name, k) in STORABLE else plain(v) for k, v in row.items()}
    if table.own_id and "id" in out:
        out["id"] = rank
    for column in table.tickets:
        if out.get(column) is not None:
            out[column] = tickets.get(out[column], f"<not in scenario: {out[column]}>")
    for column in table.articles:
        if out.get(column) is not None:
            out[column] = articles.get(out[column], f"<not in scenario: {out[column]}>")
    if name == "dynamic_field_value":
        ranks = tickets if out["object_type"] == "Ticket" else articles
        out["object_id"] = ranks.get(out["object_id"], out["object_id"])
        out.pop("field_id")  # the field's name is compared instead; setup ops may give it another id
    if name == "link_relation":
        for side in ("source", "target"):
            if out[f"{side}_object"] == "Ticket" and str(out[f"{side}_key"]).isdigit():
                out[f"{side}_key"] = f"<ticket {tickets.get(int(out[f'{side}_key']), out[f'{side}_key'])}>"
    return out


def files(article_dir: Path, base: Base, article_ids: Mapping[int, int] | None = None) -> Rows:
    """FS article storage under ``article_dir``: one row per directory and file (path with the article id
    ranked, mode, owner-independent content digest). Only articles above ``base`` are listed."""
    out: list[dict[str, Any]] = []
    if not article_dir.is_dir():
        return {"fs_article": out}
    for path in sorted(article_dir.rglob("*")):
        rel = path.relative_to(article_dir).parts
        # layout: YYYY/MM/DD/<article id>/<file>
        if len(rel) >= 4 and rel[3].isdigit():
            aid = int(rel[3])
            if aid <= base.article:
                continue
            rank = (article_ids or {}).get(aid, aid)
            rel = (*rel[:3], f"<article {rank}>", *rel[4:])
        mode = oct(path.stat().st_mode & 0o7777)
        item: dict[str, Any] = {"path": "/".join(rel), "mode": mode, "dir": path.is_dir()}
        if path.is_file():
            item["content"] = plain(path.read_bytes())
        out.append(item)
    return {"fs_article": out}


# --- comparison -----------------------------------------------------------------------------------------
@dataclass
class Comparison:
    """The outcome of one diff: unexplained differences and the registry entries that explained some."""

    problems: list[str] = field(default_factory=list)
    explained: dict[Deliberate, list[str]] = field(default_factory=dict)


def _show(value: Any, other: Any, width: int = 70) -> str:
    """``value`` shortened around its first difference from ``other``."""
    text_value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                                  default=str)
    if len(text_value) <= width:
        return repr(value) if isinstance(value, str) else text_value
    other_text = other if isinstance(other, str) else json.dumps(other, ensure_ascii=False, sort_keys=True,
                                                                  default=str)
    first = next((i for i, (a, b) in enumerate(zip(text_value, other_text, strict=False)) if a != b),
                 min(len(text_value), len(other_text)))
    start = max(0, first - 20)
    piece = text_value[start:start + width]
    return f"{'…' if start else ''}{piece!r}{'…' if start + width < len(text_value) else ''} " \
           f"(len {len(text_value)}, differs at {first})"


def _entries(scenario: str | None, registry: Sequence[Deliberate]) -> list[Deliberate]:
    if scenario is None:
        return []
    return [e for e in registry if any(fnmatch.fnmatchcase(scenario, p) for p in e.scenarios)]


def compare(znuny: Rows, ext: Rows, *, ignore: Iterable[str] = (), scenario: str | None = None,
            registry: Sequence[Deliberate] = REGISTRY) -> Comparison:
    """Column-by-column differences; ``ignore`` holds ``table.column`` or ``table.*`` (whole table) names.
    Entries of ``registry`` that apply to ``scenario`` explain matching differences."""
    skip = set(ignore)
    entries = _entries(scenario, registry)
    result = Comparison()

    def report(table: str, column: str, line: str, z: Any = None, e: Any = None) -> None:
        for entry in entries:
            if entry.table == table and entry.column == column and (entry.when is None or entry.when(z, e)):
                result.explained.setdefault(entry, []).append(line)
                return
        result.problems.append(line)

    for table in [*znuny, *[t for t in ext if t not in znuny]]:
        if f"{table}.*" in skip:
            continue
        aligned = table in TABLES and TABLES[table].align is not None  # ranks of paired rows may differ
        for where, z_row, e_row in _pairs(table, znuny.get(table, []), ext.get(table, [])):
            if e_row is None:
                report(table, "*", f"{where}: only znuny: {_summary(z_row)}", z_row, None)
                continue
            if z_row is None:
                report(table, "*", f"{where}: only ext: {_summary(e_row)}", None, e_row)
                continue
            for column in [*z_row, *[c for c in e_row if c not in z_row]]:
                if (table, column) in RANDOM or f"{table}.{column}" in skip or (aligned and column == "id"):
                    continue
                z, e = z_row.get(column, "<no column>"), e_row.get(column, "<no column>")
                if z != e:
                    report(table, column, f"{where}.{column}: znuny={_show(z, e)} ext={_show(e, z)}", z, e)
    for entry in entries:
        if entry.must_occur and entry not in result.explained:
            result.problems.append(
                f"deliberate.py: {entry.label()} is registered for this scenario but no longer occurs; "
                f"remove the entry or narrow its scenarios ({entry.reason})")
    return result


def _pairs(table: str, z_rows: list[dict[str, Any]], e_rows: list[dict[str, Any]]) -> Iterator[tuple[str, Any, Any]]:
    """(label, znuny row or None, ext row or None): by position, or by the table's ``align`` column."""
    spec = TABLES.get(table)
    if spec is None or spec.align is None:
        for i in range(max(len(z_rows), len(e_rows))):
            yield (f"{table}[{i + 1}]", z_rows[i] if i < len(z_rows) else None,
                   e_rows[i] if i < len(e_rows) else None)
        return
    column = spec.align
    keys = list(dict.fromkeys([r.get(column) for r in z_rows] + [r.get(column) for r in e_rows]))
    for key in keys:
        zs = [r for r in z_rows if r.get(column) == key]
        es = [r for r in e_rows if r.get(column) == key]
        for i in range(max(len(zs), len(es))):
            yield (f"{table}[{column}={key} #{i + 1}]", zs[i] if i < len(zs) else None,
                   es[i] if i < len(es) else None)


def _summary(row: Mapping[str, Any], width: int = 160) -> str:
    shown = json.dumps(row, ensure_ascii=False, default=str)
    return shown if len(shown) <= width else shown[:width] + "…"

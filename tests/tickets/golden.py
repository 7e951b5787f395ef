"""Reads ``../shared/reference/znuny-golden/sample_rows.txt``: the rows real Znuny 7.0 wrote, per table."""

from __future__ import annotations

import re
from pathlib import Path

from support.paths import SHARED

GOLDEN = SHARED / "reference" / "znuny-golden"


def _vertical(lines: list[str]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    key = None
    for line in lines:
        if line.startswith("****"):
            rows.append({})
            key = None
            continue
        match = re.match(r"^\s*(\w+): ?(.*)$", line)
        # mysql's vertical output right-aligns the column names; a body line could look like one only if it
        # repeated a column name already seen in this row.
        if match and match.group(1) not in rows[-1]:
            key = match.group(1)
            rows[-1][key] = match.group(2)
        elif key is not None:
            rows[-1][key] += "\n" + line
    return rows


def _table(lines: list[str]) -> list[dict[str, str]]:
    body = [line for line in lines if line.startswith("|")]
    if not body:
        return []
    header = [c.strip() for c in body[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in body[1:]]


def golden_rows(path: Path = GOLDEN / "sample_rows.txt") -> dict[str, list[dict[str, str]]]:
    """table name (as in the file's ``###`` headings, first word) -> rows as strings ("NULL" for NULL)."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("### "):
            current = line[4:].split(" ")[0]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    parsed = {}
    for table, lines in sections.items():
        while lines and not lines[-1].strip():
            lines.pop()
        parsed[table] = _vertical(lines) if any(line.startswith("****") for line in lines) else _table(lines)
    return parsed

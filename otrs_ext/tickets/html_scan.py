"""Linear-time forms of the lazy patterns of ``html.py``.

Python's ``re`` retries a pattern from every later start when it cannot close, which is quadratic: 20,000
``<a name>`` anchors on one line took 70 s, 50,000 stray ``<`` 20 s (Perl notices the missing closing text and
gives up at once). Each helper returns exactly what the plain ``pattern.sub`` would, skipping only the attempts
that cannot succeed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Replacement = str | Callable[[re.Match[str]], str]
Boundary = Callable[[str, re.Match[str]], int]


def sub(pattern: re.Pattern[str], replacement: Replacement, text: str, *, starts: re.Pattern[str],
        boundary: Boundary, closing: re.Pattern[str] | None = None) -> str:
    """``pattern.sub(replacement, text)``.

    ``starts`` finds where a match can begin (the pattern's fixed opening). Whether the pattern matches from a
    start must depend only on ``boundary(text, start)`` (the next ">" after an opening tag's name, the end of the
    line), so after one failure every later start with the same boundary is skipped. If every match ends with
    ``closing``, nothing after the end of its last occurrence is searched.
    """
    end = len(text)
    if closing is not None:
        end = -1
        for match in closing.finditer(text):
            end = match.end()
    out: list[str] = []
    pos = 0
    failed = -2
    for opening in starts.finditer(text, 0, max(end, 0)):
        if opening.start() < pos:
            continue
        key = boundary(text, opening)
        if key == failed:
            continue
        match = pattern.match(text, opening.start(), end)
        if match is None:
            failed = key
            continue
        out += [text[pos:match.start()],
                replacement(match) if callable(replacement) else match.expand(replacement)]
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def next_gt(text: str, opening: re.Match[str]) -> int:
    """Boundary of ``<name[^>]*>…``: the first ">" after the name."""
    return text.find(">", opening.end())


def line_end(text: str, opening: re.Match[str]) -> int:
    """Boundary of a pattern that does not cross a line break after its opening."""
    end = text.find("\n", opening.end())
    return len(text) if end < 0 else end


def drop_tags(text: str) -> str:
    """``re.sub(r"<.+?>", "", text, flags=re.DOTALL)``: a tag runs from "<" to the first ">" after at least one
    character, over line breaks and other "<"."""
    out: list[str] = []
    pos = 0
    while True:
        opening = text.find("<", pos)
        if opening < 0:
            break
        closing = text.find(">", opening + 2)
        if closing < 0:  # no later "<" can close either
            break
        out.append(text[pos:opening])
        pos = closing + 1
    out.append(text[pos:])
    return "".join(out)

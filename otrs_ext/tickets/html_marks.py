"""Stand-ins that keep parts of the text out of OTRS's later rewrites (used by ``html.py``).

The stand-ins are private-use characters the input does not contain, so no rewrite can mistake them for text: not
white space, no "<", ">" or "&", and a run of them is one unbroken word for the line wrapping.
"""

from __future__ import annotations

import re

from .html_scan import next_gt, sub

_PERL_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_PRE = re.compile(r"<(?:pre|code)[^>]*>(.+?)</(?:pre|code)[^>]*>", re.IGNORECASE | re.DOTALL)
_PRE_START = re.compile(r"<(?:pre|code)", re.IGNORECASE)
_PRE_END = re.compile(r"</(?:pre|code)[^>]*>", re.IGNORECASE)
# OTRS's stand-in for a quote is 18 characters plus the quote's number.
_QUOTE_MARK_LENGTH = 18


def perl_ws() -> str:
    """The body of a character class matching Perl's Unicode ``\\s``; Python's ``\\s`` also matches U+001C–U+001F,
    which OTRS treats as text."""
    return _PERL_WS


def unused_chars(text: str, count: int) -> str:
    """``count`` private-use characters absent from ``text``."""
    free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    return "".join(next(free) for _ in range(count))


class QuoteStash:
    """Converted quotes, each replaced by a stand-in of OTRS's length until ``restore``."""

    def __init__(self, text: str) -> None:
        self._start, self._fill = unused_chars(text, 2)
        self._items: list[str] = []

    def put(self, converted: str) -> str:
        self._items.append(converted)
        number = str(len(self._items))
        return self._start + number + self._fill * (_QUOTE_MARK_LENGTH - 1)

    def restore(self, text: str) -> str:
        if not self._items:
            return text
        marker = re.compile(re.escape(self._start) + r"(\d+)" + re.escape(self._fill) + "+")
        return marker.sub(lambda m: self._items[int(m.group(1)) - 1], text)


class Verbatim:
    """``<pre>``/``<code>`` content, from the tag to the first closing ``</pre>`` or ``</code>``: it keeps its line
    breaks and space runs and gets a blank line on either side.

    OTRS keeps it out of every rewrite up to the removal of the remaining tags, then puts it back with only its
    white space disguised: its tags go then without making breaks, and a stray ``<`` before it starts a tag that
    may end inside it."""

    def __init__(self, text: str) -> None:
        self._start, self._end, blank, newline, cr, space = unused_chars(text, 6)
        self._blank = blank * 2
        self._hide = str.maketrans({"\n": newline, "\r": cr, " ": space})
        self._reveal = str.maketrans({blank: "\n", newline: "\n", cr: "\r", space: " "})
        self._items: list[str] = []

    def set_apart(self, text: str) -> str:
        return sub(_PRE, self._put, text, starts=_PRE_START, boundary=next_gt, closing=_PRE_END)

    def _put(self, match: re.Match[str]) -> str:
        self._items.append(self._blank + match.group(1).translate(self._hide) + self._blank)
        return f"{self._start}{len(self._items)}{self._end}"

    def put_back(self, text: str) -> str:
        """The content in place again, still disguised."""
        if not self._items:
            return text
        marker = re.compile(re.escape(self._start) + r"(\d+)" + re.escape(self._end))
        return marker.sub(lambda m: self._items[int(m.group(1)) - 1], text)

    def reveal(self, text: str) -> str:
        return text.translate(self._reveal)

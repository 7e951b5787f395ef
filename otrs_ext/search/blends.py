"""Blended tokens (``support@reg.ru``, ``mail.example.com``, ``10.0.0.1``) and the runs of their parts.

Sphinx indexes a blended token whole and as its parts (``blend_chars``), never as the pieces in between: the
keyword ``reg.ru`` exists only where ``reg.ru`` stood alone, not inside ``support@reg.ru``. What an agent
means by ``reg.ru`` is what ``LIKE '%reg.ru%'`` finds at a token boundary, so every document also carries,
per text field, the inner runs of its blended tokens: for ``ivan@mail.example.ru`` (parts ivan, mail,
example, ru) that is ``ivan@mail``, ``ivan@mail.example``, ``mail.example``, ``mail.example.ru``,
``example.ru``. A domain search is then one exact keyword, as cheap as a plain word, instead of an infix
expansion over every keyword containing it (measured at 1M articles: 600 ms -> about 15 ms).

Runs are written with their blend characters replaced by private-use code points that the index's
charset_table declares word characters (``SEPARATOR_CODES``): each run is then one plain keyword, where a run
with dots would be blended again into a whole, trimmed variants and parts (duplicates of what the source
field already holds) and double the indexing cost. No real text contains these code points.

The character classes mirror ``indexdef.CHARSET_TABLE`` and ``blend_chars``.
"""

from __future__ import annotations

import re

#: word characters of indexdef.CHARSET_TABLE: Latin, digits, ``_``, Cyrillic with Ё/ё
WORD = "0-9A-Za-z_\u0401\u0410-\u044f\u0451"
#: indexdef's blend_chars, as a regex class body
BLEND = ".@+\\-"

#: blend character -> the private-use code point standing for it inside an indexed run
SEPARATOR_CODES = {".": "\ue000", "@": "\ue001", "-": "\ue002", "+": "\ue003"}

#: runs longer than this many parts are not indexed; a query for a longer one falls back to the slower
#: phrase-and-infix search (real addresses have fewer: first.last@mail.sub.example.co.uk is 7)
MAX_RUN_PARTS = 8
#: tokens with more parts are skipped (base64 with ``+``, long dotted dumps): nobody searches inside them,
#: and their runs would grow quadratically
MAX_TOKEN_PARTS = 24
#: a cap per field so that one pathological text cannot blow up a document
MAX_RUNS_PER_FIELD = 4000

# a blended token with at least three parts (two parts have no inner run besides the token itself), without
# blend characters at its ends. Possessive quantifiers: no backtracking into ordinary words (3x faster).
_TOKEN = re.compile(f"(?<![{WORD}])[{WORD}]++(?:[{BLEND}]++[{WORD}]++){{2,}}")
_SEPARATORS = re.compile(f"([{BLEND}]+)")


def encode(token: str) -> str:
    """A run (or a query term) as it is indexed in the runs fields: blend characters as their code points."""
    for char, code in SEPARATOR_CODES.items():  # str.replace: many times faster than translate on Cyrillic
        token = token.replace(char, code)
    return token


def runs(text: str) -> str:
    """The inner runs of ``text``'s blended tokens, encoded (``encode``) and space-separated, in order of
    appearance. Empty for text without a token of three or more parts."""
    if not text:
        return ""
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        # part, separator, part, ..., part: the token has no blend characters at its ends
        pieces = _SEPARATORS.split(match.group())
        last = len(pieces) - 1  # index of the last part; parts sit at even indexes
        if last // 2 + 1 > MAX_TOKEN_PARTS:
            continue
        for start in range(0, last, 2):
            run = pieces[start]
            for end in range(start + 2, min(last, start + 2 * (MAX_RUN_PARTS - 1)) + 1, 2):
                run += pieces[end - 1] + pieces[end]
                if start == 0 and end == last:
                    continue  # the whole token: Sphinx indexes that itself
                found.append(run)
        if len(found) >= MAX_RUNS_PER_FIELD:
            del found[MAX_RUNS_PER_FIELD:]
            break
    return encode(" ".join(found))

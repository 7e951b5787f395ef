"""A bound on how deeply a request's JSON may nest, checked before any parser sees it.

Python's json module and pydantic recurse once per level: a body of 100,000 ``[`` costs a RecursionError (a 500
with a long traceback per request, before authentication on the GI routes). No ticket or GI request needs more
than a handful of levels, so a deeper body is refused as the client's mistake.
"""

from __future__ import annotations

import re

MAX_DEPTH = 64


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays and objects in ``raw`` (brackets inside strings do not count), scanning
    no further than the first level past ``limit``. Only structural bytes are visited (found by the regex
    engine), so a 60 MB body of base64 attachments costs milliseconds, not a Python loop per byte."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1  # the position a backslash inside a string escapes
    for match in _STRUCTURAL.finditer(raw):
        at, byte = match.start(), raw[match.start()]
        if in_string:
            if at == escaped_at:
                continue
            if byte == 0x5C:  # backslash
                escaped_at = at + 1
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')

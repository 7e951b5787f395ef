"""Perl's view of text, where OTRS's SysConfig hands otrs-ext Perl regular expressions and Perl string
functions decide what OTRS stores.

OTRS's strings from the database carry Perl's UTF-8 flag, so Perl applies Unicode rules, which differ from
Python's in a few places that matter for OTRS's search index:

* ``\\w`` is Perl's word class: letters, marks, decimal digits, connector punctuation, the two joiners and
  the circled/squared Latin letters (Unicode ``Other_Alphabetic`` symbols); Python's ``\\w`` also takes
  ``²`` or ``½`` (numeric, not decimal) and misses the joiners and combining marks.
* ``\\s`` is Unicode ``White_Space``; Python's ``\\s`` also takes the separators U+001C..U+001F.
* ``lc`` lowers each character on its own; Python's ``str.lower`` writes a final ``ς`` for ``Σ`` at a word's
  end. Both use the same Unicode version here (14.0 in Perl 5.36 and Python 3.11).

``perl_regex`` translates a Perl pattern into a Python one with Perl's classes, and refuses (``UnsupportedPerl``)
what it cannot translate faithfully instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from ..errors import ConfigurationError

# Perl's \s for UTF-8 strings (\p{XPerlSpace}), \h and \v
PERL_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_H_SPACE = "\t \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
_V_SPACE = "\n\x0b\x0c\r\x85\u2028\u2029"
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Me", "Nd", "Pc"})
# Other_Alphabetic symbols and Join_Control: in Perl's \w although their category is not
_WORD_EXTRA = ((0x200C, 0x200D), (0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
# Planes 4 to 13 hold no assigned character; 15 and 16 only private use (category Co).
_SCANNED = (range(0x0, 0x40000), range(0xE0000, 0xF0000))

WHITESPACE_RUN = re.compile(f"[{PERL_SPACE}]+")


class UnsupportedPerl(ConfigurationError):
    """A Perl regular expression otrs-ext cannot run with Perl's meaning."""


def perl_lc(text: str) -> str:
    """Perl's ``lc``: every character lowered on its own (``Σ`` always becomes ``σ``)."""
    return text.replace("\u03a3", "\u03c3").lower()


def perl_split_words(text: str) -> list[str]:
    """``split /\\s+/``: the non-empty runs between Perl whitespace."""
    return [word for word in WHITESPACE_RUN.split(text) if word]


@cache
def _ranges(categories: frozenset[str], extra: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    points = [cp for block in _SCANNED for cp in block if unicodedata.category(chr(cp)) in categories]
    points += [cp for low, high in extra for cp in range(low, high + 1)]
    merged: list[list[int]] = []
    for cp in sorted(set(points)):
        if merged and cp == merged[-1][1] + 1:
            merged[-1][1] = cp
        else:
            merged.append([cp, cp])
    return tuple((low, high) for low, high in merged)


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= 0x10FFFF:
        out.append((start, 0x10FFFF))
    return tuple(out)


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    def char(cp: int) -> str:
        return f"\\U{cp:08x}"
    return "".join(char(low) if low == high else f"{char(low)}-{char(high)}" for low, high in ranges)


@cache
def _word_body(negated: bool = False) -> str:
    ranges = _ranges(_WORD_CATEGORIES, _WORD_EXTRA)
    return _class_body(_complement(ranges) if negated else ranges)


@cache
def _category_body(spec: str, negated: bool) -> str:
    """``\\p{L}``, ``\\p{Lu}``, ``\\p{IsL}``, ``\\p{L&}``: general categories only."""
    name = spec.removeprefix("Is").removeprefix("General_Category=").removeprefix("gc=")
    if name == "L&":
        wanted = frozenset({"Lu", "Ll", "Lt"})
    elif re.fullmatch(r"[LMNPSZC][a-z]?", name):
        wanted = frozenset(c for c in _ALL_CATEGORIES if c.startswith(name))
    else:
        raise UnsupportedPerl(f"\\p{{{spec}}} is not a Unicode general category otrs-ext can translate")
    ranges = _ranges(wanted, ())
    return _class_body(_complement(ranges) if negated else ranges)


_ALL_CATEGORIES = ("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi",
                   "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn")


def _negated_space(body: str) -> str:
    ranges = []
    for part in re.finditer(r"(.)(?:-(.))?", body, re.S):
        low = ord(part.group(1))
        ranges.append((low, ord(part.group(2)) if part.group(2) else low))
    return _class_body(_complement(tuple(sorted(ranges))))


# escape letter -> (class body, negated class body), built on first use
def _class_escape(letter: str) -> str | None:
    bodies = {
        "w": lambda: _word_body(False), "W": lambda: _word_body(True),
        "s": lambda: PERL_SPACE, "S": lambda: _negated_space(PERL_SPACE),
        "h": lambda: _H_SPACE, "H": lambda: _negated_space(_H_SPACE),
        "v": lambda: _V_SPACE, "V": lambda: _negated_space(_V_SPACE),
    }
    body = bodies.get(letter)
    return body() if body else None


# letter escapes Python reads as Perl does (digits: back references and octal)
_SAME_LETTERS = frozenset("dDtnrfa0123456789")


def perl_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` (Perl syntax, no modifiers) compiled for Python with Perl's Unicode meaning."""
    try:
        return re.compile(_translate(pattern))
    except re.error as exc:
        raise UnsupportedPerl(f"the Perl regular expression {pattern!r} cannot be used here: {exc}") from exc


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            letter = pattern[i + 1]
            i += 2
            if letter == "Q":
                end = pattern.find("\\E", i)
                end = n if end < 0 else end
                out.append(re.escape(pattern[i:end]))
                i = end + 2
                continue
            if letter in "pP":
                match = re.match(r"\{\^?([^}]*)\}|([A-Za-z])", pattern[i:])
                if not match:
                    raise UnsupportedPerl(f"malformed \\{letter} in {pattern!r}")
                spec = match.group(1) if match.group(1) is not None else match.group(2)
                caret = pattern[i:].startswith("{^")
                body = _category_body(spec, (letter == "P") != caret)
                out.append(body if in_class else f"[{body}]")
                i += match.end()
                continue
            if letter == "x" and i < n and pattern[i] == "{":
                end = pattern.index("}", i)
                out.append(f"\\U{int(pattern[i + 1:end] or '0', 16):08x}")
                i = end + 1
                continue
            body = _class_escape(letter)
            if body is not None:
                out.append(body if in_class else f"[{body}]")
                continue
            if letter in "bB" and not in_class:
                word = f"[{_word_body(False)}]"
                out.append(f"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))" if letter == "b"
                           else f"(?:(?<={word})(?={word})|(?<!{word})(?!{word}))")
                continue
            if letter == "z" and not in_class:
                out.append(r"\Z")
                continue
            if letter == "Z" and not in_class:
                out.append(r"(?=\n?\Z)")
                continue
            if letter == "A" and not in_class:
                out.append(r"\A")
                continue
            if letter == "k" and not in_class:
                match = re.match(r"<(\w+)>|\{(\w+)\}|'(\w+)'", pattern[i:])
                if not match:
                    raise UnsupportedPerl(f"malformed \\k in {pattern!r}")
                out.append(f"(?P={next(g for g in match.groups() if g)})")
                i += match.end()
                continue
            if letter == "b" and in_class:
                out.append("\\x08")  # backspace, in Perl's classes as in Python's
                continue
            if letter == "e":
                out.append("\\x1b")
                continue
            if letter == "x":
                out.append("\\x")
                continue
            if letter.isascii() and letter.isalnum() and letter not in _SAME_LETTERS:
                raise UnsupportedPerl(f"the escape \\{letter} in {pattern!r} has no faithful Python translation")
            out.append("\\" + letter)  # an escaped symbol is that symbol, in Perl and in Python
            continue
        if in_class:
            if ch == "]" and i > class_start:
                in_class = False
                out.append("]")
            elif ch == "[":
                if pattern.startswith("[:", i) or pattern.startswith("[=", i) or pattern.startswith("[.", i):
                    raise UnsupportedPerl(f"POSIX classes such as {pattern[i:i + 10]!r} are not translated")
                out.append("\\[")
            elif ch in "&~|" and i + 1 < n and pattern[i + 1] == ch:
                out.append(f"\\{ch}\\{ch}")  # literal in Perl, a set operation to come in Python
                i += 1
            elif ch == "-" and i + 1 < n and pattern[i + 1] == "-":
                out.append("\\-")
            else:
                out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append("[")
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            class_start = i  # a ']' right here is a literal member
            continue
        if ch == "(" and pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        if ch == "(" and (pattern.startswith("(?{", i) or pattern.startswith("(??{", i)
                          or pattern.startswith("(?|", i) or pattern.startswith("(?&", i)
                          or pattern.startswith("(?R)", i) or pattern.startswith("(*", i)):
            raise UnsupportedPerl(f"{pattern[i:i + 4]!r} in {pattern!r} has no Python equivalent")
        out.append(ch)
        i += 1
    return "".join(out)

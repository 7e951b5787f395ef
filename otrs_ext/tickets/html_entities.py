"""Character references as OTRS's HTML-to-text conversion decodes them (see ``html.py``).

Measured against Znuny 7.0 (``tests/oracle/test_html_to_ascii.py``), not the HTML5 rules a browser applies:

* names: exactly HTML 4.01's 252 entities plus ``&apos;``, case-sensitive (``&LT;`` stays). The semicolon may be
  left out when the name is not followed by a word character (``&lt-`` decodes, ``&lt2``, ``&ltя`` do not), and a
  longer word that is not a name is left alone (``&notit;`` stays, where a browser would read ``&not`` + "it;");
* numbers: decimal (``&#65``) and hexadecimal (``&#x41``), semicolon optional, any character may follow. A
  surrogate stays as written; a noncharacter or a value beyond U+10FFFF becomes U+FFFD. Decimal "digits" are
  any Unicode decimal digits, but only ASCII ones count towards the value (``&#٣;`` is U+0000), and 0x80–0x9F
  are not mapped to Windows-1252 as browsers do.

Deliberate difference: a reference to 2**63 or more (``&#9223372036854775808;``, ``&#x8000000000000000;``)
makes Znuny die ("Use of code point … is not allowed"), so OTRS cannot store such an article at all; here it is
U+FFFD like every other value beyond U+10FFFF.
"""

from __future__ import annotations

import re
import unicodedata
from html.entities import name2codepoint
from itertools import takewhile

_NAMED = {name: chr(code) for name, code in name2codepoint.items()} | {"apos": "'"}
_REFERENCE = re.compile(r"&(?:#[xX]([0-9A-Fa-f]+);?|#(\d+);?)?")


def decode_entities(text: str) -> str:
    """Replace the character references OTRS decodes; everything else is kept as written."""
    out: list[str] = []
    pos = 0
    for match in _REFERENCE.finditer(text):
        if match.start() < pos:  # inside a name consumed below
            continue
        out.append(text[pos:match.start()])
        hex_digits, decimal = match.groups()
        if hex_digits is not None:
            out.append(_code_point(int(hex_digits, 16), match.group(0)))
            pos = match.end()
        elif decimal is not None:
            # Only the leading ASCII digits give the value, as when a Perl string is used as a number.
            ascii_part = "".join(takewhile(lambda c: "0" <= c <= "9", decimal))
            out.append(_code_point(int(ascii_part) if ascii_part else 0, match.group(0)))
            pos = match.end()
        else:
            replacement, pos = _named(text, match.start())
            out.append(replacement)
    out.append(text[pos:])
    return "".join(out)


def _named(text: str, amp: int) -> tuple[str, int]:
    """(replacement, end) for a reference by name at ``amp``: the whole word after "&" is the name (a known
    name followed by more word characters is no reference), an optional ";" ends it."""
    end = amp + 1
    while end < len(text) and is_word_char(text[end]):
        end += 1
    semicolon = end < len(text) and text[end] == ";"
    name = text[amp + 1:end]
    if name in _NAMED:
        return _NAMED[name], end + semicolon
    return text[amp:end + semicolon], end + semicolon


def _code_point(value: int, original: str) -> str:
    if 0xD800 <= value <= 0xDFFF:
        return original
    if value > 0x10FFFF or 0xFDD0 <= value <= 0xFDEF or (value & 0xFFFE) == 0xFFFE:
        return "\ufffd"
    return chr(value)


def is_word_char(char: str) -> bool:
    """Perl's Unicode ``\\w``: alphabetic (letters, letter numbers, the circled and squared Latin letters),
    decimal digits, marks, connector punctuation, joiners. Python's ``\\w`` leaves out combining marks and
    takes in other numbers such as "²"."""
    if unicodedata.category(char) in _WORD_CATEGORIES or char in "\u200c\u200d":
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _ALPHABETIC_SYMBOLS)


_WORD_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "Pc"}
# Symbols (So) that Unicode counts as alphabetic: Ⓐ–ⓩ and 🄰–🆉.
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))

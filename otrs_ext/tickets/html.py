"""The plain text OTRS stores in ``a_body`` for an HTML article (Znuny's ``HTMLUtils::ToAscii``).

OTRS keeps the HTML as the ``file-2`` attachment and this text in ``a_body``; its search index, quoting, text-only
screens and notifications read it, so it must be OTRS's text character for character. OTRS converts with a fixed
sequence of pattern rewrites rather than an HTML parser, and its quirks are part of the result: a ``<th>`` opens a
paragraph, ``<li class=…>`` gets no bullet, ``<h1>`` nothing, an anchor without ``href`` swallows the text up to the
next link on the same line, a nested quote loses its level. The steps below were measured against Znuny 7.0 and
are checked against it (``tests/oracle/test_html_to_ascii.py``); each says what it reproduces.
"""

from __future__ import annotations

import re

from .html_entities import decode_entities
from .html_marks import QuoteStash, Verbatim, perl_ws
from .html_scan import drop_tags, line_end, next_gt, sub

# Ticket::Frontend::TextAreaNote, the width OTRS wraps at (78 unless an installation changed it).
LINE_LENGTH = 78

_WS = perl_ws()
_I = re.IGNORECASE
_IS = re.IGNORECASE | re.DOTALL

# <a …href="…"…>: the part before href may run over other tags (not over a line break), the tag ends at the first
# ">" after the value. Only the opening tag becomes "[n]"; the URL is listed as written, entities included.
_LINK = re.compile(r"<a[" + _WS + r"].*?href=([\"'])(.*?)\1.*?>", _I)
_LINK_START = re.compile(r"<a[" + _WS + r"]", _I)
# A quote ends at the first </blockquote>, so a nested quote loses its own level.
_QUOTE = re.compile(r"<blockquote[^>]*>(.+?)</blockquote>", _IS)
_QUOTE_START = re.compile(r"<blockquote", _I)
_QUOTE_END = re.compile(r"</blockquote>", _I)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_COMMENT_START = re.compile(r"<!--")
_COMMENT_END = re.compile(r"-->")
_LEADING_WS = re.compile(r"\A[" + _WS + r"]+")
# A self-closing <style/> goes alone; any other <style> takes everything up to its </style>.
_STYLE = re.compile(r"<style(?:[^>]*/>|[^>]*(?<!/)>.*?</style[^>]*>)", _IS)
_STYLE_START = re.compile(r"<style", _I)
_STYLE_END = re.compile(r"</style[^>]*>", _I)
_STYLE_ALONE = re.compile(r"<style[^>]*/>", _I)

# A line break right after <br> belongs to it. A <br> with attributes may run on, over later tags and lines, to
# the first ">" that a line break follows.
_BR_LINE_BREAK = re.compile(r"(<br(?:[" + _WS + r"].*?)?/?>)(?:\r?\n|\r)", _IS)
_BR_START = re.compile(r"<br", _I)
_BR_LINE_BREAK_END = re.compile(r">(?:\r?\n|\r)")
# Applied in order once the source's line breaks are gone; tags matching none are dropped afterwards.
_TAG_RULES = [
    (re.compile(r"<br(?:[" + _WS + r"][^>]*)?/?>", _I), "\n"),
    (re.compile(r"</div>", _I), "\n"),
    (re.compile(r"<hr[^>]*>", _I), "\n\n"),
    (re.compile(r"<li>", _I), "\n - "),
    (re.compile(r"</(?:ul|ol)>", _I), "\n\n"),
    (re.compile(r"</?p[^>]*>", _I), "\n\n"),  # any tag starting with p: <param>, a <pre> without </pre>, …
    (re.compile(r"</?table[^>]*>", _I), "\n\n"),
    (re.compile(r"</td[^>]*>", _I), " "),
    (re.compile(r"<th[^>]*>", _I), "\n\n"),  # also <thead>
    (re.compile(r"<tr[^>]*>", _I), "\n\n"),  # also <track>
]
_BLANK_LINES = re.compile(r"\n[" + _WS + r"]*\n[" + _WS + r"]*\n")
_LEADING_BLANK = re.compile(r"\A[" + _WS + r"]*\n[" + _WS + r"]*\n")


def html_to_text(html: str, *, line_length: int = LINE_LENGTH) -> str:
    """OTRS's plain-text rendering of ``html``: paragraphs as blank lines, ``> `` quotes, "[n]" link marks with
    the URLs listed at the end, lines wrapped at ``line_length`` when the text is longer than that."""
    links: list[str] = []

    def number_link(match: re.Match[str]) -> str:
        links.append(match.group(2))
        return f"[{len(links)}]"

    text = sub(_LINK, number_link, html, starts=_LINK_START, boundary=line_end)
    # A quote is converted on its own and set aside until the end; its stand-in is as long as OTRS's, because
    # the line wrapping counts it.
    quotes = QuoteStash(text)
    text = sub(_QUOTE, lambda m: quotes.put(_quoted(html_to_text(m.group(1), line_length=line_length))), text,
               starts=_QUOTE_START, boundary=next_gt, closing=_QUOTE_END)
    verbatim = Verbatim(text)
    text = verbatim.set_apart(text)
    text = sub(_COMMENT, "", text, starts=_COMMENT_START, boundary=_nowhere, closing=_COMMENT_END)
    text = _LEADING_WS.sub("", text)
    text = _join_lines(text)
    text = _drop_style(text)
    head_end = text.rfind(">") + 1  # every tag rule ends with ">"
    head = text[:head_end]
    for pattern, replacement in _TAG_RULES:
        head = pattern.sub(replacement, head)
    text = head + text[head_end:]
    text = re.sub(" {2,}", " ", text)  # after the tag rules ("<li> x" is " - x"), before the other tags go
    text = verbatim.put_back(text)
    text = drop_tags(text)  # "<" to the first ">" after at least one character: "<>" stays, "<><b>" goes
    text = verbatim.reveal(text)
    text = decode_entities(text)
    text = _BLANK_LINES.sub("\n\n", text)  # three line breaks or more, blanks between them: one blank line
    text = _LEADING_BLANK.sub("\n", text)
    # A line takes at least 4 characters, so OTRS cannot wrap at all below that width.
    if len(text) > line_length >= 4:
        text = re.sub(r"(.{4," + str(line_length) + r"})(?:[" + _WS + r"]|\Z)", "\\1\n", text)
    text = quotes.restore(text)
    if links:
        text += "\n\n" + "".join(f"[{n}] {url}\n" for n, url in enumerate(links, 1))
    return text


def _join_lines(text: str) -> str:
    """The source's line breaks are spaces, except right after ``<br>``, which makes its own."""
    text = text.replace("\r\n", "\n")
    text = re.sub(r"\n[" + _WS + r"]*", "\n", text)  # a break and the indentation after it count once
    text = sub(_BR_LINE_BREAK, r"\1", text, starts=_BR_START, boundary=_nowhere, closing=_BR_LINE_BREAK_END)
    return re.sub(r"[\r\n]", " ", text)


def _quoted(text: str) -> str:
    """Every line of ``text`` with ``> `` in front (a final line break opens no new line), then a line break."""
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
        return "> " + "\n> ".join(lines) + "\n\n"
    return "> " + "\n> ".join(lines) + "\n"


def _drop_style(text: str) -> str:
    """``_STYLE.sub("", text)``: after the end of the last closing tag only a self-closing one can match."""
    cut = 0
    for match in _STYLE_END.finditer(text):
        cut = match.end()
    head = sub(_STYLE, "", text[:cut], starts=_STYLE_START, boundary=next_gt)
    return head + sub(_STYLE_ALONE, "", text[cut:], starts=_STYLE_START, boundary=next_gt)


def _nowhere(text: str, opening: re.Match[str]) -> int:
    """Boundary of a pattern that may run to the end of the text: every start is tried."""
    return opening.start()

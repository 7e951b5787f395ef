"""Golden examples of OTRS's HTML-to-text conversion, written by hand.

Each expectation was checked against Znuny 7.0's ``HTMLUtils::ToAscii``; ``tests/oracle/test_html_to_ascii.py``
compares a large corpus against the running Znuny code. These stay readable on their own: they say what OTRS
shows in its plain view for each construct.
"""

from __future__ import annotations

import pytest

from otrs_ext.tickets.html import html_to_text
from otrs_ext.tickets.html_entities import decode_entities

GOLDEN = {
    # paragraphs open and close with a blank line; the text starts with one line break at most
    "paragraphs": ("<p>Hello <b>Jane</b>,</p><p>see the attached file.</p>",
                   "\nHello Jane,\n\nsee the attached file.\n\n"),
    # a closing </div> is one line break, the opening tag nothing: no leading line break
    "divs": ("<div>Hi,</div><div><br></div><div>thanks!</div>", "Hi,\n\nthanks!\n"),
    "br run": ("a<br><br><br><br>b", "a\n\nb"),
    "headings are plain text": ("<h1>Title</h1><h2>Sub</h2>text", "TitleSubtext"),
    # links become [n] at the place of the opening tag and are listed, verbatim, after the text;
    # a mailto: link gets its own address (otrs-ext used to print the previous link's URL)
    "links": ('see <a href="https://x.example/a?b=1&amp;c=2">here</a> or <a href="mailto:help@x.example">mail</a>',
              "see [1]here or [2]mail\n\n[1] https://x.example/a?b=1&amp;c=2\n[2] mailto:help@x.example\n"),
    "same URL twice": ('<a href="https://x.example">one</a> <a href="https://x.example">two</a>',
                       "[1]one [2]two\n\n[1] https://x.example\n[2] https://x.example\n"),
    "unquoted href is no link": ("<a href=https://x.example>x</a>", "x"),
    # an anchor without href swallows the text up to the next link's href on the same line
    "name anchor before a link": ('<a name="n">first</a> then <a href="https://x.example">second</a>',
                                  "[1]second\n\n[1] https://x.example\n"),
    "quote": ("Jane wrote:<blockquote type=\"cite\"><p>It is broken.</p><p>Help!</p></blockquote>",
              "Jane wrote:> \n> It is broken.\n> \n> Help!\n> \n\n"),
    # the first </blockquote> ends the quote: a nested quote loses its level
    "nested quote": ("<blockquote>a<blockquote>b</blockquote>c</blockquote>", "> ab\nc"),
    "list": ("<ul><li>one</li><li>two</li></ul>after", "\n - one\n - two\n\nafter"),
    "list item with attributes has no bullet": ('<ul><li class="MsoNormal">one</li></ul>', "one\n\n"),
    "table": ("<table><tr><th>H</th><th>I</th></tr><tr><td>a</td><td>b</td></tr></table>",
              "\nH\n\nI\n\na b \n\n"),
    "pre keeps lines and spaces": ("<pre>a\n  b<br>c</pre>", "\na\n  bc\n\n"),
    "image and the spaces around it": ('a <img src="cid:logo@x"> b', "a  b"),
    "source line breaks are spaces": ("one\ntwo\r\nthree", "one two three"),
    "space runs": ("a   b\t\tc", "a b\t\tc"),
    "comments, style, head": ("<head><title>T</title><style>p{}</style></head><!-- x --><p>b</p>", "T\n\nb\n\n"),
    "entities": ("&lt;b&gt; &amp;amp; &nbsp;&euro; &#x41;&#66; &copy2026 &lt2 &foo;",
                 "<b> &amp; \xa0€ AB &copy2026 &lt2 &foo;"),
    # longer than 78 characters: wrapped at the last blank within 78 characters; a longer word stays whole
    "wrap": ("word " * 20, "word " * 14 + "word\n" + "word " * 5 + "\n"),
    "long word": ("x" * 80, "x" * 80 + "\n"),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden(name: str) -> None:
    html, text = GOLDEN[name]
    assert html_to_text(html) == text


def test_quote_lines_are_wrapped_before_the_prefix() -> None:
    text = html_to_text("<blockquote>" + "abcd " * 15 + "abc z</blockquote>")
    assert text == "> " + "abcd " * 15 + "abc\n> z\n"


def test_links_inside_quotes_are_numbered_in_document_order() -> None:
    html = '<blockquote><a href="https://in.example">in</a></blockquote><a href="https://out.example">out</a>'
    assert html_to_text(html) == "> [1]in\n[2]out\n\n[1] https://in.example\n[2] https://out.example\n"


def test_line_length() -> None:
    assert html_to_text("word " * 10, line_length=20) == "word word word word\n" * 2 + "word word \n"
    assert html_to_text("word " * 10, line_length=3) == "word " * 10  # OTRS's pattern cannot match: no wrap


def test_private_use_characters_in_the_input_survive() -> None:
    # the conversion's own stand-ins are private-use characters; it must pick ones the text does not contain
    html = "".join(chr(c) for c in range(0xE000, 0xE010)) + "<pre>a  b</pre><blockquote>q</blockquote>"
    assert html_to_text(html) == "".join(chr(c) for c in range(0xE000, 0xE010)) + "\n\na  b\n\n> q\n"


@pytest.mark.parametrize(("reference", "char"), [
    ("&#xD800;", "&#xD800;"),  # a surrogate stays as written
    ("&#xFFFE;", "\ufffd"), ("&#xFDD0;", "\ufffd"), ("&#x110000;", "\ufffd"),
    ("&#128;", "\x80"),  # no Windows-1252 mapping
    ("&#\u0663;", "\x00"),  # an Arabic-Indic digit matches, but only ASCII digits count
    ("&lt\u0301", "&lt\u0301"),  # a combining mark continues the word: no reference
    ("&lt\u24b6", "&lt\u24b6"),  # so does a circled letter
    ("&lt\u00b2", "<\u00b2"),  # a superscript digit does not
])
def test_character_references(reference: str, char: str) -> None:
    assert decode_entities(reference) == char

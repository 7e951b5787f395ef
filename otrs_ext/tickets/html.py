"""The plain-text rendering OTRS stores in ``a_body`` for an HTML article.

OTRS keeps the HTML as the ``file-2`` attachment and the text in ``a_body``, which is what its search index,
quoting and text-only screens read. Paragraph tags open and close on a new line and the text ends with a
newline, which reproduces the Znuny 7.0 golden row (``<p>Hello</p>`` → ``"\\nHello\\n\\n"``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "pre"}
_SKIP = {"script", "style", "head", "title"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self.out.append("\n")
            self.pre += tag == "pre"
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n - ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href")
            if href and not href.startswith(("mailto:", "#")):
                self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.out.append("\n")
            self.pre -= tag == "pre"
        elif tag == "a" and self.links:
            self.out.append(f" [{self.links[-1]}]")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text + "\n"

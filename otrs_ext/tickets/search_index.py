"""OTRS's DB full-text index (``article_search_index``), written in the article's own transaction.

OTRS 6+ indexes every article as it creates it when ``Ticket::SearchIndexModule`` is the DB module (the
default); its ``TicketSearch`` with ``Fulltext``/``Body``/``From``... then matches ``article_value LIKE``.
Articles without rows stay invisible to the agents' full-text search until OTRS's rebuild cron catches up.
otrs-ext therefore writes the same rows as OTRS, one per searchable field (``MIMEBase_From``, ``_To``, ``_Cc``,
``_Bcc``, ``_Subject``, ``_Body`` and ``_AttachmentName``), as observed in Znuny 7.0's rows:

* empty fields get no row; From, To, Cc, Bcc and the attachment names are lowercased whole, each run of line
  breaks and each tab becomes one space, and leading/trailing whitespace goes;
* Subject and Body are cut into words at whitespace; each word loses what the ``Ticket::SearchIndex::Filters``
  regular expressions match, is lowercased, and is dropped when it is a stop word (all valid
  ``Ticket::SearchIndex::StopWords###<language>`` lists together) or shorter/longer than ``WordLengthMin``/
  ``WordLengthMax``; of the first ``WordCountMax`` words left, each distinct word is kept once, in order,
  joined by spaces (possibly an empty value: the row is written all the same);
* ``Ticket::SearchIndex::ForceUnfilteredStorage`` treats Subject and Body like the address fields;
* the attachment names (``Ticket::Article::Backend::MIMEBase::IndexAttachmentNames``) are those of OTRS's
  attachment index without the HTML body and the inline images the HTML shows, in OTRS's FileID order as
  text ("1", "10", "2"), joined by spaces;
* ``search_index_needs_rebuild`` stays 1, as Znuny leaves it (its rebuild cron indexes the article again).

Every parameter comes from the installation's own SysConfig (``otrs_ext.db.sysconfig``), re-read at most once a
minute. With another index module, an unreadable setting or OTRS 5 (whose StaticDB module is configured in Perl
files otrs-ext cannot see, and is not OTRS 5's default) no row is written and OTRS's own rebuild applies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from schema_maps import OtrsSchema

from ..db.sysconfig import CachedSettings, SysConfig, sub_settings
from ..errors import ConfigurationError
from .perl_text import PERL_SPACE, perl_lc, perl_regex, perl_split_words
from .storage import AttachmentMeta, AttachmentStore, StoredFile

if TYPE_CHECKING:
    from .write import Write

log = logging.getLogger(__name__)

DB_MODULE = "Kernel::System::Ticket::ArticleSearchIndex::DB"
MODULE_SETTING = "Ticket::SearchIndexModule"
_SETTINGS = (MODULE_SETTING, "Ticket::SearchIndex::Attribute", "Ticket::SearchIndex::Filters",
             "Ticket::SearchIndex::ForceUnfilteredStorage", "Ticket::Article::Backend::MIMEBase::IndexAttachmentNames")
_STOP_WORDS = "Ticket::SearchIndex::StopWords"
# article column -> index key; Subject and Body are cut into words, the others kept whole
_FIELDS = {"a_from": "MIMEBase_From", "a_to": "MIMEBase_To", "a_cc": "MIMEBase_Cc", "a_bcc": "MIMEBase_Bcc",
           "a_subject": "MIMEBase_Subject", "a_body": "MIMEBase_Body"}
_WORDED = frozenset({"MIMEBase_Subject", "MIMEBase_Body"})
ATTACHMENT_KEY = "MIMEBase_AttachmentName"
_LINE_BREAKS = re.compile(r"(?:\n\r|\n|\r|\f)+")
_EDGE_SPACE = re.compile(f"\\A[{PERL_SPACE}]+|[{PERL_SPACE}]+\\Z")


@dataclass(frozen=True)
class IndexRules:
    """How the installation turns article text into ``article_value`` strings."""

    word_count_max: int = 1000
    word_length_min: int = 3
    word_length_max: int = 30
    filters: tuple[re.Pattern[str], ...] = ()
    stop_words: frozenset[str] = frozenset()
    unfiltered: bool = False
    attachment_names: bool = True

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> IndexRules | None:
        """The rules, or None when the installation does not use the DB index module."""
        if values.get(MODULE_SETTING) != DB_MODULE:
            return None
        attribute = values.get("Ticket::SearchIndex::Attribute") or {}
        stop_words = sub_settings(values, _STOP_WORDS)
        if not isinstance(attribute, dict) or not all(isinstance(v, list) for v in stop_words.values()):
            raise ConfigurationError("Ticket::SearchIndex::Attribute or ::StopWords has not OTRS's shape")
        return cls(
            # OTRS's own fallbacks for an empty or 0 value
            word_count_max=_number(attribute.get("WordCountMax")) or 1000,
            word_length_min=_number(attribute.get("WordLengthMin")) or 3,
            word_length_max=_number(attribute.get("WordLengthMax")) or 30,
            filters=tuple(perl_regex(str(f)) for f in values.get("Ticket::SearchIndex::Filters") or ()),
            stop_words=frozenset(perl_lc(str(w)) for words in stop_words.values() for w in words
                                 if w is not None and str(w) != ""),
            unfiltered=_true(values.get("Ticket::SearchIndex::ForceUnfilteredStorage")),
            attachment_names=_true(values.get("Ticket::Article::Backend::MIMEBase::IndexAttachmentNames")),
        )

    def words(self, text: str) -> str:
        """A Subject or Body as OTRS indexes it."""
        kept: list[str] = []
        for word in perl_split_words(text):
            for pattern in self.filters:
                if not word:
                    break
                word = pattern.sub("", word)
            if not word:
                continue
            word = perl_lc(word)
            if word in self.stop_words or not self.word_length_min <= len(word) <= self.word_length_max:
                continue
            kept.append(word)
            if len(kept) == self.word_count_max:
                break
        return " ".join(dict.fromkeys(kept))

    @staticmethod
    def whole(text: str) -> str:
        """An address field (or any field, unfiltered) as OTRS indexes it."""
        text = _LINE_BREAKS.sub(" ", perl_lc(text)).replace("\t", " ")
        return _EDGE_SPACE.sub("", text)

    def value(self, key: str, text: str) -> str:
        return self.words(text) if key in _WORDED and not self.unfiltered else self.whole(text)


class ArticleSearchIndex:
    """Writes an article's ``article_search_index`` rows when the installation indexes articles in the DB."""

    def __init__(self, schema: OtrsSchema, *, ttl: float = 60.0) -> None:
        self.schema = schema
        self.sysconfig = SysConfig(schema)
        self._rules = CachedSettings(self._load, ttl=ttl)

    @property
    def supported(self) -> bool:
        return self.schema.traits.article_search_index and self.sysconfig.available

    def rules(self, conn: Connection) -> IndexRules | None:
        if not self.supported:
            return None
        return self._rules.get(conn)

    def _load(self, conn: Connection) -> IndexRules | None:
        values = self.sysconfig.read(conn, names=_SETTINGS, prefixes=[f"{_STOP_WORDS}###"])
        try:
            return IndexRules.from_settings(values)
        except ConfigurationError as exc:
            # Articles must still be written; OTRS's rebuild cron indexes them as it always did.
            log.warning("article_search_index rows are not written: %s", exc.message,
                        extra={"event": "search_index_config_unusable"})
            return None

    def add(self, w: Write, ticket_id: int, article_id: int, columns: Mapping[str, Any],
            files: Sequence[StoredFile], store: AttachmentStore, content_path: str) -> None:
        """The rows of a new article (it has none yet, so no DELETE first: that would only take gap locks)."""
        rules = self.rules(w.conn)
        if rules is None:
            return
        values = {key: rules.value(key, columns.get(column) or "")
                  for column, key in _FIELDS.items() if columns.get(column)}
        if rules.attachment_names and files:
            names = attachment_names(store.index(w.conn, article_id, content_path), files)
            if names:
                values[ATTACHMENT_KEY] = rules.whole(names)
        if not values:
            return
        table = self.schema.tables.article_search_index
        w.conn.execute(table.insert(), [{"ticket_id": ticket_id, "article_id": article_id, "article_key": key,
                                         "article_value": value} for key, value in sorted(values.items())])


def attachment_names(index: Sequence[AttachmentMeta], files: Sequence[StoredFile]) -> str:
    """The names OTRS indexes: its attachment index without the plain and HTML body parts and the inline
    images the HTML body shows, in the order of the FileIDs as text, joined by spaces."""
    entries = [(meta, _disposition(meta)) for meta in index]
    plain = next((m for m, d in entries if m.filename == "file-1" and _has(m.content_type, "text/plain")
                  and d == "inline"), None)
    html = next((m for m, d in entries if (re.fullmatch(r"file-[12]", m.filename) or m.filename == "file-1.html")
                 and _has(m.content_type, "text/html") and d == "inline"), None)
    if plain is None and html is None:
        plain = next((m for m in index if m.filename == "file-1" and _has(m.content_type, "text/plain")), None)
    dropped = {m.file_id for m in (plain, html) if m is not None}
    if html is not None:
        body = _content(html.filename, files)
        for meta in index:
            if _has(meta.content_type, "image") and meta.content_id and _shows(body, meta.content_id):
                dropped.add(meta.file_id)
    kept = sorted((m for m in index if m.file_id not in dropped), key=lambda m: str(m.file_id))
    return " ".join(m.filename for m in kept)


def _disposition(meta: AttachmentMeta) -> str:
    """OTRS's defaults for a file stored without a disposition (``ArticleAttachmentIndexRaw``)."""
    if meta.disposition:
        return meta.disposition
    if meta.content_id and _has(meta.content_type, "image"):
        return "inline"
    if re.search(r"file-[12]", meta.filename):
        return "inline"
    return "attachment"


def _has(content_type: str, word: str) -> bool:
    return word.lower() in content_type.lower()


def _content(filename: str, files: Sequence[StoredFile]) -> str:
    """The HTML body's text: the first file of that name (later duplicates were renamed when stored)."""
    for f in files:
        if f.filename == filename:
            return f.content.decode("utf-8", "replace")
    return ""


def _shows(html: str, content_id: str) -> bool:
    """Whether an ``<img ... src="cid:...">`` of the HTML body shows the image with this Content-ID."""
    match = re.match(r"<(.*)>\Z", content_id, re.S)
    image_id = match.group(1) if match else ""
    pattern = r"<img.+src=['|\"]cid:" + re.escape(image_id) + r"['|\"].*>"
    return re.search(pattern, html, re.I | re.S) is not None


def _number(value: Any) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def _true(value: Any) -> bool:
    return str(value or "0").strip() not in ("", "0")

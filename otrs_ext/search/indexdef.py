"""The ``articles`` real-time search index, as data, and the searchd config that serves it.

One document per OTRS article (document id = ``article.id``), carrying a copy of the ticket fields that
searches filter or sort on, so a search never has to join back to MariaDB before paging.

Text settings, and why (all measured against Sphinx 2.2.11, see shared/reference/COMPONENTS.md §2):

``dict = keywords``
    Needed for prefix/infix wildcards on an RT index without bloating it with every substring.
``morphology = stem_enru``
    Helpdesk mail is Russian and English; ``серверов``/``сервер`` and ``servers``/``server`` must match.
    (Lemmatizers would be better but need ``ru.pak`` dictionaries Debian does not ship.)
``min_word_len = 1``
    Fragments of ticket numbers, single-letter product codes and ``C`` must be searchable.
``min_infix_len = 3``
    Enables ``*xampl*`` / ``*reg.ru`` searches; 3 keeps the keyword dictionary small.
``index_exact_words = 1``
    Keeps the unstemmed form too, so ``=серверов`` finds exactly that word form despite stemming.
``charset_table``
    Latin, digits, ``_`` and Cyrillic, with ``Ё``/``ё`` folded to ``е`` (people type ``елка`` for ``ёлка``).
    Written out because Sphinx 2.2 does not know the ``non_cjk`` alias.
``wordforms``
    ``stem_ru`` over-stems ``домены`` to ``дом`` and leaves ``ошибок`` unstemmed; a small generated file maps
    those forms to the stems of their words (``otrs_ext/search/wordforms.py``).
``blend_chars`` / ``blend_mode``
    ``.``, ``@``, ``-``, ``+`` are indexed both as part of a whole token (``support@reg.ru``) and as
    separators (``support``, ``reg``, ``ru``), so e-mail addresses, domains and IPs (``10.0.0.1``) are
    findable as exact tokens. ``trim_both`` indexes the whole token without blend characters at its ends
    (``reg.ru`` of ``(see reg.ru.)``); the other trim modes would add the half-trimmed forms, which the query
    layer never asks for (it trims terms the same way), at 15% of the indexing time. ``skip_pure`` drops
    tokens that are only blend chars (``--``, ``...``). The ``*_runs`` fields add the pieces in between
    (``reg.ru`` of ``support@reg.ru``, see ``blends``), so a domain search is one exact keyword that also
    matches e-mails, subdomains and URLs.
``expand_keywords = 0``
    Ranking stays predictable; the query layer adds wildcards itself where it wants them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import wordforms

INDEX_NAME = "articles"

#: Text fields of an article and its ticket. In Sphinx 2.2 RT indexes field text is not stored: keep text in MariaDB.
TEXT_FIELDS: tuple[str, ...] = ("subject", "body", "a_from", "a_to", "a_cc", "attachment_names", "tn", "title")
#: text fields whose blended tokens' inner runs are indexed too (``blends.runs``); ticket numbers have none
RUN_SOURCES: tuple[str, ...] = ("subject", "body", "a_from", "a_to", "a_cc", "attachment_names", "title")


def runs_field(name: str) -> str:
    """The field holding the inner runs of field ``name``'s blended tokens."""
    return f"{name}_runs"


#: Full-text fields (``rt_field``): the text fields, then one runs field per run source.
FIELDS: tuple[str, ...] = (*TEXT_FIELDS, *(runs_field(name) for name in RUN_SOURCES))


@dataclass(frozen=True)
class Attribute:
    """A filterable/sortable column: ``kind`` is the suffix of the ``rt_attr_*`` directive."""

    name: str
    kind: str  # uint | bigint | timestamp | string | multi
    doc: str = ""


#: Attributes in declaration order (``DESCRIBE articles`` lists them grouped by type instead).
ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("ticket_id", "bigint"),
    Attribute("article_id", "bigint", "also the document id; kept as an attribute for SELECT lists"),
    Attribute("queue_id", "uint"),
    Attribute("state_id", "uint"),
    Attribute("state_type_id", "uint", "open/closed/... without a lookup per state"),
    Attribute("lock_id", "uint"),
    Attribute("owner_id", "uint"),
    Attribute("responsible_id", "uint"),
    Attribute("priority_id", "uint"),
    Attribute("sender_type_id", "uint"),
    Attribute("channel_id", "uint"),
    Attribute("visible_for_customer", "uint", "0/1; uint rather than bool so Sphinx and Manticore agree"),
    Attribute("ticket_created", "timestamp"),
    Attribute("ticket_changed", "timestamp"),
    Attribute("article_created", "timestamp"),
    Attribute("customer_id", "string", "returned in results; filter on customer_id_crc instead"),
    Attribute("customer_user_id", "string", "returned in results; filter on customer_user_crc instead"),
    Attribute("tag_ids", "multi", "MVA of tag ids"),
    Attribute("customer_id_crc", "uint", "CRC32 of customer_id: Sphinx 2.2 cannot filter on strings fast"),
    Attribute("customer_user_crc", "uint", "CRC32 of customer_user_id, same reason"),
    Attribute("title_crc", "uint", "CRC32 of the ticket title: lets reconcile notice a title change the index missed"),
)

#: Every column of the index in order, starting with ``id``. REPLACE overwrites the whole document and
#: zeroes any column it omits, so writers should always send all of these.
COLUMNS: tuple[str, ...] = ("id", *FIELDS, *(attribute.name for attribute in ATTRIBUTES))

CHARSET_TABLE = (
    "0..9, A..Z->a..z, _, a..z, "
    "U+410..U+42F->U+430..U+44F, U+430..U+44F, "  # А..Я -> а..я, а..я
    "U+401->U+435, U+451->U+435, "  # Ё, ё -> е
    "U+E000..U+E003"  # blend characters inside the runs fields (blends.SEPARATOR_CODES)
)

#: Text-processing settings shared by both flavours (the module docstring says why each is set).
TEXT_SETTINGS: tuple[tuple[str, str], ...] = (
    ("dict", "keywords"),
    ("morphology", "stem_enru"),
    ("min_word_len", "1"),
    ("min_infix_len", "3"),
    ("index_exact_words", "1"),
    ("expand_keywords", "0"),
    ("charset_table", CHARSET_TABLE),
    ("blend_chars", "., @, -, +"),
    ("blend_mode", "trim_both, skip_pure"),
)

ENGINES = ("sphinx", "manticore")
#: older spellings still accepted (``--flavour sphinx2``)
ENGINE_ALIASES = {"sphinx2": "sphinx"}
FLAVOURS = ("sphinx2", "manticore")  # the old names, kept for callers of the first version

WORDFORMS_FILE = "wordforms.txt"


def engine_name(engine: str) -> str:
    """``sphinx`` or ``manticore`` for any accepted spelling; ValueError otherwise."""
    name = ENGINE_ALIASES.get(engine, engine)
    if name not in ENGINES:
        raise ValueError(f"unknown search engine {engine!r}; use one of {', '.join(ENGINES)}")
    return name


def render_config(*, base_dir: Path, port: int, flavour: str = "sphinx", mem_limit: str = "256M",
                  host: str = "127.0.0.1") -> str:
    """Return a complete searchd config (index + searchd sections) with all state under ``base_dir``.

    ``flavour`` (the engine) ``"sphinx"`` targets Sphinx 2.2.11 (tested); ``"manticore"`` targets Manticore
    Search in plain (config-file) mode, which keeps the same ``index``/``rt_*`` syntax but speaks ``:mysql`` in
    ``listen`` and has dropped ``workers`` and ``read_timeout`` (``network_timeout`` replaced it).
    ``mem_limit`` is the RT RAM chunk size. The config names ``support_files(base_dir)``: write them first.
    """
    engine = engine_name(flavour)
    base = Path(base_dir)
    index_lines = [
        ("type", "rt"),
        ("path", str(base / "data" / INDEX_NAME)),
        ("rt_mem_limit", mem_limit),
        *(("rt_field", name) for name in FIELDS),
        *((f"rt_attr_{attribute.kind}", attribute.name) for attribute in ATTRIBUTES),
        *TEXT_SETTINGS,
        # stem_ru over-stems a few words (домены -> дом); see otrs_ext/search/wordforms.py
        ("wordforms", str(base / WORDFORMS_FILE)),
    ]
    searchd_lines = [
        ("listen", f"{host}:{port}:{'mysql41' if engine == 'sphinx' else 'mysql'}"),
        ("log", str(base / "log" / "searchd.log")),
        ("query_log", str(base / "log" / "query.log")),
        ("pid_file", str(base / "searchd.pid")),
        # RT writes go to this binlog first and are replayed after a crash
        ("binlog_path", str(base / "binlog")),
        # multi-row REPLACE batches of the reindex stay well below this
        ("max_packet_size", "32M"),
    ]
    if engine == "sphinx":
        # 2.2 defaults are fine too, but spelled out: threads is the only mode RT indexes support well
        searchd_lines += [("workers", "threads"), ("read_timeout", "5")]
    else:
        searchd_lines += [("network_timeout", "5")]
    return (
        f"# generated by otrs_ext.search.indexdef (engine {engine}); edits are overwritten\n"
        + _section(f"index {INDEX_NAME}", index_lines)
        + "\n"
        + _section("searchd", searchd_lines)
    )


def support_files(base_dir: Path) -> dict[Path, str]:
    """Files the rendered config refers to, path -> content; write them before searchd starts."""
    return {Path(base_dir) / WORDFORMS_FILE: wordforms.render()}


def write_support_files(base_dir: Path) -> list[Path]:
    """Create the state directories and write ``support_files``; returns the files written."""
    for directory in state_dirs(base_dir):
        directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, content in support_files(base_dir).items():
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def state_dirs(base_dir: Path) -> tuple[Path, ...]:
    """Directories ``render_config`` points searchd at; they must exist before searchd starts."""
    base = Path(base_dir)
    return (base / "data", base / "log", base / "binlog")


def _section(header: str, lines: list[tuple[str, str]]) -> str:
    width = max(len(key) for key, _ in lines)
    body = "".join(f"    {key.ljust(width)} = {value}\n" for key, value in lines)
    return f"{header}\n{{\n{body}}}\n"

"""Fixes for the Russian stemmer of Sphinx 2.2 / Manticore (``stem_ru``), as a ``wordforms`` file.

``stem_ru`` is a suffix stripper. It over-stems some forms into another word (``домены``/``домена`` →
``дом``, "house") and leaves the genitive plural with a fleeting vowel unstemmed (``ошибок`` stays
``ошибок`` while ``ошибка``/``ошибки`` → ``ошибк``), so a search for one form misses the others. Each case
below was found with ``CALL KEYWORDS('<form>', 'articles')`` against Debian's sphinxsearch 2.2.11.

A wordform maps a token to the stem the other forms of the word already get; the stemmer leaves that stem
unchanged, so indexing and queries agree. Sources are written after ``charset_table`` folding (``ё`` → ``е``).
``tests/search/test_config.py`` checks every group below collapses to one keyword on a real searchd.
"""

from __future__ import annotations

#: source form -> the keyword the regular forms of the same word stem to
WORDFORMS: dict[str, str] = {
    # over-stemmed into "дом" (house)
    "домены": "домен",
    "домена": "домен",
    # over-stemmed: "запись" -> "зап", the other forms -> "запис"
    "запись": "запис",
    # "писем" -> "пис" (as "писать"), the other forms -> "письм"
    "писем": "письм",
    # "проблем" -> "пробл", the other forms -> "проблем"
    "проблем": "проблем",
    # genitive plural with a fleeting vowel, left unstemmed
    "ошибок": "ошибк",
    "заявок": "заявк",
    "ссылок": "ссылк",
    "настроек": "настройк",
    "рассылок": "рассылк",
    "отправок": "отправк",
    "покупок": "покупк",
    "подписок": "подписк",
    "блокировок": "блокировк",
    "папок": "папк",
    "учеток": "учетк",
    "ячеек": "ячейк",
    "денег": "деньг",
    # "день" -> "ден", but "дня"/"дней"/"днями" each stem differently
    "дня": "ден",
    "дню": "ден",
    "дней": "ден",
    "днем": "ден",
    "дням": "ден",
    "днями": "ден",
    "днях": "ден",
}

#: forms that must end up as one keyword (the test's checklist; the first is the dictionary form)
SAME_WORD: tuple[tuple[str, ...], ...] = (
    ("домен", "домена", "домену", "доменом", "домене", "домены", "доменов", "доменам", "доменами", "доменах"),
    ("запись", "записи", "записей", "записями"),
    ("письмо", "письма", "писем", "письмами"),
    ("проблема", "проблемы", "проблем", "проблемами"),
    ("ошибка", "ошибки", "ошибок", "ошибками"),
    ("заявка", "заявки", "заявок", "заявками"),
    ("ссылка", "ссылки", "ссылок"),
    ("настройка", "настройки", "настроек"),
    ("рассылка", "рассылки", "рассылок"),
    ("папка", "папки", "папок"),
    ("учётка", "учётки", "учёток"),
    ("деньги", "денег", "деньгами"),
    ("день", "дня", "дней", "днями"),
    ("сервер", "сервера", "серверы", "серверов"),
)


def render() -> str:
    """The ``wordforms`` file: one ``source > destination`` per line (UTF-8; no comments: 2.2 has none)."""
    return "".join(f"{source} > {target}\n" for source, target in WORDFORMS.items())

"""The search language: parsing, rendering, and what hostile input turns into (no services needed)."""

from __future__ import annotations

import re

import pytest

from otrs_ext.errors import ValidationError
from otrs_ext.search.query import Any_, Domain, Not, Phrase, Scoped, Word, parse

# everything the renderer may emit: word characters of the index, spaces and its own operators
SAFE = re.compile(r'^[0-9a-z_\u0401\u0410-\u044f\u0451\ue000-\ue003 "|()@,=*\-.+]*$')
# a domain term: the whole blended token, or the encoded run inside a longer token (blends.encode)
R = "(=reg.ru | =reg\ue000ru)"


@pytest.mark.parametrize(("text", "match"), [
    ("printer offline", "printer offline"),
    ('"disk quota exceeded"', '"disk quota exceeded"'),
    ("serv*", "serv*"),
    ("printer -spam", "printer -spam"),
    ("dns OR mx", "(dns | mx)"),
    ("dns | mx | spf", "(dns | mx | spf)"),
    ("a dns OR mx b", "a (dns | mx) b"),
    ("from:ivan", "(@a_from ivan)"),
    ("to:support", "(@(a_to,a_cc) support)"),
    ('subject:"счёт за хостинг"', '(@subject "счёт за хостинг")'),
    ("title:Принтер body:горит", "(@title принтер) (@body горит)"),
    ("-from:robot отчёт", "-((@a_from robot)) отчёт"),
    ("=серверов", "=серверов"),
    ("2026010110000017", "=2026010110000017"),
    ("reg.ru", R),
    ("REG.RU", R),
    ("ivan@mail.ru", "(=ivan@mail.ru | =ivan\ue001mail\ue000ru)"),
    ("192.168.1.10", "(=192.168.1.10 | =192\ue000168\ue0001\ue00010)"),
    ("192.168*", "(192.168* | 192\ue000168*)"),
    ("shop-42.ru", "(=shop-42.ru | =shop\ue00242\ue000ru)"),
    ("-reg.ru dns", f"-({R}) dns"),
    ("from:reg.ru", f"(@(a_from,a_from_runs) {R})"),
    ("to:reg.ru OR to:mail.ru", f"((@(a_to,a_cc,a_to_runs,a_cc_runs) {R}) | "
                                "(@(a_to,a_cc,a_to_runs,a_cc_runs) (=mail.ru | =mail\ue000ru)))"),
    # longer than the indexed runs: the phrase of the parts and the infix
    ("a.b.c.d.e.f.g.h.i", '("=a =b =c =d =e =f =g =h =i" *a.b.c.d.e.f.g.h.i*)'),
    ("Ticket#2026010110000017", '"ticket =2026010110000017"'),
    ("http://example.com/x", '"http =example =com x"'.replace("=example =com", "example com")),
])
def test_renders_sphinx_extended_syntax(text: str, match: str) -> None:
    assert parse(text).match == match


def test_ast_shapes() -> None:
    q = parse('dns OR mx -spam from:"ivan petrov" reg.ru pri*')
    assert q.clauses == (
        Any_((Word("dns"), Word("mx"))), Not(Word("spam")), Scoped(("a_from",), Phrase(("ivan", "petrov"))),
        Domain(("reg", "ru"), "reg.ru"), Word("pri", prefix=True),
    )


def test_highlight_query_has_positive_terms_only_without_fields_or_infixes() -> None:
    q = parse("from:ivan reg.ru -spam серв*")
    assert q.highlight == 'ivan | "=reg =ru" | серв*'


@pytest.mark.parametrize(("text", "message"), [
    ("", "nothing searchable"),
    ("   ", "nothing searchable"),
    ("-spam", "exclusions (-word) alone"),
    ("-spam -ham", "exclusions (-word) alone"),
    ("OR dns", "OR needs a term on both sides"),
    ("dns OR", "OR needs a term on both sides"),
    ("dns OR OR mx", "OR needs a term on both sides"),
    ("dns OR -mx", "cannot be one side of OR"),
    ("se*", "at least 3 characters"),
    ("from:", "needs a word after it"),
    ("日本語 ★", "nothing searchable"),
    ("x " * 40, "too many terms"),
    ("a" * 501, "too long"),
])
def test_invalid_queries_are_validation_errors_with_readable_messages(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(text)
    assert caught.value.problems[0][0] == "q"
    assert message in caught.value.problems[0][1]


HOSTILE = [
    "it's \\ \" ')", "')) OR 1=1 --", "'); DROP TABLE ticket; --", "\\' OR MATCH('*') #", "a) | (@* b",
    "@body", "@(a_from,a_to) x", "x ) ) ) (((", '"unterminated', 'a"b"c', "||| a |||", "x\\", "\\\\\\'",
    "~/^$<!= x", "a NEAR/3 b", "\"a b\"~5", "x @@ y", "@@relaxed x", "\x00 x \x1a", "😀 ёлка 🎄",
    "SELECT * FROM articles; SHOW TABLES", "a\nb\tc", "=", "-", "*", "**ab**", "a -", "a -(b", "MAYBE x",
    "x SENTENCE y", "x << y", "ĝis ŝlosilo", "ІЇЄ україна",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_renders_only_safe_characters(text: str) -> None:
    try:
        q = parse(text)
    except ValidationError:
        return  # refused with a message: fine
    assert SAFE.match(q.match), q.match
    assert q.match.count('"') % 2 == 0 and q.match.count("(") == q.match.count(")")
    assert "'" not in q.match and "\\" not in q.match and ";" not in q.match

"""Perl's text semantics, checked against Perl itself (the ``perl`` the Znuny oracle runs on), character by
character over all of Unicode and pattern by pattern over awkward words."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from otrs_ext.tickets.perl_text import UnsupportedPerl, perl_lc, perl_regex, perl_split_words

PERL = shutil.which("perl")
pytestmark = pytest.mark.skipif(PERL is None, reason="perl is not installed (the Znuny oracle needs it too)")

# Every code point but the surrogates, as OTRS's UTF-8 flagged strings hold them.
_ALL = "next if $_ >= 0xD800 && $_ <= 0xDFFF; my $c = chr($_); utf8::upgrade($c);"


def _perl(script: str, stdin: bytes = b"") -> bytes:
    return subprocess.run([PERL, "-e", script], input=stdin, capture_output=True, check=True).stdout


def _ranges(points: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for cp in points:
        if out and cp == out[-1][1] + 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return [(a, b) for a, b in out]


def _python_points(pattern: re.Pattern[str]) -> list[int]:
    return [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and pattern.fullmatch(chr(cp))]


@pytest.mark.parametrize("klass", [r"\w", r"\W", r"\s", r"\S", r"\h", r"\v", r"[^\w]", r"[\w\-]", r"\p{L}",
                                   r"\p{Nd}", r"\P{Lu}"])
def test_character_classes_match_what_perl_matches(klass: str) -> None:
    perl = _perl(f"for (0..0x10FFFF) {{ {_ALL} print \"$_\\n\" if $c =~ /\\A{klass}\\z/ }}")
    expected = [int(x) for x in perl.split()]
    assert _ranges(_python_points(perl_regex(klass))) == _ranges(expected)


def test_lc_lowers_every_character_as_perl_does() -> None:
    perl = _perl(f"binmode STDOUT, ':utf8'; for (0..0x10FFFF) {{ {_ALL} my $l = lc $c; "
                 "print \"$_ \", join(',', map { ord } split //, $l), \"\\n\" if $l ne $c }")
    expected = {int(cp): "".join(chr(int(x)) for x in low.split(",")) for cp, low in
                (line.split(" ") for line in perl.decode().splitlines())}
    mine = {cp: perl_lc(chr(cp)) for cp in range(0x110000)
            if not 0xD800 <= cp <= 0xDFFF and perl_lc(chr(cp)) != chr(cp)}
    assert mine == expected
    # in context too: Perl writes no final sigma
    assert perl_lc("ΣΟΦΟΣ ΟΔΟΣ.") == "σοφοσ οδοσ."


WORDS = ["help...", "(urgent)", "²³½", "©®™", "ÀÀÀ", "x‿", "http://x.y/z?q=1&r=2", "'quoted'", "a.b.c.", "",
         "e\u0301\u0301", "\u0301\u0301", "ⓐⓑ", "a\u200db", "«Ёлка»", "x\x1cy", "foo_bar", "ab12", "\u00a0a",
         "tab\there", "line\nbreak", "end\n", "WORD word", "$^", "[x]"]
PATTERNS = [r'[,\&\<\>\?"\!\*\|;\[\]\(\)\+\$\^=]', r"^[':.]|[':.]$", r"^[^\w]+$", r"\W+", r"\b\w", r"\B.",
            r"\d", r"\s", r"\S+\z", r"x\Z", r"\p{Lu}", r"[\p{P}\p{S}]", r"\x{2460}-\x{24FF}", r"[\x{24B6}-\x{24E9}]",
            r"\Q.*\E", r"(?<w>o)\k<w>", r"[]a]", r"[^]a]", r"\e|\t", r"o{2}", r"[a-c-]"]


def test_substitutions_leave_what_perl_leaves() -> None:
    script = ("use utf8; binmode STDIN, ':utf8'; binmode STDOUT, ':utf8'; local $/; "
              "my ($p, $w) = @{ JSON::PP->new->decode(<STDIN>) }; my @out; "
              "for my $pat (@$p) { for my $word (@$w) { my $x = $word; utf8::upgrade($x); $x =~ s/$pat//g; "
              "push @out, $x } } print JSON::PP->new->encode(\\@out);")
    perl = json.loads(subprocess.run([PERL, "-MJSON::PP", "-e", script],
                                     input=json.dumps([PATTERNS, WORDS]).encode(), capture_output=True,
                                     check=True).stdout)
    mine = [perl_regex(p).sub("", w) for p in PATTERNS for w in WORDS]
    differences = [(p, w, m, x) for (p, w), m, x in zip(((p, w) for p in PATTERNS for w in WORDS), mine, perl,
                                                         strict=True) if m != x]
    assert differences == []


def test_split_at_perl_whitespace_only() -> None:
    assert perl_split_words(" a\u00a0b\x1cc\u3000d\u200be ") == ["a", "b\x1cc", "d\u200be"]


@pytest.mark.parametrize("pattern", [r"\K", r"(?{ 1 })", r"[[:alpha:]]", r"\N{U+263A}", r"\X", r"(?|a|b)",
                                     r"\p{Greek}", r"\G"])
def test_what_cannot_be_translated_faithfully_is_refused(pattern: str) -> None:
    with pytest.raises(UnsupportedPerl):
        perl_regex(pattern)

"""HTML -> plain text, input by input, against Znuny 7.0's own ``Kernel::System::HTMLUtils::ToAscii`` (issue 9
item 5): ``a_body`` of an HTML article, OTRS's plain view, quotes in replies and its search index all read it.

Corpus (our own inputs, in ``html_corpus/``): mails as real clients write them (``*.html``, each also with CRLF and
CR line ends), small cases of every construct (``snippets.json``), and documents generated from HTML pieces with a
fixed seed. The expected texts are not stored: every run asks Znuny, in one Perl process
(``html_to_ascii.pl``). Hand-written expectations that read on their own are in ``tests/tickets/test_html.py``.

ToAscii needs Kernel::Config (its wrap width), Encode and Log, no database (measured: no connection is opened), so
Znuny runs from the packaged tree with a Config.pm of our own; only when Znuny's Perl modules are missing does
this fall back to the ``oracle`` fixture, whose setup-znuny installs them. It never skips.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.paths import SHARED

from otrs_ext.tickets.html import html_to_text

HERE = Path(__file__).parent
CORPUS = HERE / "html_corpus"
GLUE = HERE / "html_to_ascii.pl"
TREE = SHARED / "oracle" / "znuny-7.0"

ToAscii = Callable[..., list[str]]

CONFIG_PM = """# Kernel/Config.pm for html_to_ascii.pl: ToAscii reads only the configuration, no database.
package Kernel::Config;
use strict;
use warnings;
use utf8;
sub Load {
    my $Self = shift;
    $Self->{Home} = '%(tree)s';
    $Self->{DatabaseDSN} = 'DBI:mysql:database=none;host=127.0.0.1;port=1;';
    $Self->{LogModule} = 'Kernel::System::Log::File';
    $Self->{'LogModule::LogFile'} = '%(log)s';
    return 1;
}
use Kernel::Config::Defaults;
use parent qw(Kernel::Config::Defaults);
1;
"""


@pytest.fixture(scope="session")
def znuny_to_ascii(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ToAscii:
    """``run(inputs, line_length=None)``: Znuny's ToAscii of each input, one Perl process per call."""
    config_dir = tmp_path_factory.mktemp("znuny-config")
    (config_dir / "Kernel").mkdir()
    (config_dir / "Kernel" / "Config.pm").write_text(
        CONFIG_PM % {"tree": TREE, "log": config_dir / "znuny.log"}, encoding="utf-8")

    def call(inputs: list[str], line_length: int | None = None) -> subprocess.CompletedProcess[bytes]:
        command = ["perl", str(GLUE), "--tree", str(TREE), "--config-dir", str(config_dir)]
        if line_length is not None:
            command += ["--line-length", str(line_length)]
        try:
            return subprocess.run(command, input=json.dumps(inputs).encode(), capture_output=True, check=False,
                                  timeout=120)
        except FileNotFoundError:
            pytest.fail("perl is not installed; the HTML oracle needs Perl and Znuny's Perl modules", pytrace=False)

    if call(["<p>x</p>"]).returncode != 0:
        # Znuny's Perl modules are missing on a fresh machine: the oracle's setup-znuny installs them.
        request.getfixturevalue("oracle")
    smoke = call(["<p>x</p>"])
    if smoke.returncode != 0 or json.loads(smoke.stdout) != ["\nx\n\n"]:
        pytest.fail(f"Znuny's ToAscii does not run (exit {smoke.returncode}):\n{smoke.stderr.decode(errors='replace')}",
                    pytrace=False)

    def run(inputs: list[str], line_length: int | None = None) -> list[str]:
        result = call(inputs, line_length)
        if result.returncode != 0:
            pytest.fail(f"html_to_ascii.pl failed:\n{result.stderr.decode(errors='replace')}", pytrace=False)
        outputs: list[str] = json.loads(result.stdout)
        assert len(outputs) == len(inputs)
        return outputs

    return run


def mail_files() -> dict[str, str]:
    """Every mail of the corpus as written, with CRLF and with CR line ends."""
    cases: dict[str, str] = {}
    for path in sorted(CORPUS.glob("*.html")):
        html = path.read_text(encoding="utf-8")
        cases[path.stem] = html
        cases[f"{path.stem} (CRLF)"] = html.replace("\n", "\r\n")
        cases[f"{path.stem} (CR)"] = html.replace("\n", "\r")
    return cases


def snippets() -> dict[str, str]:
    return json.loads((CORPUS / "snippets.json").read_text(encoding="utf-8"))


# Pieces of mail HTML, recombined at random: catches the interplay of rules no hand-written case thinks of.
PIECES = (
    "<p>", "</p>", '<p class="MsoNormal">', "<div>", "</div>", '<div dir="ltr">', "<br>", "<br/>", "<BR />",
    '<br clear="all">', "<b>", "</b>", "<span style=\"color:red\">", "</span>", "<o:p>", "</o:p>", "<blockquote>",
    '<blockquote type="cite">', "</blockquote>", "<pre>", "</pre>", "<code>", "</code>", "<ul>", "</ul>", "<ol>",
    "</ol>", "<li>", "<li class=\"x\">", "</li>", "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>",
    '<td colspan="2">', "<th>", "</th>", "<hr>", "<h1>", "</h1>", '<a href="https://e.example/x?a=1&amp;b=2">',
    "<a href='mailto:m@e.example'>", '<a name="n">', "</a>", '<img src="cid:1">', "<!-- c -->", "<!--", "-->",
    "<style>p{}</style>", "<style>", "</style>", "&nbsp;", "&amp;", "&lt;", "&gt;", "&#10;", "&#32;", "&euro;",
    "&quot", " ", "  ", "\n", "\r\n", "\t", "\xa0", "word", "Привет", "x", "long" * 12, ">", "<", "&", '"', "'",
    "😀", "a b c d e f g h", "lorem ipsum dolor sit amet " * 3,
)


def generated(count: int, seed: int, max_pieces: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, max_pieces))) for _ in range(count)]


def _differences(names: list[str], inputs: list[str], expected: list[str], line_length: int = 78) -> list[str]:
    out = []
    for name, html, znuny in zip(names, inputs, expected, strict=True):
        ours = html_to_text(html, line_length=line_length)
        if ours != znuny:
            # the texts differ in length only when one is a prefix of the other
            at = next((i for i, (a, b) in enumerate(zip(ours, znuny, strict=False)) if a != b),
                      min(len(ours), len(znuny)))
            out.append(f"{name}: first difference at {at}\n  input: {html[:300]!r}\n"
                       f"  znuny: {znuny[max(0, at - 40):at + 80]!r}\n  ours:  {ours[max(0, at - 40):at + 80]!r}")
    return out


def test_mails_from_real_clients(znuny_to_ascii: ToAscii) -> None:
    cases = mail_files()
    assert len(cases) >= 84
    expected = znuny_to_ascii(list(cases.values()))
    assert _differences(list(cases), list(cases.values()), expected) == []


def test_every_construct(znuny_to_ascii: ToAscii) -> None:
    cases = snippets()
    assert len(cases) >= 300
    expected = znuny_to_ascii(list(cases.values()))
    assert _differences(list(cases), list(cases.values()), expected) == []


def test_generated_documents(znuny_to_ascii: ToAscii) -> None:
    inputs = generated(600, seed=9, max_pieces=40) + generated(150, seed=10, max_pieces=250)
    expected = znuny_to_ascii(inputs)
    assert _differences([f"generated[{i}]" for i in range(len(inputs))], inputs, expected) == []


@pytest.mark.parametrize("line_length", [20, 40, 100, 3])
def test_other_wrap_widths(znuny_to_ascii: ToAscii, line_length: int) -> None:
    """Ticket::Frontend::TextAreaNote is the width; below 4 OTRS's pattern cannot match and nothing wraps."""
    cases = {**{k: v for k, v in mail_files().items() if "(" not in k}, **snippets()}
    expected = znuny_to_ascii(list(cases.values()), line_length=line_length)
    assert _differences(list(cases), list(cases.values()), expected, line_length) == []

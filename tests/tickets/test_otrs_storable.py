"""``otrs_storable.nfreeze`` against Perl's own Storable: the same bytes as ``nfreeze`` with canonical keys for
the same Perl value, and Perl thaws ours back to that value."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from otrs_ext.tickets.otrs_storable import Flagged, NotStorable, nfreeze

pytestmark = pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")

# (Python value, the same value as a Perl expression with explicit UTF-8 flags)
UP = "do {{ my $s = {}; utf8::upgrade($s); $s }}"  # a Perl string with the UTF-8 flag on
TABLE = [
    ({"a": 1}, "{a => 1}"),
    ({}, "{}"),
    ([], "[]"),
    ({"TicketID": 2}, "{TicketID => 2}"),
    ({"n": 0, "m": -1, "p": 127, "q": 128, "r": -128, "s": -129}, "{n=>0, m=>-1, p=>127, q=>128, r=>-128, s=>-129}"),
    ({"big": 2**31 - 1, "neg": -(2**31), "over": 2**31, "huge": 2**40},
     "{big => 2147483647, neg => -2147483648, over => '2147483648', huge => '1099511627776'}"),
    ({"t": True, "f": False}, "{t => 1, f => 0}"),
    ({"u": None}, "{u => undef}"),
    ([None, "x", 300], "[undef, 'x', 300]"),
    ({"s": "ascii text"}, "{s => 'ascii text'}"),
    ({"s": "Grüße €"}, "{s => " + UP.format('"Gr\\x{fc}\\x{df}e \\x{20ac}"') + "}"),
    ({"s": Flagged("2")}, "{s => " + UP.format("'2'") + "}"),
    ({"b": b"\xff\x00raw"}, '{b => "\\xff\\x00raw"}'),
    ({"long": "x" * 255, "longer": "y" * 256}, "{long => 'x' x 255, longer => 'y' x 256}"),
    ({"ulong": "ü" * 300}, "{ulong => " + UP.format('"\\x{fc}" x 300') + "}"),
    ({"f": 1.5, "g": 0.1}, "{f => '1.5', g => '0.1'}"),
    ({"Object": "Kernel::System::Calendar", "Function": "TicketAppointmentProcessTicket",
      "Params": {"TicketID": 17}},
     "{Object => 'Kernel::System::Calendar', Function => 'TicketAppointmentProcessTicket', "
     "Params => {TicketID => 17}}"),
    ({"nested": {"a": [1, {"b": [[], {}]}]}}, "{nested => {a => [1, {b => [[], {}]}]}}"),
    # keys: Latin-1 range kept as bytes "was UTF-8", higher as UTF-8; an ASCII key beside them stays plain
    ({"é": 1, "a": 2}, "{" + UP.format('"\\x{e9}"') + " => 1, a => 2}"),
    ({"€": 1, "b": "ü"}, "{" + UP.format('"\\x{20ac}"') + " => 1, b => " + UP.format('"\\x{fc}"') + "}"),
    ({Flagged("k"): 1}, "{" + UP.format("'k'") + " => 1}"),
]

PERL_FREEZE = r"""
use strict; use warnings; use Storable; $Storable::canonical = 1;
my @exprs = map { chomp; $_ } <STDIN>;
for my $e (@exprs) { my $v = eval "+$e"; die "$e: $@" if $@; print unpack('H*', Storable::nfreeze($v)), "\n"; }
"""

PERL_THAW = r"""
use strict; use warnings; use Storable; use Data::Dumper;
$Data::Dumper::Useqq = 1; $Data::Dumper::Sortkeys = 1; $Data::Dumper::Indent = 0; $Data::Dumper::Terse = 1;
while (my $line = <STDIN>) {
    chomp $line; my ($hex, $e) = split /\t/, $line, 2;
    my $want = eval "+$e"; die "$e: $@" if $@;
    my $got = Storable::thaw(pack('H*', $hex));
    print Dumper($got) eq Dumper($want) ? "same\n" : "DIFFERENT " . Dumper($got) . " vs " . Dumper($want) . "\n";
}
"""


def _perl(script: str, stdin: str) -> list[str]:
    result = subprocess.run(["perl", "-e", script], input=stdin, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_bytes_are_perls_canonical_nfreeze():
    perls = _perl(PERL_FREEZE, "".join(expr + "\n" for _, expr in TABLE))
    ours = [nfreeze(value).hex() for value, _ in TABLE]
    mismatches = [(expr, o, p) for (_, expr), o, p in zip(TABLE, ours, perls, strict=True) if o != p]
    assert mismatches == []


def test_perl_thaws_ours_to_the_same_value():
    lines = "".join(f"{nfreeze(value).hex()}\t{expr}\n" for value, expr in TABLE)
    assert _perl(PERL_THAW, lines) == ["same"] * len(TABLE)


def test_a_task_thaws_as_the_daemon_reads_it():
    """The AsynchronousExecutor worker's view: Object, Function and the Params it calls Function with."""
    data = {"Object": "Kernel::System::Ticket::Event::NotificationEvent", "Function": "Run",
            "Params": {"Event": "NotificationFollowUp", "UserID": 1, "Transaction": 1,
                       "Data": {"TicketID": 7, "ArticleID": 9, "SkipRecipients": [],
                                "CustomerMessageParams": {"Subject": "Drucker brennt – schnell!"}},
                       "Config": {"Module": "Kernel::System::Ticket::Event::NotificationEvent",
                                  "Transaction": "1", "Event": ""}}}
    script = r"""
use strict; use warnings; use Storable; use JSON::PP; use MIME::Base64;
my $task = Storable::thaw(decode_base64(<STDIN>));
print JSON::PP->new->canonical->utf8->encode($task);
"""
    import base64
    out = subprocess.run(["perl", "-e", script], input=base64.b64encode(nfreeze(data)).decode(),
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == data


@pytest.mark.parametrize("bad", [{1: "int key"}, {"s": {1, 2}}, {"o": object()}, {"f": float("inf")}, "top"])
def test_values_without_a_storable_form_are_refused(bad):
    with pytest.raises(NotStorable):
        nfreeze(bad)

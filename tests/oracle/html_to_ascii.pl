#!/usr/bin/perl
# html_to_ascii.pl - run HTML strings through Znuny's own Kernel::System::HTMLUtils::ToAscii, the function
# that makes the plain text (a_body) of an HTML article, and print the results.
#
#   perl html_to_ascii.pl --tree ZNUNY_TREE [--config-dir DIR] [--line-length N] < inputs.json > outputs.json
#
#   stdin:  a JSON array of strings (HTML)
#   stdout: a JSON array of strings, ToAscii(String => input) for each, in order
#
# --tree is a Znuny installation or the packaged tree (shared/oracle/znuny-7.0). ToAscii needs only
# Kernel::Config (its line length, Ticket::Frontend::TextAreaNote), Encode and Log, no database, so
# --config-dir may name a directory holding just Kernel/Config.pm (with Home = the tree); it is searched
# before the tree. --line-length sets Ticket::Frontend::TextAreaNote (the wrap width) for this run.
# All inputs go through one process: loading Znuny costs more than thousands of calls.
#
# This file is original glue code of otrs-ext's tests; it only calls Znuny's public API.

use strict;
use warnings;
use utf8;

use Getopt::Long qw(GetOptions);

my ( $Tree, $ConfigDir, $LineLength );

BEGIN {
    GetOptions( 'tree=s' => \$Tree, 'config-dir=s' => \$ConfigDir, 'line-length=i' => \$LineLength )
        or die "bad options\n";
    die "--tree is required\n" if !$Tree;
    $Tree =~ s{/+\z}{};
    unshift @INC, ( $ConfigDir ? ($ConfigDir) : () ), $Tree, "$Tree/Kernel/cpan-lib", "$Tree/Custom";
}

use JSON::PP ();
use Kernel::System::ObjectManager;

my $JSON   = JSON::PP->new->utf8->canonical->allow_nonref;
my $Inputs = $JSON->decode( do { local $/; <STDIN> } );
die "stdin must be a JSON array of strings\n" if ref $Inputs ne 'ARRAY';

local $Kernel::OM = Kernel::System::ObjectManager->new(
    'Kernel::System::Log' => { LogPrefix => 'html_to_ascii' },
);
if ($LineLength) {
    $Kernel::OM->Get('Kernel::Config')->Set( Key => 'Ticket::Frontend::TextAreaNote', Value => $LineLength );
}
my $HTMLUtils = $Kernel::OM->Get('Kernel::System::HTMLUtils');

my @Outputs;
for my $HTML ( @{$Inputs} ) {

    # Znuny gets text as decoded, UTF-8 flagged strings (web requests, the mail parser); ToAscii flags its
    # input as UTF-8, so a decoded string that happens to be Latin-1 only must be upgraded first.
    utf8::upgrade($HTML);
    push @Outputs, $HTMLUtils->ToAscii( String => $HTML );
}

binmode STDOUT;
print $JSON->encode( \@Outputs );

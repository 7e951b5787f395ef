#!/usr/bin/perl
# gi_operation.pl - run one GenericInterface operation of Znuny (e.g. Ticket::TicketCreate) the way its
# Provider does after the REST transport decoded the request, without a web server, with a frozen clock.
#
#   runuser -u otrs -- env ZNUNY_HOME=/path/to/home perl gi_operation.pl < request.json > result.json
#
# Input: {"time": EPOCH, "operation": "TicketCreate", "type": "Ticket::TicketCreate", "data": {...}}
#   data: the request data as the REST transport hands it over (UserLogin, Password, Ticket, Article...).
# Output: {"Success": 0|1, "ErrorMessage": ..., "Data": {...}} - the operation's result.
#
# A web service "OracleGI" with this one provider operation is created on first use (Znuny's operation
# reads its configuration from there). Original glue code of tests/oracle: it only calls Znuny's public API
# (Kernel::System::GenericInterface::Webservice, Kernel::GenericInterface::Debugger and ::Operation).

use strict;
use warnings;
use utf8;

my $FrozenEpoch;

BEGIN {
    # the clock Znuny sees, frozen like ../shared/oracle/znuny_ops.pl freezes it
    no warnings 'redefine';
    *CORE::GLOBAL::time      = sub { return defined $FrozenEpoch ? $FrozenEpoch : CORE::time() };
    *CORE::GLOBAL::localtime = sub { return CORE::localtime( @_ ? $_[0] : ( $FrozenEpoch // CORE::time() ) ) };
    *CORE::GLOBAL::gmtime    = sub { return CORE::gmtime( @_ ? $_[0] : ( $FrozenEpoch // CORE::time() ) ) };
}

my $ZnunyHome;

BEGIN {
    $ZnunyHome = $ENV{ZNUNY_HOME} || '/opt/znuny';
    $ZnunyHome =~ s{/+\z}{};
    unshift @INC, $ZnunyHome, "$ZnunyHome/Kernel/cpan-lib", "$ZnunyHome/Custom";
}

use JSON::PP ();
use Kernel::System::ObjectManager;
use Kernel::GenericInterface::Debugger;
use Kernel::GenericInterface::Operation;

{
    require DateTime;
    no warnings 'redefine';
    *DateTime::_core_time = sub { return $FrozenEpoch // CORE::time() };
}

my $Codec = JSON::PP->new->utf8->canonical->allow_blessed->convert_blessed;
my $Input = $Codec->decode( do { local $/; <STDIN> } );
$FrozenEpoch = $Input->{time} if defined $Input->{time};

local $Kernel::OM = Kernel::System::ObjectManager->new(
    'Kernel::System::Log' => { LogPrefix => 'gi_operation' },
);
$Kernel::OM->Get('Kernel::System::Cache')->CleanUp();

my $Operation = $Input->{operation} or die "need operation\n";
my $Type      = $Input->{type}      or die "need type\n";

my $WebserviceObject = $Kernel::OM->Get('Kernel::System::GenericInterface::Webservice');
my $Webservice       = $WebserviceObject->WebserviceGet( Name => 'OracleGI' );
if ( ref $Webservice ne 'HASH' || !$Webservice->{ID} ) {
    my $ID = $WebserviceObject->WebserviceAdd(
        Name   => 'OracleGI',
        Config => {
            Debugger => { DebugThreshold => 'error', TestMode => 0 },
            Provider => {
                Transport => { Type => 'HTTP::REST', Config => {} },
                Operation => { $Operation => { Type => $Type, Description => '' } },
            },
        },
        ValidID => 1,
        UserID  => 1,
    ) or die "WebserviceAdd failed\n";
    $Webservice = $WebserviceObject->WebserviceGet( ID => $ID );
}

my $Debugger = Kernel::GenericInterface::Debugger->new(
    DebuggerConfig    => $Webservice->{Config}->{Debugger},
    WebserviceID      => $Webservice->{ID},
    CommunicationType => 'Provider',
    RemoteIP          => '127.0.0.1',
);
my $OperationObject = Kernel::GenericInterface::Operation->new(
    DebuggerObject => $Debugger,
    Operation      => $Operation,
    OperationType  => $Type,
    WebserviceID   => $Webservice->{ID},
);
die "operation $Type could not be created\n" if ref $OperationObject ne 'Kernel::GenericInterface::Operation';

my $Result = $OperationObject->Run( Data => $Input->{data} );

# end of the request: the transactional event handlers run when the objects go
undef $OperationObject;
undef $Debugger;
$Kernel::OM->ObjectsDiscard();

print $Codec->encode( { map { $_ => $Result->{$_} } grep { defined $Result->{$_} } qw(Success ErrorMessage Data) } );
exit( $Result->{Success} ? 0 : 1 );

"""Constants the GenericInterface tests share: the route prefix scripts use and agent1's OTRS password."""

from __future__ import annotations

WS = "/otrs/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST"
PASSWORD = "correct horse – battery"  # agent1's OTRS password in the ``gi`` fixture

"""GenericInterface-compatible routes (Znuny's ``GenericTicketConnectorREST``): ``routes`` mounts them and
authenticates callers, ``input`` reads GI parameters, ``tickets`` runs the ticket operations, ``views`` writes
GI's ticket and article documents."""

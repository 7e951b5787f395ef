"""Tags kept in otrs-ext's own tables: where a ticket came from (``source``), which agents replied
(``participant``), which automatic mails it holds (``notification``), and what agents add (``manual``)."""

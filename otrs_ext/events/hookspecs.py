"""The contract between the event pipeline and its handler plugins.

A handler is a module or object implementing the hooks of the events it wants with ``@hookimpl``; it may
declare only the arguments it needs (``event``, ``services``: see ``otrs_ext.events.dispatch.Services``).
Hooks are called once per domain event (``otrs_ext.events.domain``), must be idempotent by
``event.event_id`` (a crash replays the events since the last checkpoint; ``services.once`` helps), must
only write to otrs-ext's own stores, and hand slow or external work to ``services.defer``, which runs it
after the checkpoint of the transaction is stored.

A handler whose store does better with many events at once (one transaction, one bulk statement) implements
``on_batch`` instead: it receives, in order, the events delivered together (those of one source transaction,
of several while the tailer catches up, or a snapshot chunk), and none through its per-event hooks. The
checkpoint waits for the whole batch, so a crash replays all of it: still idempotent by event id.
"""

from __future__ import annotations

import pluggy

PROJECT = "otrs_ext"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def on_start(services):  # noqa: ANN001, ANN201
    """The tailer is about to start reading: a handler with configuration of its own (the ``tags`` handler's
    rules file) checks it here, so a wrong one stops the tailer at start, not at the first event."""


@hookspec
def on_ticket_created(event, services):  # noqa: ANN001, ANN201 - pluggy specs are signatures only
    """A ticket and its first history row exist."""


@hookspec
def on_article_created(event, services):  # noqa: ANN001, ANN201
    """An article with its MIME data and attachments exists."""


@hookspec
def on_ticket_changed(event, services):  # noqa: ANN001, ANN201
    """Ticket columns changed (queue, lock, owner, state, ...); ``event`` carries before and after."""


@hookspec
def on_dynamic_field_changed(event, services):  # noqa: ANN001, ANN201
    """A dynamic field value of a ticket or article changed."""


@hookspec
def on_ticket_merged(event, services):  # noqa: ANN001, ANN201
    """A ticket was merged into another."""


@hookspec
def on_ticket_deleted(event, services):  # noqa: ANN001, ANN201
    """A ticket and its articles were deleted."""


@hookspec
def on_history_added(event, services):  # noqa: ANN001, ANN201
    """A ticket_history row was written (every OTRS action leaves one)."""


@hookspec
def on_batch(events, services):  # noqa: ANN001, ANN201
    """``events`` (a list, in commit order) were delivered together. A handler implementing this gets every
    event here instead of through the hooks above; applying them in one transaction of its own store keeps a
    crash from leaving half a batch behind (a replay would redo it anyway)."""

"""One Redis subscription per process for every open pool event stream (the API's ``GET /api/v1/pool/events``
and the screens' ``/agent/pool/events``), and the stream itself (``event_stream``).

A stream per Redis connection would take a connection from the shared pool for minutes each; 200 streams would
exhaust it. Instead a single daemon thread pattern-subscribes to every agent channel of the pool
(``<prefix>agent:*``) and hands each message to the queues of that agent's open streams. It starts with the
first stream and reconnects after a Redis outage (streams see only keep-alives meanwhile).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import redis

log = logging.getLogger(__name__)


class PushHub:
    def __init__(self, client: redis.Redis, channel_prefix: str) -> None:
        self.client = client
        self.pattern = channel_prefix + "*"
        self.prefix = channel_prefix
        self._lock = threading.Lock()
        self._listeners: dict[int, set[queue.Queue[str]]] = defaultdict(set)
        self._thread: threading.Thread | None = None

    def listen(self, agent_id: int) -> queue.Queue[str]:
        """A queue of the agent's messages (JSON text) from now on; give it back with ``stop``."""
        inbox: queue.Queue[str] = queue.Queue(maxsize=100)
        with self._lock:
            self._listeners[agent_id].add(inbox)
            if self._thread is None or not self._thread.is_alive():
                ready = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(ready,), name="pool-push", daemon=True)
                self._thread.start()
                ready.wait(5)  # subscribed before the first stream reads its status: no message falls between
        return inbox

    def stop(self, agent_id: int, inbox: queue.Queue[str]) -> None:
        with self._lock:
            self._listeners[agent_id].discard(inbox)
            if not self._listeners[agent_id]:
                del self._listeners[agent_id]

    def _run(self, ready: threading.Event) -> None:
        while True:
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self.pattern)
                ready.set()
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "pmessage":
                        self._deliver(message)
            except redis.RedisError as error:
                log.warning("pool push subscription lost: %s", error, extra={"event": "pool_push_down"})
                ready.set()
                time.sleep(1)

    def _deliver(self, message: dict) -> None:
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        data = message["data"].decode() if isinstance(message["data"], bytes) else message["data"]
        suffix = channel[len(self.prefix):]
        if not suffix.isdigit():
            return
        with self._lock:
            inboxes = list(self._listeners.get(int(suffix), ()))
        for inbox in inboxes:
            try:
                inbox.put_nowait(data)
            except queue.Full:  # a stream that stopped reading: it reconnects and reads the status afresh
                pass


def event_stream(hub: PushHub, inbox: queue.Queue[str], agent_id: int, first: dict[str, Any],
                 status: Callable[[], dict[str, Any]], keep_alive: Callable[[], None], *, beat: float,
                 seconds: float) -> Iterator[str]:
    """Server-Sent Events for one agent (the API's and the screens' stream): ``status`` (``first``), then each
    pushed message followed by the new ``status``, and a keep-alive comment (``keep_alive``: the session's
    heartbeat) every ``beat`` seconds; ends after ``seconds`` (EventSource reconnects) and gives ``inbox`` back."""
    try:
        yield f"retry: 2000\nevent: status\ndata: {json.dumps(first)}\n\n"
        started = last_beat = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                data = inbox.get(timeout=1.0)
            except queue.Empty:
                data = None
            if data is not None:
                kind = json.loads(data).get("type", "message")
                yield f"event: {kind}\ndata: {data}\n\n"
                yield f"event: status\ndata: {json.dumps(status())}\n\n"
            if time.monotonic() - last_beat >= beat:
                last_beat = time.monotonic()
                keep_alive()
                yield ": keep-alive\n\n"
    finally:
        hub.stop(agent_id, inbox)


def keep_alive(pool: Any, agent_id: int, session_id: str, sweep_every: int = 5) -> None:
    """The session's heartbeat, and now and then the sweep that ends expired sessions (one stream of all, through
    a Redis lock), so expired sessions are found wherever pool screens are open."""
    try:
        pool.sessions.touch(agent_id, session_id)
        if pool.sessions.redis.set(f"{pool.config.redis_prefix}sweep:lock", 1, nx=True, ex=sweep_every):
            pool.service.sweep()
    except Exception as error:  # noqa: BLE001 - a failed sweep must not end the agent's stream
        log.warning("pool keep-alive failed: %s", error, extra={"event": "pool_keepalive_failed"})


def shared_hub(extensions: dict[str, Any], lock: threading.Lock, client: redis.Redis, pool: Any) -> PushHub:
    """The app's one hub (``extensions['otrs_ext_pool_push']``), shared by the API and the screens."""
    with lock:
        hub = extensions.get("otrs_ext_pool_push")
        if hub is None:
            hub = extensions["otrs_ext_pool_push"] = PushHub(client, pool.sessions.channel(0)[:-1])
    return hub


HUB_LOCK = threading.Lock()

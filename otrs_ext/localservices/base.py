"""Shared plumbing for private server processes: ports, binaries, readiness waits and stop-by-PID.

Every service runs in the foreground as a direct child of this Python process (no daemonizing, no systemd),
so the PID we hold is the server's own PID and stopping it never depends on a pid file being right.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from otrs_ext.errors import MissingBinary, ServiceStartError

#: How long ``stop()`` waits after SIGTERM before it sends SIGKILL. mariadbd and searchd flush on SIGTERM.
STOP_TIMEOUT = 15.0
#: Lines of the service log quoted in a ServiceStartError.
LOG_TAIL_LINES = 40
#: Attempts when an automatically chosen port turns out to be taken by the time the server binds it.
PORT_ATTEMPTS = 3

_ADDRESS_IN_USE_MARKERS = ("address already in use", "errno 98", "error: 98", "bind() failed")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    The port is released before the caller binds it, so another process may grab it in between; the start
    routines therefore retry on a fresh port when the server reports address-in-use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(name: str, debian_package: str) -> str:
    """Return the absolute path of ``name`` on PATH or raise MissingBinary naming the Debian package."""
    found = shutil.which(name)
    if found is None:
        # Debian puts mariadbd in /usr/sbin, which is not on PATH for ordinary users.
        for directory in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        raise MissingBinary(name, debian_package)
    return found


def tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of a log file, or a note that it does not exist (never raises)."""
    if path is None:
        return "(no log file)"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or f"(log {path} is empty)"


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    *,
    log_file: Path | None = None,
    process: subprocess.Popen[bytes] | None = None,
    interval: float = 0.05,
) -> None:
    """Poll ``predicate`` until it returns True; raise ServiceStartError after ``timeout`` seconds.

    If ``process`` exits while we wait, fail at once instead of waiting for the timeout: a server that died
    on startup will not become ready. The error quotes the tail of ``log_file`` because that is where the
    servers explain themselves (bad option, port in use, unwritable datadir).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if process is not None and process.poll() is not None:
            raise ServiceStartError(
                f"{what}: process {process.pid} exited with code {process.returncode} before it was ready; "
                f"last lines of {log_file}:\n{tail(log_file)}"
            )
        if time.monotonic() >= deadline:
            raise ServiceStartError(
                f"{what}: not ready after {timeout:.0f} s; last lines of {log_file}:\n{tail(log_file)}"
            )
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True if a process with this PID exists (zombies of our own children are reaped by ``stop``)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists but belongs to another user
    return True


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT, process: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM ``pid``, wait up to ``timeout`` seconds for it to exit, then SIGKILL it (0: SIGKILL at once).

    When the process is our child, pass its Popen so it is reaped; otherwise it would linger as a zombie and
    ``kill(pid, 0)`` would keep reporting it alive.
    """

    def gone() -> bool:
        if process is not None:
            return process.poll() is not None
        return not pid_alive(pid)

    def wait(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not gone():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    if gone():
        return
    if timeout > 0:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if wait(timeout):
            return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    wait(5.0)


class LocalService:
    """Base class for a private server process living in ``base_dir``.

    Subclasses implement ``_launch(port)`` (spawn the process, return its Popen), ``_is_ready()`` and set
    ``log_file``; they may override ``_prepare()`` for one-off work before the first launch and
    ``_after_ready()`` for setup that needs the running server. ``start()`` retries on a new port when an
    automatically chosen port was taken in the meantime.
    """

    #: Human name used in error messages.
    name = "service"
    #: Seconds a start may take before ServiceStartError.
    start_timeout = 30.0

    def __init__(self, base_dir: Path, port: int | None = None) -> None:
        self.base_dir = Path(base_dir).resolve()
        self._requested_port = port
        self._port: int | None = port
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self.log_file: Path | None = None

    # --- subclass hooks -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        """Create directories / config before the process is launched (called once per start attempt)."""

    def _launch(self, port: int) -> subprocess.Popen[bytes]:
        raise NotImplementedError

    def _is_ready(self) -> bool:
        raise NotImplementedError

    def _after_ready(self) -> None:
        """Run setup that needs a ready server (users, databases)."""

    # --- public API -----------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1 (chosen at start when none was given)."""
        if self._port is None:
            raise RuntimeError(f"{self.name} has no port yet; call start() first")
        return self._port

    @property
    def pid(self) -> int | None:
        """PID of the running server process, or None before start / after stop."""
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        """True while the server process exists (it may still be starting up)."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Launch the server and return once it answers a real request. Idempotent while running."""
        if self.is_running():
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if self._requested_port is not None else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = self._requested_port if self._requested_port is not None else free_port()
            self._port = port
            self._prepare()
            self._log_offset = self._log_size()
            self._process = self._launch(port)
            # Safety net for the demo command and interrupted test runs: never leave a server behind.
            atexit.register(self._stop_at_exit)
            what = f"{self.name} on 127.0.0.1:{port}"

            def ready(what: str = what) -> bool:
                return self._fail_on_port_conflict(what) or self._is_ready()

            try:
                wait_until(
                    ready,
                    self.start_timeout,
                    what,
                    log_file=self.log_file,
                    process=self._process,
                )
                self._after_ready()
                return
            except ServiceStartError:
                self._abort()
                if attempt < attempts and self._port_conflict():
                    continue  # someone took the free port between free_port() and bind(): pick another
                raise
            except BaseException:  # failed setup SQL, Ctrl-C while waiting: do not leave the server running
                self._abort()
                raise

    def stop(self) -> None:
        """SIGTERM the server by PID, wait up to STOP_TIMEOUT seconds, then SIGKILL. Idempotent."""
        process, self._process = self._process, None
        atexit.unregister(self._stop_at_exit)
        if process is not None:
            stop_pid(process.pid, process=process)

    def _abort(self) -> None:
        """Kill a server that never became ready: it has no state worth a graceful shutdown, and searchd
        ignores SIGTERM while it is still retrying bind()."""
        process, self._process = self._process, None
        atexit.unregister(self._stop_at_exit)
        if process is not None:
            stop_pid(process.pid, timeout=0, process=process)

    def _stop_at_exit(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: nothing left to report to
            self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} port={self._port} pid={self.pid} dir={self.base_dir}>"

    # --- helpers for subclasses -----------------------------------------------------------------------
    def _log_size(self) -> int:
        try:
            return self.log_file.stat().st_size if self.log_file is not None else 0
        except FileNotFoundError:
            return 0

    def _port_conflict(self) -> bool:
        """True if the log written since the last launch reports that the port was taken."""
        if self.log_file is None:
            return False
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(self._log_offset)
                fresh = handle.read().decode("utf-8", "replace").lower()
        except FileNotFoundError:
            return False
        return any(marker in fresh for marker in _ADDRESS_IN_USE_MARKERS)

    def _fail_on_port_conflict(self, what: str) -> bool:
        # searchd does not exit when bind() fails: it retries for a minute. Fail fast instead.
        if self._port_conflict():
            raise ServiceStartError(
                f"{what}: port {self._port} is already in use; last lines of {self.log_file}:\n"
                f"{tail(self.log_file)}"
            )
        return False

    def _spawn(self, argv: Sequence[str], output: Path) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the foreground with stdout+stderr appended to ``output``.

        A new session keeps a terminal Ctrl-C from reaching the server directly: shutdown then goes through
        ``stop()`` in a deterministic order (e.g. a fixture's finally block).
        """
        with open(output, "ab") as out:
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )

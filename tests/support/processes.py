"""otrs-ext's commands as real child processes, as an operator runs them: each in its own process group (so a
kill reaches gunicorn's or Celery's workers too), output appended to a log file, stopped by PID.

``ApiProcess`` is ``otrs-ext serve`` on a fixed port, started only once it answers ``/healthz``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from otrs_ext.settings import Settings
from support.waiting import wait_for

# the ``otrs-ext`` console script, without relying on it being installed on PATH
CLI = (sys.executable, "-c", "from otrs_ext.cli import main; main()")


def child_env(environ: Mapping[str, str], pythonpath: Sequence[Path] = ()) -> dict[str, str]:
    """This process's environment without its ``OTRS_EXT_*`` variables (the child gets only ``environ``'s),
    with ``pythonpath`` put in front of PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTRS_EXT_")}
    env.update(environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class Process:
    """A child in its own process group, its output appended to ``log``; ``start`` may follow a stop or kill."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = list(argv), env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL the whole group: a crash, not a shutdown (no cleanup, requests in flight die with it)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM the group, as systemd stops a service; SIGKILL after ``timeout``. Returns the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


class ApiProcess(Process):
    """``otrs-ext serve`` on a fixed port, so a restarted API is where its clients expect it."""

    def __init__(self, settings: Settings, port: int, log: Path, *, workers: int = 2, threads: int | None = None,
                 pythonpath: Sequence[Path] = ()) -> None:
        argv = [*CLI, "serve", "--port", str(port), "--workers", str(workers)]
        if threads is not None:
            argv += ["--threads", str(threads)]
        super().__init__(argv, child_env(settings.environ(), pythonpath), log)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        super().start()

        def healthy() -> bool:
            assert self.alive(), f"otrs-ext serve died:\n{self.tail()}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return True
            except OSError:  # not listening yet, or not healthy yet (HTTPError is an OSError)
                return False

        wait_for(healthy, 30, "otrs-ext serve to answer /healthz")

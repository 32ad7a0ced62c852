"""A program the tests run on this machine: started in its own session with its output in a log file, waited for,
stopped or killed as a whole process group, and the tail of its log for failure messages.

Valkey (``tests/harness/loopback.py``), Open WebUI (``tests/harness/open_webui_process.py``), HAProxy
(``tests/harness/replicas_support.py``) and the external Redis servers of Tier 2 subclass ``LoggedProcess``: each adds
what it runs and what "ready" means.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from tests.harness.waiting import wait_for

T = TypeVar("T")


class LoggedProcess:
    """One program in its own session (``start_new_session``: a Ctrl-C in the terminal reaches the tests, not it;
    its process group id is its pid), its output in ``log_path`` (a pipe nobody reads would block it).

    Use it as a context manager, or call ``close()``: the process group never outlives it.
    """

    def __init__(self, log_path: Path, label: str) -> None:
        self.log_path = log_path
        self.label = label
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        """``time.monotonic()`` when the process was started."""

    # -- life cycle -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        **popen: Any,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` (stdin from ``/dev/null``, stdout and stderr appended to the log) and note the time."""
        self.started_at = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **popen,
            )
        return self.process

    def wait_ready(self, probe: Callable[[], T | None], timeout: float, *, interval: float, what: str) -> T:
        """``wait_for(probe)`` that fails at once, with the log's tail, when the process exits meanwhile, and with
        the log's tail when ``timeout`` passes (``"... waiting for <label> <what>"``)."""

        def ready() -> T | None:
            process = self.require_process()
            if process.poll() is not None:
                raise RuntimeError(f"{self.label} exited with status {process.returncode}\n{self.log_tail()}")
            return probe()

        try:
            return wait_for(ready, timeout, interval=interval, what=f"{self.label} {what}")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.log_tail()}") from None

    def signal_group(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the whole process group (children included), if any of it is left."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the whole process group, as a container's end kills every process in it (what a crash or an
        OOM kill does: nothing is saved or handed over); reap the process."""
        if self.process is None:
            return
        self.signal_group(signal.SIGKILL)
        self.process.wait()

    def terminate(self, timeout: float = 10.0) -> None:
        """SIGTERM to the process group, then SIGKILL to what is left of it after ``timeout``; reap the process."""
        process = self.process
        if process is None:
            return
        self.signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
        self.kill()  # children that outlive the program, or a program that hangs

    def close(self) -> None:
        """End the process group (subclasses choose how: ``kill`` here)."""
        self.kill()

    def require_process(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError(f"{self.label} was never started")
        return self.process

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # -- logs -------------------------------------------------------------------------------------------

    def log(self) -> str:
        """What the process has printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the log, under a header naming the file (for failure messages)."""
        tail = "\n".join(self.log().splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}"


PR_SET_PDEATHSIG = 1
"""``prctl`` option (``<linux/prctl.h>``): the signal a process gets when the thread that started it ends."""


def die_with_parent() -> None:
    """Run in a server's child before it execs: SIGKILL it when this test process dies, however it dies (a SIGTERM
    to pytest runs no fixture teardown, and the server is in its own session)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

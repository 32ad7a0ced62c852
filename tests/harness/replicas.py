"""Two Open WebUI replicas on loopback as Tier 2 runs them (PostgreSQL, Valkey, HAProxy), shared by the replicas
and faults tiers.

``running_replicas`` starts the rendered deployment in its declared order; ``signup``, ``create_channel`` and
``post_message`` are what a user does; ``REPLICAS_MARKS`` is the tier's ``pytestmark``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.core.load_balancer import CONFIG_PATH, LISTEN_PORT
from components.core.open_webui import CONTAINER_PORT, DATA_PATH
from components.core.postgres import PORT as POSTGRES_PORT
from components.testing import Deployment, render
from tests.harness.loopback import free_port, localize_valkey
from tests.harness.open_webui_process import TIER2_MARKS, OpenWebUIProcess, local_open_webui_env, open_webui_venv
from tests.harness.replicas_support import (
    EventClient,
    HAProxyProcess,
    PostgresServer,
    Received,
    ReplicasReport,
    api,
    haproxy_binary,
    local_url,
    localize_haproxy_config,
    postgres_bin_dir,
    replica_log,
    run_open_webui_healthcheck,
    start_order,
    wait_open_webui_healthcheck,
)
from tests.harness.valkey import RenderedValkey

POSTGRES_BIN = postgres_bin_dir()
HAPROXY = haproxy_binary()
REPLICAS_MARKS = [
    *TIER2_MARKS,
    pytest.mark.skipif(HAPROXY is None, reason="no haproxy: `apt-get install haproxy` (scripts/test --all does)"),
    pytest.mark.skipif(
        POSTGRES_BIN is None,
        reason="no PostgreSQL with the pgvector extension (the replicas run VECTOR_DB=pgvector; Debian bookworm has "
        "no pgvector package): `pip install -r requirements-dev.txt` installs pgserver, which ships one",
    ),
]

CONFIG: Mapping[str, Any] = {"openWebui": {"replicas": 2, "env": {"ENABLE_CHANNELS": True}}}
"""What is rendered (plus ``valkey.port``): two replicas, channels on through the program's own configuration."""
ADMIN = {"name": "Tier Two", "email": "admin@example.com", "password": "tier-2-correct-horse-battery"}
HEALTHY_TIMEOUT = 150.0
"""Seconds for one replica's ``/health`` (12-20 s measured on 2 cores; the first migrates an empty database)."""
DELIVERY_TIMEOUT = 10.0
"""Seconds an event may take to reach a client (tens of milliseconds measured)."""
NOT_DELIVERED_WAIT = 3.0
"""Seconds a client on the other replica is watched for an event that must not come."""
CLIENTS_THROUGH_LB = 4


def without_websocket_manager(env: Mapping[str, str]) -> dict[str, str]:
    """THE DELIBERATE EDIT of the negative test: the rendered environment without ``WEBSOCKET_MANAGER``."""
    assert env.get("WEBSOCKET_MANAGER") == "redis", "the rendered environment no longer sets WEBSOCKET_MANAGER=redis"
    return {name: value for name, value in env.items() if name != "WEBSOCKET_MANAGER"}


# ---------------------------------------------------------------------------------------------------------
# The running deployment
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Running:
    """Every process of one rendered deployment, running."""

    label: str
    deployment: Deployment = field(repr=False)
    order: list[str]
    """Container names in the order they were started (the rendered dependencies)."""
    replicas: dict[str, OpenWebUIProcess]
    """Open WebUI processes by container name, in start order."""
    env: dict[str, dict[str, str]] = field(repr=False)  # secrets: kept out of failure reports
    """What each replica was given: the rendered environment mapped to loopback, offline settings added."""
    haproxy: HAProxyProcess | None = None
    postgres: PostgresServer | None = None
    valkey: RenderedValkey | None = None
    haproxy_check: str = ""
    lb_url: str = ""
    report: ReplicasReport = field(default_factory=ReplicasReport, repr=False)
    unhealthy: dict[str, str] = field(default_factory=dict)
    """What the rendered healthcheck said of each replica that was not waited for (the deliberate edit)."""

    @property
    def origin(self) -> str:
        """The ``Origin`` a browser sends from the published page: the rendered ``CORS_ALLOW_ORIGIN``."""
        return self.deployment.container(next(iter(self.replicas))).env["CORS_ALLOW_ORIGIN"].split(";")[0]

    @property
    def a(self) -> OpenWebUIProcess:
        return next(iter(self.replicas.values()))

    @property
    def b(self) -> OpenWebUIProcess:
        return list(self.replicas.values())[1]


@contextmanager
def running_replicas(
    request: pytest.FixtureRequest,
    factory: pytest.TempPathFactory,
    label: str,
    *,
    edit: Callable[[Mapping[str, str]], dict[str, str]] | None = None,
    load_balancer: bool = True,
) -> Iterator[Running]:
    """Render ``CONFIG``, start each declared container as a process in dependency order; kill all after."""
    venv = open_webui_venv()
    assert venv is not None
    assert POSTGRES_BIN is not None
    assert HAPROXY is not None
    report = ReplicasReport.of(request.config)
    valkey_port = free_port()
    deployment = render({**CONFIG, "valkey": {"port": valkey_port}})  # the port via configuration, as Tier 1 does
    outputs = deployment.outputs
    replica_names = list(outputs["openWebuiContainerNames"])
    lb_name = outputs["loadBalancerContainerName"]
    names = [outputs["valkeyContainerName"], outputs["postgresContainerName"], *replica_names, lb_name]
    order = start_order(deployment, names)
    volumes = {deployment.container(name).volumes[DATA_PATH] for name in replica_names}
    assert len(volumes) == 1, f"replicas mount different volumes at {DATA_PATH}: {volumes}"
    data_dir = factory.mktemp(f"{label}-data")  # the one shared volume at /app/backend/data
    hosts: dict[str, str] = {}
    running = Running(label, deployment, [], {}, {}, report=report)

    with ExitStack() as stack:

        def watch(name: str, tail: Callable[[], str]) -> None:
            """Its log goes into failure reports while it runs."""
            report.watch(f"{label} {name}", tail)
            stack.callback(report.unwatch, f"{label} {name}")

        for name in order:
            container = deployment.container(name)
            if name == outputs["valkeyContainerName"]:
                local = localize_valkey(container, factory.mktemp(f"{label}-valkey"), port=valkey_port)
                valkey = stack.enter_context(RenderedValkey(local, deployment))
                running.valkey = valkey
                watch(name, lambda valkey=valkey: valkey.log()[-6000:])  # type: ignore[misc]
            elif name == outputs["postgresContainerName"]:
                postgres = stack.enter_context(PostgresServer(container, POSTGRES_BIN, factory.mktemp(f"{label}-pg")))
                watch(name, postgres.log_tail)
                seconds = postgres.start()
                running.postgres = postgres
                report.note(f"{label}: {name} ({POSTGRES_BIN}) healthy (rendered healthcheck) in {seconds:.1f} s")
                for host in [name, *(alias for aliases in container.networks.values() for alias in aliases)]:
                    hosts[f"{host}:{POSTGRES_PORT}"] = f"127.0.0.1:{postgres.port}"
            elif name in replica_names:
                given = edit(container.env) if edit else dict(container.env)
                given["DATABASE_URL"] = local_url(given["DATABASE_URL"], hosts)
                env = local_open_webui_env(given, data_dir)
                process = stack.enter_context(
                    OpenWebUIProcess(venv, env, factory.mktemp(f"{label}-{name}"), label=f"{label}-{name}")
                )
                watch(name, replica_log(process))
                answered = process.wait_healthy(HEALTHY_TIMEOUT)
                migrations = container.env.get("ENABLE_DB_MIGRATIONS", "true (default)")
                if edit is not None:
                    # The edited replicas' listeners never hear Redis: the rendered healthcheck says so (Docker
                    # would never call them healthy, and `pulumi up` would fail); they run on for the event tests.
                    check = run_open_webui_healthcheck(container.healthcheck_command, process, venv)
                    running.unhealthy[name] = check.stdout.strip()
                    report.note(
                        f"{label}: {name} GET /health 200 after {answered:.1f} s; healthcheck: {check.stdout.strip()}"
                    )
                else:
                    # Docker's health, which `wait=True` and so the next replica's creation wait for.
                    healthy = wait_open_webui_healthcheck(container.healthcheck_command, process, venv, HEALTHY_TIMEOUT)
                    report.note(
                        f"{label}: {name} healthy (rendered healthcheck passes) {healthy:.1f} s after start,"
                        f" GET /health 200 after {answered:.1f} s (ENABLE_DB_MIGRATIONS={migrations})"
                    )
                running.replicas[name] = process
                running.env[name] = env
            elif name == lb_name and load_balancer:
                replica_hosts = {f"{n}:{CONTAINER_PORT}": f"127.0.0.1:{p.port}" for n, p in running.replicas.items()}
                listen = f"127.0.0.1:{free_port()}"
                config = localize_haproxy_config(
                    container.uploads[CONFIG_PATH], replica_hosts, {f":{LISTEN_PORT}": listen}
                )
                haproxy = stack.enter_context(
                    HAProxyProcess(HAPROXY, config, CONFIG_PATH, factory.mktemp(f"{label}-lb"))
                )
                watch(name, haproxy.log_tail)
                check = haproxy.check()
                running.haproxy_check = check.stdout + check.stderr
                assert check.returncode == 0, (
                    f"haproxy -c rejects the localized configuration:\n{running.haproxy_check}"
                )
                haproxy.start()
                seconds = haproxy.wait_servers_up(replica_names)
                limit = haproxy.connection_limit
                report.note(
                    f"{label}: {name} (HAProxy) reports both servers UP after a passing /health check {seconds:.1f} s"
                    " after start"
                    + (
                        f" (run with -n {limit}: this machine's descriptor limit is below maxconn's need)"
                        if limit
                        else ""
                    )
                )
                running.haproxy = haproxy
                running.lb_url = f"http://{listen}"
            running.order.append(name)
        yield running


# ---------------------------------------------------------------------------------------------------------
# What a user does
# ---------------------------------------------------------------------------------------------------------


@contextmanager
def clients(*targets: tuple[str, str], token: str, origin: str) -> Iterator[list[EventClient]]:
    """socket.io clients, one per ``(label, base URL)``, opened from a page of ``origin``; disconnected after."""
    connected: list[EventClient] = []
    try:
        for label, url in targets:
            connected.append(EventClient(url, token, label, origin))
        yield connected
    finally:
        for client in connected:
            client.close()


@dataclass
class Delivery:
    """One event raised by one REST call, and when (if) each client received it."""

    what: str
    sent_at: float
    received: dict[str, Received | None]

    def missing(self) -> list[str]:
        return [label for label, event in self.received.items() if event is None]

    def latency_ms(self, label: str) -> float:
        event = self.received[label]
        assert event is not None
        return (event.at - self.sent_at) * 1000

    def latencies(self) -> str:
        return ", ".join(
            f"{label} {self.latency_ms(label):.0f} ms" if event else f"{label} not received"
            for label, event in self.received.items()
        )


def _collect(
    what: str, sent_at: float, watched: list[EventClient], matches: Callable[[dict[str, Any]], bool], timeout: float
) -> Delivery:
    received: dict[str, Received | None] = {}
    for client in watched:
        remaining = max(0.0, sent_at + timeout - time.monotonic())
        received[client.label] = client.wait_for(lambda event: event.at >= sent_at and matches(event.data), remaining)
    return Delivery(what, sent_at, received)


def create_channel(url: str, token: str, watched: list[EventClient], timeout: float) -> tuple[str, Delivery]:
    """``POST /api/v1/channels/create`` on ``url``: Open WebUI emits ``channel:created`` to ``user:<id>``."""
    form = {"name": f"tier2-{uuid.uuid4().hex[:8]}", "type": "group", "user_ids": []}
    sent_at = time.monotonic()
    channel = api(url, "POST", "/api/v1/channels/create", form, token)
    return str(channel["id"]), _collect(CHANNEL_CREATED, sent_at, watched, is_channel_created, timeout)


CHANNEL_CREATED = "channel:created (room user:<id>)"


def is_channel_created(data: dict[str, Any]) -> bool:
    return bool((data.get("data") or {}).get("type") == "channel:created")


def post_message(url: str, channel_id: str, token: str, watched: list[EventClient], timeout: float) -> Delivery:
    """``POST /api/v1/channels/<id>/messages/post`` on ``url``: Open WebUI emits ``message`` to ``channel:<id>``."""
    content = f"tier-2 replicas {uuid.uuid4().hex}"
    sent_at = time.monotonic()
    api(url, "POST", f"/api/v1/channels/{channel_id}/messages/post", {"content": content}, token)

    def matches(data: dict[str, Any]) -> bool:
        inner = data.get("data") or {}
        return (
            data.get("channel_id") == channel_id
            and inner.get("type") == "message"
            and (inner.get("data") or {}).get("content") == content
        )

    return _collect("message (room channel:<id>)", sent_at, watched, matches, timeout)


def signup(running: Running) -> Mapping[str, Any]:
    """The first account, signed up on replica A (it becomes the admin); the answer holds its token."""
    answer: Mapping[str, Any] = api(running.a.url, "POST", "/api/v1/auths/signup", ADMIN)
    assert answer["role"] == "admin", answer
    return answer


# ---------------------------------------------------------------------------------------------------------
# Fixtures: the rendered deployment, and the same without the websocket manager
# ---------------------------------------------------------------------------------------------------------

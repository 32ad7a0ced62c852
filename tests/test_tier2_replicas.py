"""Tier 2, replicas (issue #5): the deployment rendered with ``openWebui.replicas: 2``, run for real on loopback.

Every container the program declares runs as a process, started in the order its dependencies give: Valkey
(as Tier 1 runs it), PostgreSQL (a throwaway cluster made from the container's ``POSTGRES_*`` values), the two
Open WebUI replicas (the second once the first, which migrates the database, is healthy) sharing one
``DATA_DIR`` for their shared volume, then HAProxy with the rendered configuration. Only container addresses
and paths are mapped to loopback, and the offline settings added (``tests/replicas_support.py`` says exactly
what, and the two things this machine imposes). ``ENABLE_CHANNELS`` is rendered through the program's own
``openWebui.env``: channels raise socket.io events from REST calls without any model.

The negative deployment is rendered the same way, then has ``WEBSOCKET_MANAGER`` removed from both replicas'
environments (``without_websocket_manager``, the one deliberate edit): the event then stays on its replica.

Skipped unless ``OPEN_WEBUI_VENV`` is set (``scripts/test --all``), HAProxy is installed and a PostgreSQL with
the pgvector extension is found (``pgserver`` in requirements-dev.txt ships one).
"""

from __future__ import annotations

import os
import subprocess
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
from tests.conftest import RenderedValkey, wait_until
from tests.loopback import free_port, localize_valkey
from tests.open_webui_process import SKIP_REASON, OpenWebUIProcess, local_open_webui_env, open_webui_venv
from tests.replicas_support import (
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

POSTGRES_BIN = postgres_bin_dir()
HAPROXY = haproxy_binary()
pytestmark = [
    pytest.mark.tier2,
    pytest.mark.skipif(open_webui_venv() is None, reason=SKIP_REASON),
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


@pytest.fixture(scope="module")
def replicas(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The rendered deployment running: Valkey, PostgreSQL, two Open WebUI replicas, HAProxy."""
    with running_replicas(request, tmp_path_factory, "replicas") as running:
        yield running


@pytest.fixture(scope="module")
def admin(replicas: Running) -> Mapping[str, Any]:
    return signup(replicas)


@pytest.fixture(scope="module")
def replicas_without_manager(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """The same deployment (its own Valkey and PostgreSQL), WEBSOCKET_MANAGER removed from both replicas."""
    with running_replicas(
        request, tmp_path_factory, "no-manager", edit=without_websocket_manager, load_balancer=False
    ) as running:
        yield running


@pytest.fixture(scope="module")
def admin_without_manager(replicas_without_manager: Running) -> Mapping[str, Any]:
    return signup(replicas_without_manager)


# ---------------------------------------------------------------------------------------------------------
# The rendered deployment
# ---------------------------------------------------------------------------------------------------------


def test_replicas_when_started_in_declared_order_are_each_healthy(replicas: Running) -> None:
    """Replica 2 (no migrations) starts after replica 1 as declared; both pass their rendered healthchecks."""
    first, second = replicas.replicas
    assert replicas.order.index(second) > replicas.order.index(first)
    rendered = replicas.deployment
    assert rendered.container(second).resource.depends_on(rendered.container(first).resource)
    assert rendered.container(second).env["ENABLE_DB_MIGRATIONS"] == "false"
    assert "ENABLE_DB_MIGRATIONS" not in rendered.container(first).env
    assert [process.health() for process in replicas.replicas.values()] == [200, 200]
    venv = open_webui_venv()
    assert venv is not None
    for name, process in replicas.replicas.items():
        healthcheck = rendered.container(name).healthcheck_command
        assert run_open_webui_healthcheck(healthcheck, process, venv).returncode == 0, f"{name}'s healthcheck fails"


def test_postgres_healthcheck_when_the_password_differs_from_the_cluster_fails(replicas: Running) -> None:
    """A cluster made with another password (a kept volume, a new stack) fails the rendered healthcheck."""
    postgres = replicas.postgres
    assert postgres is not None
    env = {**postgres.env, "PATH": f"{postgres.bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}
    command = postgres.local_healthcheck()
    assert subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, check=False).returncode == 0
    wrong = {**env, "POSTGRES_PASSWORD": env["POSTGRES_PASSWORD"] + "-not"}
    assert subprocess.run(["/bin/sh", "-c", command], env=wrong, capture_output=True, check=False).returncode != 0


def test_haproxy_config_when_checked_as_rendered_is_valid(replicas: Running, tmp_path: Any) -> None:
    """`haproxy -c` accepts the rendered configuration byte for byte (container names unresolved here)."""
    rendered = replicas.deployment.container(replicas.deployment.outputs["loadBalancerContainerName"])
    assert HAPROXY is not None
    check = HAProxyProcess(HAPROXY, rendered.uploads[CONFIG_PATH], CONFIG_PATH, tmp_path).check()
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Configuration file is valid" in check.stdout + check.stderr


def test_haproxy_config_when_localized_is_valid_and_maps_every_server(replicas: Running) -> None:
    """`haproxy -c` accepts the localized configuration, whose servers are the two replicas' loopback ports."""
    assert "Configuration file is valid" in replicas.haproxy_check
    assert replicas.haproxy is not None
    addresses = {name: row["addr"] for name, row in replicas.haproxy.servers().items()}
    assert addresses == {name: f"127.0.0.1:{process.port}" for name, process in replicas.replicas.items()}


def test_load_balancer_when_replicas_are_healthy_reports_both_servers_up(replicas: Running) -> None:
    """HAProxy's own /health checks mark both replicas UP, and GET /health through it answers 200."""
    assert replicas.haproxy is not None
    states = {name: (row["status"], row["check_status"]) for name, row in replicas.haproxy.servers().items()}
    assert states == {name: ("UP", "L7OK") for name in replicas.replicas}
    assert api(replicas.lb_url, "GET", "/health") == {"status": True}


def test_account_when_signed_up_on_replica_a_signs_in_on_replica_b(replicas: Running, admin: Mapping[str, Any]) -> None:
    """An account made on replica A signs in on replica B, and each replica accepts the other's token."""
    signed_in = api(
        replicas.b.url, "POST", "/api/v1/auths/signin", {"email": ADMIN["email"], "password": ADMIN["password"]}
    )
    assert signed_in["id"] == admin["id"]
    assert api(replicas.b.url, "GET", "/api/v1/auths/", token=admin["token"])["id"] == admin["id"]
    assert api(replicas.a.url, "GET", "/api/v1/auths/", token=signed_in["token"])["id"] == admin["id"]


def test_channel_created_event_when_raised_on_replica_a_reaches_client_on_replica_b(
    replicas: Running, admin: Mapping[str, Any]
) -> None:
    """channel:created, emitted on replica A to the user's room, reaches the user's socket on replica B."""
    with clients(("on A", replicas.a.url), ("on B", replicas.b.url), token=admin["token"], origin=replicas.origin) as (
        on_a,
        on_b,
    ):
        _, delivery = create_channel(replicas.a.url, admin["token"], [on_a, on_b], DELIVERY_TIMEOUT)
    assert delivery.missing() == [], f"{delivery.what} not received by {delivery.missing()} in {DELIVERY_TIMEOUT:g} s"
    replicas.report.note(f"replicas: {delivery.what} raised on A: {delivery.latencies()}")


def test_channel_message_when_posted_on_replica_a_reaches_client_on_replica_b(
    replicas: Running, admin: Mapping[str, Any]
) -> None:
    """A message posted on replica A reaches a socket.io client on replica B that joined the channel."""
    with clients(
        ("on A", replicas.a.url), ("on B", replicas.b.url), token=admin["token"], origin=replicas.origin
    ) as watched:
        channel_id, _ = create_channel(replicas.a.url, admin["token"], watched, DELIVERY_TIMEOUT)
        for client in watched:
            client.join_channels()
        delivery = post_message(replicas.a.url, channel_id, admin["token"], watched, DELIVERY_TIMEOUT)
    assert delivery.missing() == [], f"{delivery.what} not received by {delivery.missing()} in {DELIVERY_TIMEOUT:g} s"
    replicas.report.note(f"replicas: {delivery.what} posted on A: {delivery.latencies()}")


def test_channel_message_when_posted_through_load_balancer_reaches_every_client_behind_it(
    replicas: Running, admin: Mapping[str, Any]
) -> None:
    """Clients connected through HAProxy land on both replicas, and all receive a message posted through it."""
    haproxy = replicas.haproxy
    assert haproxy is not None
    targets = [(f"LB client {index}", replicas.lb_url) for index in range(1, CLIENTS_THROUGH_LB + 1)]
    with clients(*targets, token=admin["token"], origin=replicas.origin) as watched:

        def websockets_per_server() -> dict[str, int]:
            return {name: int(row["scur"] or 0) for name, row in haproxy.servers().items()}

        # Round robin without stickiness: the open websocket tunnels are spread over both replicas.
        assert wait_until(lambda: all(count >= 1 for count in websockets_per_server().values()), timeout=5), (
            f"websockets per replica: {websockets_per_server()}"
        )
        spread = websockets_per_server()
        channel_id, created = create_channel(replicas.lb_url, admin["token"], watched, DELIVERY_TIMEOUT)
        for client in watched:
            client.join_channels()
        delivery = post_message(replicas.lb_url, channel_id, admin["token"], watched, DELIVERY_TIMEOUT)
    assert created.missing() == [], f"{created.what} not received by {created.missing()}"
    assert delivery.missing() == [], f"{delivery.what} not received by {delivery.missing()} in {DELIVERY_TIMEOUT:g} s"
    replicas.report.note(f"replicas: websockets through HAProxy per replica: {spread}")
    replicas.report.note(f"replicas: {created.what} through HAProxy: {created.latencies()}")
    replicas.report.note(f"replicas: {delivery.what} through HAProxy: {delivery.latencies()}")


# ---------------------------------------------------------------------------------------------------------
# WEBSOCKET_MANAGER removed: the same events stay on the replica that raised them
# ---------------------------------------------------------------------------------------------------------


def test_healthcheck_when_websocket_manager_is_removed_never_passes(replicas_without_manager: Running) -> None:
    """The probe's event never comes back through a replica without the Redis manager: unhealthy from the start,
    so `pulumi up` would fail on it instead of serving replicas that do not share events."""
    assert set(replicas_without_manager.unhealthy) == set(replicas_without_manager.replicas)
    for said in replicas_without_manager.unhealthy.values():
        assert said.startswith("unhealthy: this replica has not delivered an event yet"), said


def test_env_when_websocket_manager_is_removed_differs_only_by_that_variable(replicas_without_manager: Running) -> None:
    """The negative replicas got the rendered environment minus WEBSOCKET_MANAGER, and nothing else changed."""
    for name, env in replicas_without_manager.env.items():
        rendered = replicas_without_manager.deployment.container(name).env
        assert rendered["WEBSOCKET_MANAGER"] == "redis"
        given = set(env)  # names only: the values hold passwords
        assert "WEBSOCKET_MANAGER" not in given
        assert {key for key in rendered if key != "WEBSOCKET_MANAGER"} <= given


def test_channel_created_event_when_websocket_manager_is_off_stays_on_replica_a(
    replicas_without_manager: Running, admin_without_manager: Mapping[str, Any]
) -> None:
    """Without WEBSOCKET_MANAGER, channel:created reaches the socket on replica A but not the one on replica B."""
    running, token = replicas_without_manager, admin_without_manager["token"]
    with clients(("on A", running.a.url), ("on B", running.b.url), token=token, origin=running.origin) as (on_a, on_b):
        _, on_replica_a = create_channel(running.a.url, token, [on_a], DELIVERY_TIMEOUT)
        on_replica_b = _collect(CHANNEL_CREATED, on_replica_a.sent_at, [on_b], is_channel_created, NOT_DELIVERED_WAIT)
    assert on_replica_a.missing() == [], "the event did not even reach the client on the replica that raised it"
    assert on_replica_b.missing() == ["on B"], (
        f"reached replica B without a websocket manager: {on_replica_b.latencies()}"
    )
    running.report.note(
        f"no-manager: {on_replica_a.what} raised on A: {on_replica_a.latencies()};"
        f" on B: none in {NOT_DELIVERED_WAIT:g} s"
    )


def test_channel_message_when_websocket_manager_is_off_stays_on_replica_a(
    replicas_without_manager: Running, admin_without_manager: Mapping[str, Any]
) -> None:
    """Without WEBSOCKET_MANAGER, a message posted on replica A reaches its client on A but never the one on B."""
    running, token = replicas_without_manager, admin_without_manager["token"]
    with clients(("on A", running.a.url), ("on B", running.b.url), token=token, origin=running.origin) as (on_a, on_b):
        channel_id, _ = create_channel(running.a.url, token, [on_a], DELIVERY_TIMEOUT)
        for client in (on_a, on_b):
            client.join_channels()  # B joins the channel's room on its own replica: rooms are not the difference
        delivery = post_message(running.a.url, channel_id, token, [on_a], DELIVERY_TIMEOUT)
        on_replica_b = _collect(
            delivery.what,
            delivery.sent_at,
            [on_b],
            lambda data: data.get("channel_id") == channel_id,
            NOT_DELIVERED_WAIT,
        )
    assert delivery.missing() == [], "the message did not even reach the client on the replica that raised it"
    assert on_replica_b.missing() == ["on B"], (
        f"reached replica B without a websocket manager: {on_replica_b.latencies()}"
    )
    running.report.note(
        f"no-manager: {delivery.what} posted on A: {delivery.latencies()}; on B: none in {NOT_DELIVERED_WAIT:g} s"
    )


# ---------------------------------------------------------------------------------------------------------
# components.verify's replica checks, each replica's probe run as `docker exec` would run it
# ---------------------------------------------------------------------------------------------------------


def local_probe(running: Running) -> Any:
    """``components.verify.StartProbe`` for the processes: the probe of this repository, with each replica's
    environment and port, and the options of its rendered healthcheck."""
    from components.verify import probe_options
    from tests.loopback import PROBE_FILE

    venv = open_webui_venv()
    assert venv is not None

    def start(name: str, args: Any) -> subprocess.Popen[str]:
        process = running.replicas[name]
        options = probe_options(["CMD-SHELL", running.deployment.container(name).healthcheck_command])
        argv = [str(venv / "bin" / "python3"), str(PROBE_FILE), "--port", str(process.port), *options, *args]
        return subprocess.Popen(
            argv, env=running.env[name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    return start


def test_verify_replicas_when_the_deployment_runs_delivers_every_event_to_every_replica(replicas: Running) -> None:
    """An event published from each replica reaches a socket.io client on each (four checks for two)."""
    from components.verify import check_replicas

    checks = check_replicas(list(replicas.replicas), local_probe(replicas))
    assert len(checks) == 4
    assert all(check.status == "PASS" for check in checks), checks


def test_verify_replicas_when_websocket_manager_is_removed_fails_every_event(
    replicas_without_manager: Running,
) -> None:
    """Without the Redis manager no replica hears Redis: every event is reported undelivered."""
    from components.verify import check_replicas

    checks = check_replicas(list(replicas_without_manager.replicas), local_probe(replicas_without_manager), timeout=3)
    assert [check.status for check in checks] == ["FAIL"] * 4

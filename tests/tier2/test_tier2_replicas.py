"""Tier 2, replicas (issue #5): the deployment rendered with ``openWebui.replicas: 2``, run for real on loopback.

Every container the program declares runs as a process, started in the order its dependencies give: Valkey
(as Tier 1 runs it), PostgreSQL (a throwaway cluster made from the container's ``POSTGRES_*`` values), the two
Open WebUI replicas (the second once the first, which migrates the database, is healthy) sharing one
``DATA_DIR`` for their shared volume, then HAProxy with the rendered configuration. Only container addresses
and paths are mapped to loopback, and the offline settings added (``tests/harness/replicas_support.py`` says exactly
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
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from components.core.load_balancer import CONFIG_PATH
from tests.harness.open_webui_process import open_webui_venv
from tests.harness.replicas import (
    ADMIN,
    CHANNEL_CREATED,
    CLIENTS_THROUGH_LB,
    DELIVERY_TIMEOUT,
    HAPROXY,
    NOT_DELIVERED_WAIT,
    REPLICAS_MARKS,
    Running,
    _collect,
    clients,
    create_channel,
    is_channel_created,
    post_message,
    running_replicas,
    signup,
    without_websocket_manager,
)
from tests.harness.replicas_support import HAProxyProcess, api, run_open_webui_healthcheck
from tests.harness.waiting import wait_until

pytestmark = REPLICAS_MARKS


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
    from tests.harness.loopback import PROBE_FILE

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

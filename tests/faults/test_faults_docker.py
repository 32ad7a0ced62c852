"""The faults tier on real Docker (issue #19): two Open WebUI replicas behind the load balancer, the stand-in
images (the real Open WebUI, Valkey and PostgreSQL builds, ``tests/standins/README.md``), each container in its own
network namespace with the rendered ``sysctls``.

For each fault an event raised through replica 1 (a REST call to its address on the stack's network) must reach a
socket.io client connected to replica 2's address; the seconds go to the terminal summary. The silent connection
is real: every packet of replica 2's Redis connections is dropped where it arrives, in replica 2's namespace and
in Valkey's (``tests/harness/faults.py``), nothing else. After each fault the account and a key written to Valkey before
it are still there. Everything is named ``owrt<pid>x-…`` and removed at the end.

Runs with ``scripts/test --all`` or ``REAL_DOCKER=1`` and ``OPEN_WEBUI_VENV`` unset is fine: the replicas are
containers.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from components.testing import render
from tests.harness.docker_applier import EngineClient
from tests.harness.docker_faults import DockerFaults
from tests.harness.docker_stack import DOCKER_MARKS, DockerReport, apply_stack, cleanup, derived_image, stack_config
from tests.harness.faults import (
    BACKOFF_BOUND,
    LONG_OUTAGE,
    RECOVERY_BOUND,
    FaultsReport,
    established,
    kernel_timers,
    silenced,
    wait_recovery,
)
from tests.harness.loopback import free_port

pytestmark = [*DOCKER_MARKS, pytest.mark.faults]


@pytest.fixture(scope="module")
def docker_faults(engine: EngineClient, images: dict[str, str], request: Any) -> Iterator[Any]:
    report = DockerReport.of(request.config)
    run = f"owrt{os.getpid()}x"
    port = free_port()
    try:
        config = stack_config(run, images, port, openWebui={"replicas": 2, "env": {"ENABLE_CHANNELS": "true"}})
        running = apply_stack(engine, config, run, port, report)
        faults = DockerFaults(running, FaultsReport.of(request.config))
        try:
            yield faults
        finally:
            faults.close()
    finally:
        cleanup(engine, run)


def test_valkey_when_killed_is_restarted_by_docker_and_events_flow_again_within_the_bound(
    docker_faults: DockerFaults,
) -> None:
    """kill -9 of the server (a crash, the OOM killer): its restart policy starts it again at once."""
    docker_faults.before("killed")
    restarts = docker_faults.running.inspect(docker_faults.valkey)["RestartCount"]
    os.kill(docker_faults.pid(docker_faults.valkey), signal.SIGKILL)
    killed = time.monotonic()
    healthy = docker_faults.wait_valkey_healthy(restarts)
    recovery = wait_recovery("Valkey killed (Docker restarts it)", killed, docker_faults.raise_and_wait, 60)
    docker_faults.report.add(f"real Docker: Valkey healthy again {healthy:.1f} s after the kill")
    docker_faults.after("killed", recovery, RECOVERY_BOUND)


def test_valkey_when_frozen_and_resumed_events_flow_again_within_the_bound(docker_faults: DockerFaults) -> None:
    docker_faults.frozen(lambda: docker_faults.pid(docker_faults.valkey), "Valkey")


def test_connections_when_silent_are_ended_by_the_kernel_and_events_flow_again_within_the_bound(
    docker_faults: DockerFaults,
) -> None:
    """Replica 2's Redis connections stop answering (no FIN, no RST; new connections work)."""
    docker_faults.silent(6379, docker_faults.pid(docker_faults.valkey), connections="Redis", server="Valkey")


def test_replica_when_deaf_for_good_is_unhealthy_within_the_bound_and_docker_restart_heals_it(
    docker_faults: DockerFaults,
) -> None:
    """A listener deaf for good while Redis answers (Open WebUI issues 26425, 28909): replica 2's Redis connections
    silent with Linux's own TCP timers put back in its namespace, so nothing ends them for minutes. Docker calls
    the replica unhealthy within the bound (the probe's clock: selfHeal.unhealthyAfterSeconds, then one check);
    on one host Docker restarts nothing, and what the README tells the operator, `docker restart -t 10`, heals it."""
    docker_faults.before("deaf")
    name = docker_faults.replicas[1]
    docker_faults.wait_delivered(name)
    b_pid = docker_faults.pid(name)
    ports = established(6379, pid=b_pid)
    assert len(ports) >= 3, f"replica 2's connections to Valkey: {ports}"
    with (
        kernel_timers(b_pid),
        silenced(6379, ports, client_pid=b_pid, server_pid=docker_faults.pid(docker_faults.valkey)),
    ):
        unhealthy = docker_faults.wait_health(name, "unhealthy", 90)
        deaf = not docker_faults.raise_and_wait(5)
        docker_faults.report.add(
            "real Docker: replica 2 deaf for good (silent, the kernel's own timers): Docker calls it unhealthy "
            + (f"{unhealthy:.1f} s after the silence began" if unhealthy is not None else "never, in 90 s")
        )
        assert unhealthy is not None, docker_faults.checks(name)
        assert unhealthy <= RECOVERY_BOUND, docker_faults.checks(name)
        assert deaf, "an event reached replica 2 through its silent connections"
        restarted = time.monotonic()  # the operator's command: the stop (up to 10 s) and the start
        docker_faults.running.applier.client.call("POST", f"/containers/{name}/restart", query={"t": 10})
        healthy = docker_faults.wait_health(name, "healthy", 180)
        healthy_after = time.monotonic() - restarted
        recovery = wait_recovery(
            "replica 2 deaf, `docker restart -t 10`", restarted, docker_faults.raise_and_wait, 180, since="the restart"
        )
    assert healthy is not None, "replica 2 is not healthy again after its restart"
    docker_faults.report.add(
        f"real Docker: replica 2 healthy again {healthy_after:.1f} s after `docker restart -t 10` was given"
    )
    docker_faults.after("deaf", recovery, 180)


def test_valkey_when_replaced_by_a_new_container_events_flow_again_within_the_bound(
    docker_faults: DockerFaults,
) -> None:
    """A new Valkey image: `pulumi up` replaces the container (a new address); Open WebUI stays."""
    docker_faults.before("replaced")
    running = docker_faults.running
    before = {name: running.inspect(name)["Id"] for name in [docker_faults.valkey, *docker_faults.replicas]}
    image = derived_image(running.config["valkey"]["image"], f"valkey:8.0.99-{running.run}")
    running.config = {**running.config, "valkey": {**running.config["valkey"], "image": image}}
    running.applier.apply(render(running.config))
    replaced = time.monotonic()
    after = {name: running.inspect(name)["Id"] for name in before}
    assert after[docker_faults.valkey] != before[docker_faults.valkey]
    assert [after[name] for name in docker_faults.replicas] == [before[name] for name in docker_faults.replicas]
    recovery = wait_recovery("Valkey replaced (new container)", replaced, docker_faults.raise_and_wait, 60)
    docker_faults.after("replaced", recovery, RECOVERY_BOUND)


def test_valkey_when_stopped_70_s_then_started_events_flow_again_within_the_listener_backoff(
    docker_faults: DockerFaults,
) -> None:
    docker_faults.before("long")
    client = docker_faults.running.applier.client
    client.call("POST", f"/containers/{docker_faults.valkey}/stop", query={"t": 0})
    time.sleep(LONG_OUTAGE)
    client.call("POST", f"/containers/{docker_faults.valkey}/start")
    docker_faults.wait_valkey_healthy(-1)
    recovery = wait_recovery(
        "Valkey down 70 s, started again", time.monotonic(), docker_faults.raise_and_wait, BACKOFF_BOUND + 30
    )
    docker_faults.after("long", recovery, BACKOFF_BOUND)

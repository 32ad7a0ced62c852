"""The real-Swarm tier, `valkey.tls`: the Swarm stack with the managed Valkey on TLS only, on a one-node swarm.

The smallest Swarm stack (one Open WebUI task on SQLite, Valkey) with ``valkey.tls``: the certificates are what
pulumi-tls would make (``tests/harness/tls_provider.py``, kept between renders as the stack's state keeps them), the key
a Docker secret file of the valkey user (uid 999) alone. Swarm runs both rendered healthchecks; ``components.verify``
finds the Valkey task and runs valkey-cli in it with TLS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from components.testing import Deployment, StackMocks, render
from components.verify import DockerValkeyCli, Target, check_deployment, locate_task
from tests.harness.docker_applier import EngineClient
from tests.harness.loopback import free_port
from tests.harness.swarm_applier import SwarmApplier, tasks_of
from tests.harness.swarm_stack import SWARM_MARKS, SwarmReport, docker, label_data_node, swarm_config
from tests.harness.tls_provider import ProviderState
from tests.harness.waiting import wait_until

pytestmark = SWARM_MARKS
CA = "/run/secrets/valkey-ca.pem"
KEY = "/run/secrets/valkey-server-key.pem"


class TLSSwarm:
    def __init__(self, run: str, config: dict[str, Any], state: ProviderState, applier: SwarmApplier) -> None:
        self.run, self.config, self.state, self.applier = run, config, state, applier
        self.deployment: Deployment = self.render()

    def render(self) -> Deployment:
        return render(self.config, mocks=StackMocks(tls=self.state))

    def task_container(self, service: str) -> str:
        (task,) = tasks_of(self.applier.client, f"{self.run}-{service}")
        return str(task["Status"]["ContainerStatus"]["ContainerID"])

    def valkey_cli(self, *args: str) -> tuple[int, str]:
        password = next(v for k, v in self.deployment.swarm_secrets().items() if "valkey-password" in k)
        return self.applier.client.exec(
            self.task_container("valkey"), ["valkey-cli", *args], env=[f"REDISCLI_AUTH={password}"]
        )


@pytest.fixture(scope="module")
def tls_swarm(
    engine: EngineClient, images: dict[str, str], manager: str, swarm_report: SwarmReport
) -> Iterator[TLSSwarm]:
    run = f"owrs{os.getpid()}t"
    config = swarm_config(run, images, free_port(), valkey={"tls": True})
    config["openWebui"] = {**config["openWebui"], "replicas": 1, "upgrade": "recreate"}
    del config["database"], config["loadBalancer"]  # one task on SQLite: the smallest stack
    label_data_node(manager, f"{run}.data")
    applier = SwarmApplier(engine)
    stack = TLSSwarm(run, config, ProviderState(), applier)
    try:
        applier.apply(stack.deployment)
        converged = {a.name: a.converged_after for a in applier.state.values() if a.converged_after is not None}
        swarm_report.add(
            f"{run} (valkey.tls): converged; per service: "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in sorted(converged.items()))
        )
        yield stack
    finally:
        try:
            applier.destroy()
        finally:
            for volume in (config["valkey"]["volumeName"], config["openWebui"]["volumeName"]):
                docker("volume", "rm", "-f", volume, check=False)  # Swarm never removes volumes


def test_valkey_task_when_on_tls_serves_tls_only_reading_a_key_only_it_may_read(tls_swarm: TLSSwarm) -> None:
    """The key is the valkey user's (999:1000, 0400) and the server, as uid 999, serves TLS with it; a plain-text
    PING gets no PONG, a TLS one verified against the CA does."""
    client = tls_swarm.applier.client
    container = tls_swarm.task_container("valkey")
    code, output = client.exec(container, ["stat", "-c", "%u:%g %a", KEY])
    assert (code, output.strip()) == (0, "999:1000 400"), output
    assert client.process_status(container)["Uid"].split()[0] == "999"
    code, output = tls_swarm.valkey_cli("-p", "6379", "ping")
    assert "PONG" not in output, output
    code, output = tls_swarm.valkey_cli("--tls", "--cacert", CA, "-p", "6379", "ping")
    assert (code, output.strip()) == (0, "PONG"), output


def test_open_webui_task_when_valkey_is_on_tls_subscribes_socketio(tls_swarm: TLSSwarm) -> None:
    """Open WebUI's task reached `rediss://redis:6379` over the overlay network with the CA secret file."""

    def subscribers() -> int:
        code, output = tls_swarm.valkey_cli("--tls", "--cacert", CA, "PUBSUB", "NUMSUB", "socketio")
        return int(output.split()[-1]) if code == 0 else -1

    assert wait_until(lambda: subscribers() >= 1, timeout=90), subscribers()


def test_verify_when_swarm_valkey_is_on_tls_finds_the_task_and_passes(tls_swarm: TLSSwarm) -> None:
    target = locate_task(Target.from_outputs(tls_swarm.deployment.outputs), "docker")
    assert target.tls is True
    cli = DockerValkeyCli(target.container, target.port, target.password, tls=target.tls)
    assert wait_until(lambda: check_deployment(target, cli).passed, timeout=60), check_deployment(target, cli).render()


def test_swarm_stack_when_on_tls_applied_again_changes_nothing(tls_swarm: TLSSwarm) -> None:
    steps = tls_swarm.applier.plan(tls_swarm.render())
    assert [(s.op, s.name, s.changes) for s in steps if s.op != "same"] == []

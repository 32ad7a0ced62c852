"""The real-Swarm tier, bring your own Redis: the Swarm stack on ``redis.url`` over TLS, on a one-node swarm.

The external server is Debian's ``redis-server`` (built with TLS) on the Docker host, listening on the host's
``docker0`` address (a task on an overlay network reaches the host's addresses through ``docker_gwbridge``) with a
certificate for that address, made here with ``openssl``. The stack declares no Valkey; the CA is a Docker secret
file of the Open WebUI task, whose rendered healthcheck (Swarm runs it; the service converges only once it passes)
PINGs the server over TLS with it; ``components.verify`` then finds the task and runs redis-py inside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.testing import Deployment, render
from components.verify import Target, check_deployment, docker_redis_py, locate_task
from tests.harness.docker_applier import EngineClient
from tests.harness.docker_external import PASSWORD, TLSRedis, make_tls_certificates
from tests.harness.loopback import free_port
from tests.harness.swarm_applier import SwarmApplier
from tests.harness.swarm_nodes import bridge_gateway
from tests.harness.swarm_stack import SWARM_MARKS, SwarmReport, docker, label_data_node, swarm_config

pytestmark = SWARM_MARKS


@dataclass
class ExternalSwarm:
    run: str
    config: dict[str, Any]
    deployment: Deployment
    applier: SwarmApplier
    certificates: Path

    def render(self) -> Deployment:
        return render(self.config, secret_keys=["redis"])


@pytest.fixture(scope="module")
def external_swarm(
    engine: EngineClient,
    images: dict[str, str],
    manager: str,
    swarm_report: SwarmReport,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ExternalSwarm]:
    run = f"owrs{os.getpid()}x"
    certificates = tmp_path_factory.mktemp("swarm-external-tls")
    gateway = bridge_gateway()  # the host's docker0 address: a task reaches it through its gateway bridge
    make_tls_certificates(certificates, gateway)
    server = TLSRedis(certificates, gateway, free_port())
    config = swarm_config(run, images, free_port())
    del config["valkey"], config["database"], config["loadBalancer"]  # no Valkey with redis.url; one task on SQLite
    config["openWebui"] = {**config["openWebui"], "replicas": 1, "upgrade": "recreate"}
    config["redis"] = {
        "url": f"rediss://default:{PASSWORD}@{gateway}:{server.port}/0",
        "keyPrefix": run,
        "tls": {"caCertFile": str(certificates / "ca.pem")},
    }
    applier = SwarmApplier(engine)
    try:
        server.start()  # inside the try: the server is killed whatever fails after it started
        label_data_node(manager, f"{run}.data")
        deployment = render(config, secret_keys=["redis"])
        applier.apply(deployment)  # converged: the task is healthy, its healthcheck having PINGed over TLS
        converged = {a.name: a.converged_after for a in applier.state.values() if a.converged_after is not None}
        swarm_report.add(
            f"{run} (redis.url over TLS): converged; per service: "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in sorted(converged.items()))
        )
        yield ExternalSwarm(run, config, deployment, applier, certificates)
    finally:
        try:
            applier.destroy()
        finally:
            server.kill()
            docker("volume", "rm", "-f", config["openWebui"]["volumeName"], check=False)


def test_swarm_stack_when_on_an_external_redis_runs_no_valkey_and_open_webui_converges(
    external_swarm: ExternalSwarm,
) -> None:
    """The only service is Open WebUI (no Valkey service, secret or volume); it converged with a healthy task."""
    services = [
        a.name for a in external_swarm.applier.state.values() if a.resource.type == "docker:index/service:Service"
    ]
    assert services == [f"{external_swarm.run}-open-webui"], services
    assert not [name for name in external_swarm.deployment.swarm_secrets() if "valkey" in name]
    listed = docker("service", "ls", "--format", "{{.Name}}").split()
    assert not [name for name in listed if name.startswith(external_swarm.run) and "valkey" in name], listed


def test_ca_when_given_to_the_task_is_a_secret_file_at_the_urls_path(external_swarm: ExternalSwarm) -> None:
    """The CA is at /run/secrets/redis-ca.pem (0444, a tmpfs), as the URL's `ssl_ca_certs` says."""
    target = locate_task(Target.from_outputs(external_swarm.deployment.outputs), "docker")
    code, output = external_swarm.applier.client.exec(
        target.container, ["stat", "-c", "%a", "/run/secrets/redis-ca.pem"]
    )
    assert (code, output.strip()) == (0, "444")
    code, output = external_swarm.applier.client.exec(target.container, ["cat", "/run/secrets/redis-ca.pem"])
    assert output.strip() == (external_swarm.certificates / "ca.pem").read_text().strip()


def test_verify_when_run_against_the_swarm_stack_on_an_external_redis_passes_inside_the_task(
    external_swarm: ExternalSwarm,
) -> None:
    """verify finds no Valkey in the outputs, locates the Open WebUI task and runs redis-py in it (TLS, the
    configured prefix): every check passes, and the password is never printed."""
    target = locate_task(Target.from_outputs(external_swarm.deployment.outputs), "docker")
    assert target.external
    assert target.container.startswith(f"{external_swarm.run}-open-webui.1.")
    report = check_deployment(target, docker_redis_py(target), target.key_prefix or "open-webui")
    assert report.passed, report.render()
    assert f"({external_swarm.run}:*)" in report.render()
    assert PASSWORD not in report.render()


def test_swarm_stack_when_on_an_external_redis_applied_again_changes_nothing(external_swarm: ExternalSwarm) -> None:
    steps = external_swarm.applier.plan(external_swarm.render())
    assert [(s.op, s.name, s.changes) for s in steps if s.op != "same"] == []

"""The faults tier on real Docker, bring your own Redis over TLS (issue #19): two Open WebUI replicas behind the
load balancer on an external server (Debian's redis-server, TLS only, on the stack's network's gateway address:
``tests/docker/test_real_docker_external.py``), each replica in its own network namespace with the rendered ``sysctls``.

The same faults as the managed Valkey's (``tests/faults/test_faults_docker.py``), done to the server the stack does not
manage: killed and started again (2 s, and 70 s later), frozen and resumed, and replica 2's connections to it made
silent (packets dropped in replica 2's namespace and in this host's, where the server runs). Over TLS, the kernel's
keepalive ends a silent connection as it does a plain one, and redis-py's health check then makes the listener
reconnect with the uploaded CA. The seconds go to the terminal summary; after each fault the account and a key
written to the server before it are still there.

Runs with ``scripts/test --all`` (root, a Docker daemon, Debian's redis-server and openssl).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.harness.docker_applier import EngineClient
from tests.harness.docker_external import External, external_stack
from tests.harness.docker_faults import DockerFaults
from tests.harness.docker_stack import DOCKER_MARKS, Running
from tests.harness.faults import BACKOFF_BOUND, LONG_OUTAGE, RECOVERY_BOUND, FaultsReport, wait_recovery

pytestmark = [*DOCKER_MARKS, pytest.mark.faults]


class ExternalFaults(DockerFaults):
    """The replicas as on the managed Valkey; the key the loss table keeps is on the external server."""

    WHERE = "real Docker, external Redis over TLS"

    def __init__(self, external: External, report: FaultsReport) -> None:
        self.external = external
        running = Running(
            external.applier, external.deployment, external.config, external.config["openWebui"]["hostPort"],
            external.run,
        )  # fmt: skip
        super().__init__(running, report)

    def set_kept(self, key: str) -> None:
        assert self.external.server.cli("SET", key, "kept") == "OK"

    def kept(self, key: str) -> str | None:
        return self.external.server.cli("GET", key) or None


@pytest.fixture(scope="module")
def external_faults(
    engine: EngineClient,
    images: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[ExternalFaults]:
    blocks = {"openWebui": {"replicas": 2, "env": {"ENABLE_CHANNELS": "true"}}}
    directory = tmp_path_factory.mktemp("faults-external-tls")
    with external_stack(engine, images, directory, f"owrt{os.getpid()}e", **blocks) as external:
        faults = ExternalFaults(external, FaultsReport.of(request.config))
        try:
            yield faults
        finally:
            faults.close()


def test_server_when_killed_and_started_2_s_later_events_flow_again_within_the_bound(
    external_faults: ExternalFaults,
) -> None:
    external_faults.before("killed")
    external_faults.external.server.kill()
    time.sleep(2)
    external_faults.external.server.start()
    recovery = wait_recovery(
        "external TLS server killed, started 2 s later", time.monotonic(), external_faults.raise_and_wait, 60
    )
    external_faults.after("killed", recovery, RECOVERY_BOUND)


def test_server_when_frozen_and_resumed_events_flow_again_within_the_bound(external_faults: ExternalFaults) -> None:
    external_faults.frozen(lambda: external_faults.external.server.pid, "external TLS server")


def test_connections_when_silent_are_ended_by_the_kernel_and_events_flow_again_within_the_bound(
    external_faults: ExternalFaults,
) -> None:
    """Replica 2's TLS connections to the server stop answering (no FIN, no RST; new connections work)."""
    # The server runs in this network namespace: no server_pid.
    external_faults.silent(external_faults.external.server.port, None, connections="TLS", server="the server")


def test_server_when_killed_and_started_70_s_later_events_flow_again_within_the_listener_backoff(
    external_faults: ExternalFaults,
) -> None:
    external_faults.before("long")
    external_faults.external.server.kill()
    time.sleep(LONG_OUTAGE)
    external_faults.external.server.start()
    recovery = wait_recovery(
        "external TLS server down 70 s, started again",
        time.monotonic(),
        external_faults.raise_and_wait,
        BACKOFF_BOUND + 30,
    )
    external_faults.after("long", recovery, BACKOFF_BOUND)

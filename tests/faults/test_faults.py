"""The faults tier (issue #19): every Redis fault heals without a person, and a deaf replica is not called healthy.

Tier 2 (loopback): the rendered deployment with two Open WebUI replicas, PostgreSQL and HAProxy, each container
run as a process (``tests/harness/replicas.py``'s ``running_replicas``). For each fault an event raised through
replica 1 (a REST call that emits ``channel:created`` to the user's room) must reach a socket.io client connected
to replica 2; the seconds from the end of the fault to the first such event go to the terminal summary. After each
fault what the README's loss table says is kept is still there: the account (PostgreSQL) and a key written to
Valkey before the fault (``appendOnly``, the default with replicas).

A process here has no network namespace of its own: the silent connection is made on this machine's loopback
(packets of replica 2's Redis connections dropped where they arrive, nothing else; root, as CI runs), without the
container's keepalive ``sysctls``, which would be this machine's: so Tier 2 measures how soon a deaf replica is
reported unhealthy, and the real-Docker cases (two replicas behind the load balancer, each in its own namespace
with the rendered sysctls, ``tests/faults/test_faults_docker.py``) how soon the kernel and the listener heal it.

Runs with ``scripts/test --all`` (``OPEN_WEBUI_VENV``, HAProxy, a PostgreSQL with pgvector).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from tests.harness.faults import (
    BACKOFF_BOUND,
    LONG_OUTAGE,
    RECOVERY_BOUND,
    FaultsReport,
    ReplicaEvents,
    established,
    silenced,
    wait_recovery,
)
from tests.harness.loopback import local_healthcheck
from tests.harness.open_webui_process import open_webui_venv
from tests.harness.replicas import ADMIN, REPLICAS_MARKS, Running, running_replicas, signup
from tests.harness.waiting import wait_until

pytestmark = [*REPLICAS_MARKS, pytest.mark.faults]
IS_ROOT = os.geteuid() == 0
SHORT_OUTAGE = 2.0


class Faults(ReplicaEvents):
    """The rendered deployment's processes: the replicas on loopback, Valkey's key through redis-py."""

    WHERE = "tier 2"

    def __init__(self, running: Running, token: str, report: FaultsReport) -> None:
        super().__init__(token, running.origin, ADMIN, report)
        self.running = running

    def url(self, index: int) -> str:
        return (self.running.a, self.running.b)[index].url

    def valkey_client(self) -> Any:
        valkey = self.running.valkey
        assert valkey is not None
        return valkey.client(1, decode_responses=True)

    def set_kept(self, key: str) -> None:
        with self.valkey_client() as client:
            client.set(key, "kept")

    def kept(self, key: str) -> str | None:
        with self.valkey_client() as client:
            value: str | None = client.get(key)
            return value


def restart_valkey(faults: Faults, down: float) -> None:
    """SIGKILL the Valkey process (a crash: nothing saved), start it again ``down`` seconds later."""
    valkey = faults.running.valkey
    assert valkey is not None
    valkey.kill()
    time.sleep(down)
    valkey.start()


@pytest.fixture(scope="module")
def faults(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    with running_replicas(request, tmp_path_factory, "faults", load_balancer=False) as running:
        answer: Mapping[str, Any] = signup(running)
        tier = Faults(running, str(answer["token"]), FaultsReport.of(request.config))
        try:
            yield tier
        finally:
            tier.close()


def _valkey_pid(faults: Faults) -> int:
    valkey = faults.running.valkey
    assert valkey is not None
    assert valkey.process is not None
    return valkey.process.pid


def test_valkey_when_killed_and_started_2_s_later_events_flow_again_within_the_bound(faults: Faults) -> None:
    faults.before("killed")
    restart_valkey(faults, SHORT_OUTAGE)
    recovery = wait_recovery("Valkey killed, started 2 s later", time.monotonic(), faults.raise_and_wait, 60)
    faults.after("killed", recovery, RECOVERY_BOUND)


def test_valkey_when_frozen_and_resumed_events_flow_again_within_the_bound(faults: Faults) -> None:
    faults.frozen(lambda: _valkey_pid(faults), "Valkey")


@pytest.mark.skipif(not IS_ROOT, reason="drops packets with iptables: needs root")
def test_replica_when_its_connections_go_silent_is_unhealthy_within_the_bound(faults: Faults) -> None:
    """Replica 2's Redis connections stop answering (no FIN, no RST; new connections work). A process here has
    this machine's keepalive (two hours), not the container's sysctls that end such a connection within about
    13 s (that healing is measured on real Docker, tests/faults/test_faults_docker.py): the listener stays deaf, and the
    rendered healthcheck, run as Docker runs it (5 s after the last check ends), fails within
    selfHeal.unhealthyAfterSeconds + 14 s (28 s by default). Once the packets flow again, events do and the check
    passes."""
    faults.before("deaf")
    valkey = faults.running.valkey
    assert valkey is not None
    b_name = list(faults.running.replicas)[1]
    b = faults.running.b
    assert b.process is not None
    venv = open_webui_venv()
    assert venv is not None
    command = local_healthcheck(faults.running.deployment.container(b_name).healthcheck_command, b.workdir / "faults")
    env = {**b.env, "PORT": str(b.port), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=15)

    assert check().returncode == 0
    ports = established(valkey.port, owner=b.process.pid)
    assert len(ports) >= 3, f"replica 2's connections to Valkey: {ports}"  # three listeners, a client or more
    unhealthy_after = None
    with silenced(valkey.port, ports):
        started = time.monotonic()
        while time.monotonic() - started < 60:
            result = check()
            if result.returncode != 0:
                unhealthy_after = time.monotonic() - started
                break
            time.sleep(5)  # Docker's interval, counted from the end of the last check
    faults.report.add(
        f"tier 2: replica 2's Redis connections silent (this machine's keepalive): healthcheck fails "
        f"{unhealthy_after:.1f} s after the silence began ({result.stdout.strip()})"
        if unhealthy_after is not None
        else "tier 2: replica 2's Redis connections silent: the healthcheck never failed in 60 s"
    )
    assert unhealthy_after is not None
    assert unhealthy_after <= RECOVERY_BOUND
    assert "unhealthy: deaf for" in result.stdout
    # TCP resumes at its next retransmission, whose backoff doubled through the silence (up to about 50 s here).
    recovery = wait_recovery("replica 2's packets flow again", time.monotonic(), faults.raise_and_wait, 90)
    faults.after("deaf", recovery, 60)
    assert wait_until(lambda: check().returncode == 0, 30, interval=2), "the healthcheck still fails once events flow"


def test_valkey_when_killed_and_started_70_s_later_events_flow_again_within_the_listener_backoff(
    faults: Faults,
) -> None:
    """Longer than a minute: Open WebUI's listener retries on its own schedule, 60 s apart at most."""
    faults.before("long")
    restart_valkey(faults, LONG_OUTAGE)
    recovery = wait_recovery(
        "Valkey killed, started 70 s later", time.monotonic(), faults.raise_and_wait, BACKOFF_BOUND + 30
    )
    faults.after("long", recovery, BACKOFF_BOUND)

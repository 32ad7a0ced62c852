"""Every container is declared in the form Docker stores it and pulumi-docker reads it back.

The provider diffs the next ``pulumi up`` against what it read from Docker (``resourceDockerContainerRead``), not
against what it sent; a field declared in another spelling is a difference every time, and for healthchecks
(``replace_on_changes``) and capabilities (ForceNew) a replacement of the container and, through the data edge,
of every Open WebUI container. ``tests/docker/test_real_docker.py`` checks the same on a real daemon.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.core.docker_forms import duration_text
from components.testing import Deployment, render
from tests.harness.loopback import go_duration

STACKS: dict[str, dict[str, Any]] = {
    "dev": {},
    "replicas-2": {"openWebui": {"replicas": 2, "memoryMb": 1536}},
    "engine-25": {"openWebui": {"replicas": 2}, "docker": {"healthStartInterval": True}},
}


@pytest.fixture(scope="module", params=sorted(STACKS))
def deployment(request: pytest.FixtureRequest) -> Deployment:
    return render(STACKS[request.param])


def test_duration_text_when_formatted_is_what_go_prints() -> None:
    """Seconds become Go's Duration.String(): 5m0s, 1m0s, 1h0m0s, 1m30s, 30s, 0s."""
    assert [duration_text(s) for s in (300, 60, 3600, 90, 30, 1, 0)] == [
        "5m0s",
        "1m0s",
        "1h0m0s",
        "1m30s",
        "30s",
        "1s",
        "0s",
    ]


def test_healthcheck_durations_when_declared_are_in_go_form(deployment: Deployment) -> None:
    """Every healthcheck duration reads back unchanged (Docker stores nanoseconds; Go prints 1m0s, not 60s)."""
    for name, container in deployment.containers().items():
        for key in ("interval", "timeout", "startPeriod", "startInterval"):
            if key in container.healthcheck:
                value = container.healthcheck[key]
                assert duration_text(int(go_duration(value))) == value, f"{name}: healthcheck.{key} {value!r}"


def test_capabilities_when_declared_are_in_the_form_docker_stores(deployment: Deployment) -> None:
    """Docker's Go client sends capabilities upper-case, CAP_-prefixed and sorted; the provider reads that back."""
    for name, container in deployment.containers().items():
        capabilities = container.resource.inputs.get("capabilities")
        if capabilities is None:
            continue
        for key in ("adds", "drops"):
            values = capabilities.get(key, [])
            stored = sorted(v if v == "ALL" else "CAP_" + v.upper().removeprefix("CAP_") for v in values)
            assert values == stored, f"{name}: capabilities.{key}"


def test_memory_when_limited_is_a_hard_cap_declared_with_its_swap(deployment: Deployment) -> None:
    """memory without memory_swap reads back with Docker's swap (as much again): declare both, equal."""
    for name, container in deployment.containers().items():
        inputs = container.resource.inputs
        if "memory" in inputs:
            assert inputs["memorySwap"] == inputs["memory"], name


def test_every_container_when_stopped_gets_the_same_grace_on_docker_stop_and_on_replace(
    deployment: Deployment,
) -> None:
    """stop_timeout (docker stop, daemon restart) equals destroy_grace_seconds (replace, destroy)."""
    for name, container in deployment.containers().items():
        inputs = container.resource.inputs
        assert inputs["stopTimeout"] == inputs["destroyGraceSeconds"] >= 30, name


def test_start_interval_when_engine_is_older_than_25_is_never_declared() -> None:
    """Docker's Go client refuses a start interval below API 1.44 (Engine 25): the default declares none."""
    for name, container in render(STACKS["replicas-2"]).containers().items():
        assert "startInterval" not in container.healthcheck, name


def test_start_interval_when_engine_has_it_probes_every_second_while_starting() -> None:
    """docker.healthStartInterval: 1 s probes while starting, then the steady interval; Valkey needs none."""
    containers = render(STACKS["engine-25"]).containers()
    intervals = {
        name: (c.healthcheck.get("startInterval"), c.healthcheck["interval"]) for name, c in containers.items()
    }
    assert intervals == {
        "redis-valkey": (None, "1s"),
        "open-webui-postgres": ("1s", "10s"),
        "open-webui-1": ("1s", "5s"),  # the probe: a deaf replica is unhealthy within selfHeal's bound
        "open-webui-2": ("1s", "5s"),
        "open-webui-lb": ("1s", "10s"),
    }


def test_probe_interval_when_engine_has_no_start_interval_bounds_the_wait_to_5_seconds() -> None:
    """Without start intervals everything slow to start is probed every 5 s, Valkey every second."""
    containers = render(STACKS["replicas-2"]).containers()
    assert {name: c.healthcheck["interval"] for name, c in containers.items()} == {
        "redis-valkey": "1s",
        "open-webui-postgres": "5s",
        "open-webui-1": "5s",
        "open-webui-2": "5s",
        "open-webui-lb": "5s",
    }

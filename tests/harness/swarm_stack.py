"""The rendered Swarm stack applied to a real swarm (``tests/harness/swarm_applier.py``), as the real-Swarm and browser
tiers share it: the configuration with a run's names and stand-in images, applying it, cleaning up after it, the probe
container on the overlay network, the tier's figures and marks.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.testing import Deployment, render
from tests.harness.docker_applier import EngineClient
from tests.harness.open_webui_process import FiguresReport
from tests.harness.swarm_applier import SwarmApplier, tasks_of

ENABLED = os.environ.get("REAL_DOCKER") == "1"
SWARM_MARKS = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not ENABLED,
        reason=(
            "the real-Swarm tier runs with `scripts/test --all` (it starts a Docker daemon) or REAL_DOCKER=1; "
            "REAL_DOCKER=0 leaves it out (the GitHub workflow)"
        ),
    ),
]
PROBE = Path(__file__).resolve().parent / "swarm_probe.py"
USER = {"name": "Swarm", "email": "swarm@example.com", "password": "swarm-correct-horse-battery"}


class SwarmReport(FiguresReport):
    """Prints the figures of the real-Swarm tier in the terminal summary."""

    NAME = "open-webui-real-swarm-report"
    TITLE = "Real Swarm: figures"


def docker(*args: str, host: str | None = None, check: bool = True, timeout: float = 600) -> str:
    command = ["docker", *(["-H", host] if host else []), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(command)}: {result.returncode} {result.stderr.strip()}")
    return result.stdout.strip()


def endpoint_mode() -> str:
    """``vip`` where the kernel has IPVS (Swarm's virtual IPs and routing mesh need it), else ``dnsrr``: this
    project's test machines have none (FIELD-NOTES; tests/harness/swarm_nodes.py)."""
    return "vip" if Path("/proc/net/ip_vs").exists() else "dnsrr"


def swarm_config(run: str, images: dict[str, str], port: int, **blocks: dict[str, Any]) -> dict[str, Any]:
    """Pulumi.swarm.yaml's stack with this run's names, port, data label and stand-in images."""
    config: dict[str, Any] = {
        "engine": "swarm",
        "network": {"name": f"{run}-net"},
        "valkey": {"image": images["valkey"], "containerName": f"{run}-valkey", "volumeName": f"{run}-redis-data"},
        "openWebui": {
            "image": images["open-webui"],
            "containerName": f"{run}-open-webui",
            "volumeName": f"{run}-open-webui",
            "hostPort": port,
            "replicas": 2,
            "upgrade": "rolling",
            # Channels raise socket.io events from REST calls, with no model (as in Tier 2).
            "env": {"ENABLE_CHANNELS": "true"},
        },
        "database": {"image": images["postgres"], "containerName": f"{run}-postgres", "volumeName": f"{run}-postgres"},
        "loadBalancer": {"image": images["haproxy"], "containerName": f"{run}-lb"},
        # No registry answers here: the stand-in images are on every node, by tag.
        "swarm": {"dataLabel": f"{run}.data", "endpointMode": endpoint_mode(), "pinImages": False},
    }
    for key, values in blocks.items():
        config[key] = {**config.get(key, {}), **values}
    return config


@dataclass
class SwarmRun:
    run: str
    port: int
    config: dict[str, Any]
    deployment: Deployment
    applier: SwarmApplier
    created_in: float
    secret_keys: tuple[str, ...] = ()

    @property
    def network_id(self) -> str:
        network = next(a for a in self.applier.state.values() if a.resource.type == "docker:index/network:Network")
        return network.docker_id

    def service(self, name: str) -> str:
        return f"{self.run}-{name}"

    def tasks(self, name: str) -> list[dict[str, Any]]:
        return tasks_of(self.applier.client, self.service(name))

    def render(self, **blocks: dict[str, Any]) -> Deployment:
        for key, values in blocks.items():
            self.config[key] = {**self.config.get(key, {}), **values}
        return render(self.config, secret_keys=self.secret_keys)

    def probe(self, mode: str, options: dict[str, Any], *, detach: bool = False) -> str:
        """Run ``tests/harness/swarm_probe.py`` in a container on the stack's overlay network."""
        options = {"user": USER, "origin": f"http://localhost:{self.port}", **options}
        args = [
            "run",
            "--network",
            self.config["network"]["name"],
            "--label",
            f"open-webui-redis.test={self.run}",
            "-v",
            f"{PROBE}:/probe.py:ro",
            "--entrypoint",
            "python3",
        ]
        if detach:
            args += ["-d", "--name", f"{self.run}-probe"]
        else:
            args += ["--rm"]
        command = ["docker", *args, self.config["openWebui"]["image"], "/probe.py", mode, json.dumps(options)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if not detach and not result.stdout.strip():
            raise AssertionError(f"the probe printed nothing (exit {result.returncode}): {result.stderr[-3000:]}")
        return result.stdout.strip()


def label_data_node(node_id: str, label: str) -> None:
    docker("node", "update", "--label-add", f"{label}=true", node_id)


def cleanup(run: SwarmRun | None, engine: EngineClient, hosts: list[str | None]) -> None:
    if run is not None:
        with contextlib.suppress(Exception):
            docker("rm", "-f", f"{run.run}-probe", check=False)
        try:
            run.applier.destroy()
        finally:  # Swarm never removes volumes: each node's, by name
            for host in hosts:
                for volume in (run.config[k]["volumeName"] for k in ("valkey", "openWebui", "database")):
                    docker("volume", "rm", "-f", volume, host=host, check=False)


def apply(engine: EngineClient, run: str, config: dict[str, Any], report: SwarmReport) -> SwarmRun:
    deployment = render(config)
    applier = SwarmApplier(engine)
    started = time.monotonic()
    applier.apply(deployment)
    created_in = time.monotonic() - started
    converged = {
        applied.name: applied.converged_after
        for applied in applier.state.values()
        if applied.converged_after is not None
    }
    report.add(
        f"{run} ({config['swarm']['endpointMode']}): the stack converged in {created_in:.0f} s; per service: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in sorted(converged.items()))
    )
    return SwarmRun(run, config["openWebui"]["hostPort"], config, deployment, applier, created_in)

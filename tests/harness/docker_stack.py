"""The rendered stack applied to a real Docker daemon (``tests/harness/docker_applier.py``), as the real-Docker, faults
and browser tiers share it: the configuration with a run's names and stand-in images, applying it, cleaning up after it,
the tier's figures and marks.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.testing import Deployment, render
from tests.harness.docker_applier import CONTAINER, Applied, Applier, DockerError, EngineClient
from tests.harness.lifecycle import Poller
from tests.harness.open_webui_process import FiguresReport
from tests.harness.paths import ROOT

ENABLED = os.environ.get("REAL_DOCKER") == "1"
DOCKER_MARKS = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not ENABLED,
        reason=(
            "the real-Docker tier runs with `scripts/test --all` (it starts a Docker daemon) or REAL_DOCKER=1; "
            "REAL_DOCKER=0 leaves it out (the GitHub workflow, whose live job deploys the real images)"
        ),
    ),
]


class DockerReport(FiguresReport):
    """Prints the figures of the real-Docker tier in the terminal summary."""

    NAME = "open-webui-real-docker-report"
    TITLE = "Real Docker: figures"


def stack_config(run: str, images: dict[str, str], port: int, **blocks: dict[str, Any]) -> dict[str, Any]:
    """The dev stack's configuration with this run's names, port and stand-in images (nothing else changed)."""
    config: dict[str, Any] = {
        "network": {"name": f"{run}-net"},
        "valkey": {
            "image": images["valkey"],
            "containerName": f"{run}-valkey",
            "volumeName": f"{run}-redis-data",
            "retainVolume": False,
        },
        "openWebui": {
            "image": images["open-webui"],
            "containerName": f"{run}-open-webui",
            "volumeName": f"{run}-open-webui",
            "hostPort": port,
            "bindAddress": "127.0.0.1",
            "retainVolume": False,
        },
        "database": {
            "image": images["postgres"],
            "containerName": f"{run}-postgres",
            "volumeName": f"{run}-postgres",
            "retainVolume": False,
        },
        "loadBalancer": {"image": images["haproxy"], "containerName": f"{run}-lb"},
    }
    for key, values in blocks.items():
        config[key] = {**config.get(key, {}), **values}
    return config


@dataclass
class Running:
    """One rendered stack applied to the daemon."""

    applier: Applier
    deployment: Deployment
    config: dict[str, Any]
    port: int
    run: str
    steps: list[Any] = field(default_factory=list)

    def container(self, name: str) -> Applied:
        return next(a for a in self.applier.state.values() if a.resource.type == CONTAINER and a.inputs["name"] == name)

    def inspect(self, name: str) -> dict[str, Any]:
        found = self.applier.client.inspect_container(name)
        assert found is not None, f"no container {name}"
        return found

    def valkey_cli(self, *args: str) -> str:
        code, output = self.applier.client.exec(f"{self.run}-valkey", ["valkey-cli", *args])
        assert code == 0, output
        return output.strip()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def derived_image(base: str, tag: str) -> str:
    """A new image (a new id, as a new release has) made from ``base`` with one more label, tagged ``tag``."""
    dockerfile = f"FROM {base}\nLABEL open-webui-redis.test=standin open-webui-redis.test.release={tag}\n"
    subprocess.run(
        ["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, text=True, capture_output=True, check=True
    )
    return tag


def cleanup(engine: EngineClient, run: str) -> None:
    """Remove whatever of this run is left (containers, then networks and volumes named ``run-…``)."""
    removals: tuple[tuple[str, dict[str, str] | None, str, dict[str, str] | None], ...] = (
        ("containers", {"all": "1"}, "/containers/{}", {"force": "1", "v": "1"}),
        ("networks", None, "/networks/{}", None),
        ("volumes", None, "/volumes/{}", {"force": "true"}),
    )
    for kind, listing_query, path, query in removals:
        found = engine.call("GET", "/containers/json" if kind == "containers" else f"/{kind}", query=listing_query)
        items = (found["Volumes"] or []) if kind == "volumes" else found
        for item in items:
            names = [n.lstrip("/") for n in item.get("Names") or [item.get("Name", "")]]
            if any(n.startswith(f"{run}-") for n in names):
                with contextlib.suppress(DockerError):
                    engine.call("DELETE", path.format(item.get("Id") or item["Name"]), query=query)
    # The derived "new release" images of this run, tagged like releases (`0.99.1-<run>`): the stack refuses a
    # moving tag with `upgrade: rolling`.
    for image in engine.call("GET", "/images/json"):
        for tag in image.get("RepoTags") or []:
            if tag.endswith(f"-{run}"):
                with contextlib.suppress(DockerError):
                    engine.call("DELETE", f"/images/{tag}")


def apply_stack(engine: EngineClient, config: dict[str, Any], run: str, port: int, report: DockerReport) -> Running:
    applier = Applier(engine, log=lambda line: print(f"[{run}] {line}", file=sys.stderr))
    deployment = render(config)
    started = time.monotonic()
    running = Running(applier, deployment, config, port, run)
    with Poller(running.url) as watcher:
        running.steps = applier.apply(deployment)
    for applied in applier.state.values():
        if applied.healthy_after is not None:
            report.add(f"{run} {applied.inputs['name']}: healthy {applied.healthy_after:.1f} s after start")
    last = max(a.started_at + (a.healthy_after or 0) for a in applier.state.values() if a.healthy_after is not None)
    if watcher.first_ok is not None:
        report.add(
            f"{run}: Open WebUI answered /health through the published port; `pulumi up` went on "
            f"{last - watcher.first_ok:.1f} s later; whole apply {time.monotonic() - started:.1f} s"
        )
    return running


def verify_outputs(outputs: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``python -m components.verify --outputs`` on these stack outputs."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return subprocess.run(
        [sys.executable, "-m", "components.verify", "--outputs", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

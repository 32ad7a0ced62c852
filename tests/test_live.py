"""Against a real Docker daemon with the Pulumi CLI: `pulumi preview`, and with LIVE_UP=1 a full up, a second
preview that must find no change, verify and destroy.

These need the Pulumi CLI, which these development machines cannot install (a Docker daemon they can run: the
real-Docker tier, tests/test_real_docker.py, stands in for the provider there); they run in the GitHub
workflow's preview job and on any workstation that has both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _docker_daemon_answers() -> bool:
    return (
        shutil.which("docker") is not None and subprocess.run(["docker", "info"], capture_output=True).returncode == 0
    )


pytestmark = [
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI, which is not installed here"),
    pytest.mark.skipif(not _docker_daemon_answers(), reason="needs a Docker daemon, and none answers here"),
]


@pytest.fixture
def live_stack(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A throwaway stack on a local file backend with unique names, removed afterwards."""
    name = f"live-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        {
            "PULUMI_BACKEND_URL": f"file://{tmp_path}",
            "PULUMI_CONFIG_PASSPHRASE": "live-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
    )
    config = {
        "open-webui-redis:network": {"name": f"{name}-net"},
        "open-webui-redis:valkey": {
            "containerName": f"{name}-valkey",
            "volumeName": f"{name}-valkey-data",
            "retainVolume": False,
        },
        "open-webui-redis:openWebui": {
            "containerName": f"{name}-owui",
            "volumeName": f"{name}-owui-data",
            "hostPort": 39000 + int(name[-3:], 16) % 1000,
            "retainVolume": False,
        },
    }
    stack_file = ROOT / f"Pulumi.{name}.yaml"
    stack_file.write_text(json.dumps({"config": config}))  # JSON is YAML
    subprocess.run(["pulumi", "stack", "init", name], cwd=ROOT, env=env, check=True)
    try:
        yield name, env
    finally:
        subprocess.run(["pulumi", "destroy", "--yes", "--stack", name], cwd=ROOT, env=env, check=False)
        subprocess.run(["pulumi", "stack", "rm", "--yes", "--force", name], cwd=ROOT, env=env, check=False)
        stack_file.unlink(missing_ok=True)


def test_preview_when_run_against_docker_plans_the_stack(live_stack: tuple[str, dict[str, str]]) -> None:
    """`pulumi preview` against a real daemon plans every resource and reports no error."""
    name, env = live_stack
    result = subprocess.run(
        ["pulumi", "preview", "--stack", name, "--json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    created = sorted(step["newState"]["type"] for step in steps if step["op"] == "create")
    assert created.count("docker:index/container:Container") == 2


@pytest.mark.skipif(os.environ.get("LIVE_UP") != "1", reason="deploys real containers: set LIVE_UP=1 to run it")
def test_up_when_run_serves_open_webui_with_redis_managed_websockets(live_stack: tuple[str, dict[str, str]]) -> None:
    """`pulumi up` ends with both containers healthy, a second preview plans nothing, `components.verify` passes."""
    name, env = live_stack
    subprocess.run(["pulumi", "up", "--yes", "--stack", name], cwd=ROOT, env=env, check=True)
    # A second `pulumi up` with nothing changed must change nothing: everything declared as Docker reads it back.
    again = subprocess.run(
        ["pulumi", "preview", "--expect-no-changes", "--diff", "--stack", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    verify = subprocess.run(
        [sys.executable, "-m", "components.verify", "--stack", name], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

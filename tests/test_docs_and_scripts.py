"""The README, the set-up scripts and CI agree with the code, and the deploy script fails safely.

Every snippet of README.md and docs/*.md runs in tests/test_docs.py."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.testing import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
COMPONENTS_PAGE = (ROOT / "docs" / "components.md").read_text()


def test_configuration_reference_when_generated_matches_the_code() -> None:
    """docs/configuration.md's reference between the markers is what tools/reference.py generates now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "reference.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_hosted_fields_when_generated_match_the_settings_models() -> None:
    """components/hosted.py's settings fields are what tools/hosted_fields.py generates from the models now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "hosted_fields.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_hosted_fields_when_a_description_is_edited_by_hand_are_rewritten_from_the_model() -> None:
    """A hand edit inside a generated block is undone (so --check fails on it); a block names its model."""
    spec = importlib.util.spec_from_file_location("hosted_fields", ROOT / "tools" / "hosted_fields.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    source = (ROOT / "components" / "hosted.py").read_text()
    edited = source.replace('"""Valkey image. Default:', '"""The Valkey image. Default:', 1)
    assert edited != source
    assert tool.generated(edited) == source
    assert tool.generated(source) == source


def test_components_page_python_snippet_when_run_declares_what_it_says() -> None:
    """The "own program" example of docs/components.md runs and publishes a second Open WebUI on port 3001."""
    (snippet,) = [
        block for block in re.findall(r"```python\n(.*?)```", COMPONENTS_PAGE, re.S) if "pulumi.export" in block
    ]
    deployment = run(lambda: exec(compile(snippet, "docs/components.md", "exec"), {}))  # noqa: S102 - our own docs
    assert deployment.outputs == {"chat_url": "http://127.0.0.1:3001"}
    assert deployment.container("chat").env["REDIS_URL"].endswith("@redis:6379/2")


def test_readme_set_up_when_read_has_exactly_two_commands() -> None:
    """A fresh machine needs two commands: deploy the dev stack, and install and run the tests."""
    set_up = README.split("## Set up", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in set_up.splitlines() if line.split("#")[0].strip()]
    assert commands == ["scripts/deploy", "scripts/test --all"]


def test_ci_when_run_calls_the_readme_test_command_with_every_tier() -> None:
    """.ci/run runs the README's test command (scripts/test --all) and nothing else."""
    set_up = README.split("## Set up", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    readme_test = [line.split("#")[0].strip() for line in set_up.splitlines() if "scripts/test" in line]
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert readme_test == ["scripts/test --all"]
    assert lines[-1] == f"exec {readme_test[0]}"


@pytest.fixture
def bare_checkout(tmp_path: Path) -> Path:
    """A copy of the deploy script in an empty checkout, to see what it leaves behind."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for script in ("deploy", "env"):
        shutil.copy(ROOT / "scripts" / script, checkout / "scripts" / script)
    return checkout


def _path_without(*programs: str, tmp_path: Path) -> str:
    """PATH with the basics but none of ``programs``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "env", "python3", "mkdir", "cat", "docker", "pulumi"):
        found = shutil.which(tool)
        if found and tool not in programs:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_deploy_when_pulumi_cli_missing_stops_before_any_state(bare_checkout: Path, tmp_path: Path) -> None:
    """Without the Pulumi CLI the deploy command names what is missing and creates no state or passphrase."""
    env = {"PATH": _path_without("pulumi", tmp_path=tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", str(bare_checkout / "scripts" / "deploy")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1
    assert "the Pulumi CLI is not installed. Install it: https://www.pulumi.com/docs/iac/download-install/" in (
        result.stderr
    )
    assert sorted(path.name for path in bare_checkout.iterdir()) == ["scripts"]


def test_deploy_when_docker_daemon_missing_says_how_to_get_one(bare_checkout: Path, tmp_path: Path) -> None:
    """With no Docker daemon answering, the deploy command says so and points at DOCKER_HOST."""
    if shutil.which("docker") is None:
        pytest.skip("no Docker CLI on this machine: the daemon check cannot be exercised")
    path = _path_without("pulumi", tmp_path=tmp_path)
    stub = Path(path) / "pulumi"  # the CLI check comes first: a stand-in that is never run past it
    stub.write_text("#!/bin/sh\necho 'pulumi stub: must not run' >&2\nexit 99\n")
    stub.chmod(0o755)
    # A socket nothing listens on: no daemon answers there, whatever runs on this machine's default socket.
    env = {"PATH": path, "HOME": str(tmp_path), "DOCKER_HOST": "unix:///nonexistent.sock"}
    result = subprocess.run(
        ["bash", str(bare_checkout / "scripts" / "deploy")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1
    assert "no Docker daemon answers at DOCKER_HOST=unix:///nonexistent.sock." in result.stderr
    assert sorted(path.name for path in bare_checkout.iterdir()) == ["scripts"]


def test_gitignore_when_read_keeps_state_and_passphrase_out_of_git() -> None:
    """The local state and its passphrase never get committed."""
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".pulumi-state/" in ignored
    assert ".pulumi-passphrase" in ignored
    assert os.access(ROOT / "scripts" / "deploy", os.X_OK)

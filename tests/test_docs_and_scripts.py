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
    # The page writes the installed package's name; in this checkout the same modules are `components`.
    code = compile(snippet.replace("open_webui_redis", "components"), "docs/components.md", "exec")
    deployment = run(lambda: exec(code, {}))  # noqa: S102 - our own docs
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


def test_scripts_when_listed_are_executable_but_the_sourced_env() -> None:
    """Every script the README, the docs and other scripts run directly can be run (scripts/env is sourced)."""
    not_executable = [p.name for p in (ROOT / "scripts").iterdir() if p.name != "env" and not os.access(p, os.X_OK)]
    assert not_executable == []


def _fake_apt(tmp_path: Path, lock_failures: int) -> dict[str, str]:
    """PATH with a dpkg-query that finds nothing installed and an apt-get that reports dpkg's lock held for its
    first ``lock_failures`` calls, logging each call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "apt-get").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {tmp_path}/calls\n'
        f"n=$(cat {tmp_path}/count 2>/dev/null || echo 0); echo $((n + 1)) > {tmp_path}/count\n"
        f'if [ "$n" -lt {lock_failures} ]; then\n'
        "  echo 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 42 (apt-get)' >&2; exit 100\n"
        "fi\n"
    )
    for tool in (bin_dir / "dpkg-query", bin_dir / "apt-get"):
        tool.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}


@pytest.mark.skipif(os.geteuid() != 0, reason="the fake apt-get is called without sudo only as root")
def test_apt_install_when_the_lock_is_held_waits_and_then_installs(tmp_path: Path) -> None:
    """Another installer holding dpkg's lock: apt-install says so, retries, and installs once it is free."""
    env = {**_fake_apt(tmp_path, lock_failures=1), "APT_LOCK_WAIT_SECONDS": "60"}
    result = subprocess.run([str(ROOT / "scripts" / "apt-install"), "haproxy"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "apt's lock is held by another process; waiting (up to 60s)" in result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "-o DPkg::Lock::Timeout=60 -qq update"
    assert calls[-1] == "-o DPkg::Lock::Timeout=60 -qq install -y --no-install-recommends haproxy"


@pytest.mark.skipif(os.geteuid() != 0, reason="the fake apt-get is called without sudo only as root")
def test_apt_install_when_the_lock_stays_held_gives_up_after_the_bound_saying_so(tmp_path: Path) -> None:
    """A lock held past APT_LOCK_WAIT_SECONDS: apt's own error and the bound, exit non-zero."""
    env = {**_fake_apt(tmp_path, lock_failures=100), "APT_LOCK_WAIT_SECONDS": "3"}
    result = subprocess.run([str(ROOT / "scripts" / "apt-install"), "haproxy"], capture_output=True, text=True, env=env)
    assert result.returncode == 100
    assert "Could not get lock /var/lib/dpkg/lock-frontend" in result.stderr
    assert "apt's lock was still held after 3s" in result.stderr

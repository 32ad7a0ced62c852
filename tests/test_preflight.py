"""The check scripts/deploy makes before `pulumi up` of a Swarm stack: IPVS for the default endpoint mode."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from components.swarm.preflight import endpoint_mode, ipvs_available, problem


def config(engine: str | None = "swarm", swarm: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    """What `pulumi config --json` prints for these keys."""
    found: dict[str, dict[str, object]] = {}
    if engine is not None:
        found["open-webui-redis:engine"] = {"value": engine, "secret": False}
    if swarm is not None:
        found["open-webui-redis:swarm"] = {"value": json.dumps(swarm), "objectValue": swarm, "secret": False}
    return found


def kernel(tmp_path: Path, *, loaded: bool = False, module: bool = False, builtin: bool = False) -> Path:
    modules = tmp_path / "lib/modules" / platform.release()
    if loaded:
        (tmp_path / "proc/net").mkdir(parents=True)
        (tmp_path / "proc/net/ip_vs").write_text("IP Virtual Server version 1.2.1\n")
    if module:
        (modules / "kernel/net/netfilter/ipvs").mkdir(parents=True)
        (modules / "kernel/net/netfilter/ipvs/ip_vs.ko.zst").write_bytes(b"")
    if builtin:
        modules.mkdir(parents=True, exist_ok=True)
        (modules / "modules.builtin").write_text("kernel/net/netfilter/ipvs/ip_vs.ko\n")
    return tmp_path


@pytest.mark.parametrize("how", ["loaded", "module", "builtin"])
def test_ipvs_when_loaded_loadable_or_built_in_is_available(tmp_path: Path, how: str) -> None:
    assert ipvs_available(kernel(tmp_path, **{how: True})) is True


def test_ipvs_when_the_kernel_has_none_is_missing(tmp_path: Path) -> None:
    assert ipvs_available(kernel(tmp_path)) is False


@pytest.mark.parametrize(
    ("given", "mode"),
    [
        (config(engine=None), None),
        (config(engine="docker"), None),
        (config(), "vip"),
        (config(swarm={"dataLabel": "x"}), "vip"),
        (config(swarm={"endpointMode": "dnsrr"}), "dnsrr"),
    ],
)
def test_endpoint_mode_when_read_from_pulumi_config_is_swarms_default_unless_set(
    given: dict[str, dict[str, object]], mode: str | None
) -> None:
    assert endpoint_mode(given) == mode


def test_problem_when_vip_without_ipvs_names_the_cause_and_the_fix(tmp_path: Path) -> None:
    found = problem(config(), kernel(tmp_path))
    assert found is not None
    assert "this node's kernel has no IPVS" in found
    assert "did not converge" in found
    assert "pulumi config set --path swarm.endpointMode dnsrr" in found


@pytest.mark.parametrize(
    "given", [config(engine="docker"), config(swarm={"endpointMode": "dnsrr"})], ids=["one host", "dnsrr"]
)
def test_problem_when_ipvs_is_not_needed_is_none(tmp_path: Path, given: dict[str, dict[str, object]]) -> None:
    assert problem(given, kernel(tmp_path)) is None


def test_problem_when_the_kernel_has_ipvs_is_none(tmp_path: Path) -> None:
    assert problem(config(), kernel(tmp_path, loaded=True)) is None


def test_command_when_a_single_host_stack_is_given_passes(tmp_path: Path) -> None:
    """The module as scripts/deploy runs it: `pulumi config --json` on stdin, exit 0 for a one-host stack."""
    run = subprocess.run(
        [sys.executable, "-m", "components.swarm.preflight"],
        input=json.dumps(config(engine=None)),
        capture_output=True,
        text=True,
    )
    assert (run.returncode, run.stderr) == (0, "")


def test_deploy_script_when_read_runs_the_check_before_pulumi_up() -> None:
    script = (Path(__file__).resolve().parent.parent / "scripts" / "deploy").read_text()
    check = script.index("venv/bin/python -m components.swarm.preflight")
    assert script.index('pulumi stack select --create "$stack"') < check < script.index("exec pulumi up")

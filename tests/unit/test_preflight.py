"""The check scripts/deploy makes before `pulumi up` of a Swarm stack: IPVS for the default endpoint mode."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from components.swarm.preflight import ipvs_available, local_daemon, problem
from tests.harness.paths import ROOT

LOCAL: dict[str, str] = {}
"""No DOCKER_HOST: this machine's daemon."""


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


@pytest.mark.skipif(platform.system() != "Linux", reason="the daemon is local only on Linux")
@pytest.mark.parametrize(
    ("environ", "local"),
    [
        ({}, True),
        ({"DOCKER_HOST": "unix:///var/run/docker.sock"}, True),
        ({"DOCKER_HOST": "ssh://deploy@manager"}, False),
        ({"DOCKER_HOST": "tcp://10.0.0.5:2376"}, False),
        ({"DOCKER_CONTEXT": "production"}, False),
    ],
)
def test_local_daemon_when_docker_host_names_another_machine_is_false(environ: dict[str, str], local: bool) -> None:
    assert local_daemon(environ) is local


@pytest.mark.skipif(platform.system() != "Linux", reason="the daemon is local only on Linux")
def test_problem_when_vip_on_a_local_kernel_without_ipvs_stops_naming_the_cause_and_the_fix(tmp_path: Path) -> None:
    found = problem("vip", kernel(tmp_path), LOCAL)
    assert found is not None
    message, stops = found
    assert stops is True
    assert message.startswith("this node's kernel has no IPVS.")
    assert "did not converge" in message
    assert "pulumi config set --path swarm.endpointMode dnsrr" in message


@pytest.mark.skipif(platform.system() != "Linux", reason="the daemon is local only on Linux")
def test_problem_when_skipped_on_purpose_is_a_note(tmp_path: Path) -> None:
    refused = problem("vip", kernel(tmp_path), LOCAL)
    assert refused is not None
    assert problem("vip", kernel(tmp_path), {"OWR_SKIP_PREFLIGHT": "1"}) == (refused[0], False)


def test_problem_when_the_daemon_is_elsewhere_is_a_note_to_check_each_node(tmp_path: Path) -> None:
    """Another machine's kernel cannot be read: nothing is stopped, the user is told what to check."""
    found = problem("vip", kernel(tmp_path), {"DOCKER_HOST": "ssh://deploy@manager"})
    assert found is not None
    message, stops = found
    assert stops is False
    assert message.startswith("the nodes' kernels cannot be read from here; check each for IPVS")


@pytest.mark.parametrize("mode", ["dnsrr"])
def test_problem_when_dnsrr_is_none(tmp_path: Path, mode: str) -> None:
    assert problem(mode, kernel(tmp_path), LOCAL) is None


@pytest.mark.skipif(platform.system() != "Linux", reason="the daemon is local only on Linux")
def test_problem_when_the_local_kernel_has_ipvs_is_none(tmp_path: Path) -> None:
    assert problem("vip", kernel(tmp_path, loaded=True), LOCAL) is None


def test_command_when_dnsrr_passes_silently() -> None:
    """The module as scripts/deploy runs it."""
    run = subprocess.run(
        [sys.executable, "-m", "components.swarm.preflight", "--endpoint-mode", "dnsrr"], capture_output=True, text=True
    )
    assert (run.returncode, run.stderr) == (0, "")


def test_deploy_script_when_read_runs_the_check_for_swarm_stacks_before_pulumi_up() -> None:
    script = (ROOT / "scripts" / "deploy").read_text()
    check = script.index('venv/bin/python -m components.swarm.preflight --endpoint-mode "$mode"')
    assert script.index('pulumi stack select --create "$stack"') < check < script.index("exec pulumi up")
    assert 'pulumi config get --path swarm.endpointMode --stack "$stack"' in script

"""The real-Docker tier, bring your own Redis: the stack on ``redis.url`` over TLS, applied to a real daemon.

The external server is Debian's ``redis-server`` (built with TLS) on the Docker host, listening on the stack's
network's gateway address with a certificate for it, made here with ``openssl``. The stack adopts that network
(``network.external``), declares no Valkey, and uploads the CA into the Open WebUI container, whose rendered
healthcheck (Docker runs it, ``wait``) PINGs the server over TLS with it; ``components.verify`` then runs redis-py
inside that container.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.testing import render
from tests.harness.docker_applier import CONTAINER, EngineClient
from tests.harness.docker_external import PASSWORD, External, external_stack
from tests.harness.docker_stack import DOCKER_MARKS, DockerReport, verify_outputs
from tests.harness.waiting import wait_until

pytestmark = DOCKER_MARKS


@pytest.fixture(scope="module")
def external(
    engine: EngineClient, images: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[External]:
    with external_stack(engine, images, tmp_path_factory.mktemp("external-tls"), f"owrt{os.getpid()}x") as stack:
        yield stack


def test_stack_when_on_an_external_redis_creates_no_valkey_and_open_webui_is_healthy(
    external: External, engine: EngineClient, report: DockerReport
) -> None:
    """No Valkey container or volume; Docker calls Open WebUI healthy, its healthcheck having PINGed over TLS."""
    types = {applied.resource.type for applied in external.applier.state.values()}
    names = {applied.inputs.get("name") for applied in external.applier.state.values()}
    assert f"{external.run}-valkey" not in names, names
    assert f"{external.run}-redis-data" not in names, names
    assert "docker:index/volume:Volume" in types  # Open WebUI's own
    containers = [a for a in external.applier.state.values() if a.resource.type == CONTAINER]
    assert [a.inputs["name"] for a in containers] == [external.open_webui()]
    inspected = engine.call("GET", f"/containers/{external.open_webui()}/json")
    assert inspected["State"]["Health"]["Status"] == "healthy"
    assert containers[0].healthy_after is not None
    report.add(f"{external.run} Open WebUI on an external TLS Redis: healthy {containers[0].healthy_after:.1f} s")


def test_ca_when_uploaded_is_the_given_file_readable_at_the_urls_path(external: External, engine: EngineClient) -> None:
    """The CA is at ``/run/secrets/redis-ca.pem`` in the container (mode 644), as the URL's ``ssl_ca_certs`` says."""
    url = external.deployment.container(external.open_webui()).env["REDIS_URL"]
    assert "ssl_ca_certs=/run/secrets/redis-ca.pem" in url
    code, output = engine.exec(external.open_webui(), ["stat", "-c", "%a", "/run/secrets/redis-ca.pem"])
    assert (code, output.strip()) == (0, "644")
    code, output = engine.exec(external.open_webui(), ["cat", "/run/secrets/redis-ca.pem"])
    assert code == 0
    assert output.strip() == (external.certificates / "ca.pem").read_text().strip()


def _verify(external: External, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return verify_outputs(external.deployment.outputs, tmp_path)


def test_verify_when_run_against_the_external_server_passes_inside_open_webui(
    external: External, tmp_path: Path
) -> None:
    """`python -m components.verify` finds no Valkey in the outputs and checks the server from Open WebUI's
    container (redis-py over TLS with the uploaded CA): subscriber, keys under the configured prefix."""
    assert wait_until(lambda: _verify(external, tmp_path).returncode == 0, timeout=30), _verify(
        external, tmp_path
    ).stdout
    result = _verify(external, tmp_path)
    assert "the external Redis, reached from the Open WebUI container" in result.stdout
    assert f"({external.run}:*)" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_stack_when_applied_again_on_the_external_redis_changes_nothing(external: External) -> None:
    """A second `pulumi up`: every resource the same, and a refresh finds no difference."""
    steps = external.applier.plan(render(external.config, secret_keys=["redis"]))
    assert [(s.op, s.name, s.changes) for s in steps if s.op != "same"] == []
    assert external.applier.read_back() == {external.open_webui(): []}

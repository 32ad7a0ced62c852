"""The real-Docker tier, bring your own Redis: the stack on ``redis.url`` over TLS, applied to a real daemon.

The external server is Debian's ``redis-server`` (built with TLS) on the Docker host, listening on the stack's
network's gateway address with a certificate for it, made here with ``openssl``. The stack adopts that network
(``network.external``), declares no Valkey, and uploads the CA into the Open WebUI container, whose rendered
healthcheck (Docker runs it, ``wait``) PINGs the server over TLS with it; ``components.verify`` then runs redis-py
inside that container.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.testing import Deployment, render
from tests.docker_applier import CONTAINER, Applier, DockerError, EngineClient
from tests.harness.waiting import wait_until
from tests.loopback import free_port
from tests.test_real_docker import DockerReport, _cleanup, pytestmark, stack_config, verify_outputs

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
__all__ = ["pytestmark"]  # the real-Docker tier's marks and skip reason, as test_real_docker's
PASSWORD = "external-tls-correct-horse"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)


def make_certificates(directory: Path, address: str) -> None:
    """``ca.pem`` (a CA), and ``server.pem``/``server.key`` signed by it for ``address``, in ``directory``."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-subj", "/CN=open-webui-redis test CA", "-days", "2", cwd=directory)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=external-redis", cwd=directory)  # fmt: skip
    (directory / "san.ext").write_text(f"subjectAltName=IP:{address}\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=directory)  # fmt: skip
    (directory / "server.key").chmod(0o644)


@pytest.fixture(scope="session")
def report(request: pytest.FixtureRequest) -> DockerReport:
    return DockerReport.of(request.config)


class TLSRedis:
    """Debian's redis-server on ``address``, TLS only, with the certificates in ``directory``; appendfsync always,
    so a key written before a kill is still there after (what the faults tier checks)."""

    def __init__(self, directory: Path, address: str, port: int) -> None:
        self.directory = directory
        self.address = address
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.argv = [
            REDIS_SERVER,
            "--port", "0",
            "--tls-port", str(port),
            "--bind", address,
            "--tls-cert-file", "server.pem",
            "--tls-key-file", "server.key",
            "--tls-ca-cert-file", "ca.pem",
            "--tls-auth-clients", "no",
            "--requirepass", PASSWORD,
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--dir", str(directory),
        ]  # fmt: skip

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        assert wait_until(lambda: self.cli("PING") == "PONG", timeout=20), "the TLS Redis does not answer"

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cli(self, *args: str) -> str:
        """redis-cli over TLS, verifying the server with the CA; the output, or the error."""
        argv = ["redis-cli", "--tls", "--cacert", str(self.directory / "ca.pem"), "-h", self.address]
        argv += ["-p", str(self.port), "--no-auth-warning", "-a", PASSWORD, *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (result.stdout or result.stderr).strip()


@dataclass
class External:
    """The stack applied on ``redis.url``, and the server it points at."""

    applier: Applier
    deployment: Deployment
    config: dict[str, Any]
    run: str
    certificates: Path
    server: TLSRedis

    def open_webui(self) -> str:
        return f"{self.run}-open-webui"


@contextlib.contextmanager
def external_stack(
    engine: EngineClient, images: dict[str, str], certificates: Path, run: str, **blocks: dict[str, Any]
) -> Iterator[External]:
    """A network, a TLS Redis on its gateway address, and the stack on it (``redis.url``, ``redis.tls``, and
    ``blocks`` over the dev stack's settings); everything named ``run-…`` removed at the end."""
    server = None
    try:
        engine.call("POST", "/networks/create", body={"Name": f"{run}-net", "Driver": "bridge"})
        network = engine.call("GET", f"/networks/{run}-net")
        gateway = network["IPAM"]["Config"][0]["Gateway"]
        make_certificates(certificates, gateway)
        server = TLSRedis(certificates, gateway, free_port())
        server.start()
        config = stack_config(run, images, free_port(), network={"external": True}, **blocks)
        del config["valkey"]  # refused with redis.url
        config["redis"] = {
            "url": f"rediss://default:{PASSWORD}@{gateway}:{server.port}/0",
            "keyPrefix": run,
            "tls": {"caCertFile": str(certificates / "ca.pem")},
        }
        deployment = render(config, secret_keys=["redis"])
        applier = Applier(engine, log=lambda line: print(f"[{run}] {line}", file=sys.stderr))
        applier.apply(deployment)  # waits until Docker calls every container healthy (the TLS PING included)
        yield External(applier, deployment, config, run, certificates, server)
    finally:
        if server is not None:
            server.kill()
        _cleanup(engine, run)
        with contextlib.suppress(DockerError):
            engine.call("DELETE", f"/networks/{run}-net")


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

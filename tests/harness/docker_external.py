"""An external TLS Redis on the Docker host and the stack applied on it (``redis.url``), as the real-Docker and faults
tiers share them: Debian's redis-server on the stack network's gateway address, with certificates made for it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.testing import Deployment, render
from tests.docker_applier import Applier, DockerError, EngineClient
from tests.harness.docker_stack import cleanup, stack_config
from tests.harness.waiting import wait_until
from tests.loopback import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
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
        cleanup(engine, run)
        with contextlib.suppress(DockerError):
            engine.call("DELETE", f"/networks/{run}-net")

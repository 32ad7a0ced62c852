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
from tests.harness.certificates import make_certificates
from tests.harness.docker_applier import Applier, DockerError, EngineClient
from tests.harness.docker_stack import cleanup, stack_config
from tests.harness.loopback import free_port
from tests.harness.processes import LoggedProcess, die_with_parent

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PASSWORD = "external-tls-correct-horse"


class TLSRedis(LoggedProcess):
    """Debian's redis-server on ``address``, TLS only, with the certificates ``make_tls_certificates`` made in
    ``directory``; appendfsync always, so a key written before a kill is still there after (what the faults tier
    checks). ``kill()`` is SIGKILL (a crash); ``start()`` again runs it on the same port and data."""

    def __init__(self, directory: Path, address: str, port: int) -> None:
        super().__init__(directory / "redis-server.log", "the TLS Redis")
        self.directory = directory
        self.address = address
        self.port = port
        self.argv = [
            REDIS_SERVER,
            "--port", "0",
            "--tls-port", str(port),
            "--bind", address,
            "--tls-cert-file", "server.pem",
            "--tls-key-file", "server-key.pem",
            "--tls-ca-cert-file", "ca.pem",
            "--tls-auth-clients", "no",
            "--requirepass", PASSWORD,
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--dir", str(directory),
        ]  # fmt: skip

    def start(self) -> None:
        self.spawn(self.argv, cwd=self.directory, preexec_fn=die_with_parent)
        try:
            self.wait_ready(lambda: self.cli("PING") == "PONG", 20, interval=0.05, what="answering PING over TLS")
        except BaseException:
            self.kill()
            raise

    @property
    def pid(self) -> int:
        return self.require_process().pid

    def cli(self, *args: str) -> str:
        """redis-cli over TLS, verifying the server with the CA; the output, or the error."""
        argv = ["redis-cli", "--tls", "--cacert", str(self.directory / "ca.pem"), "-h", self.address]
        argv += ["-p", str(self.port), "--no-auth-warning", "-a", PASSWORD, *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (result.stdout or result.stderr).strip()


def make_tls_certificates(directory: Path, address: str) -> None:
    """``ca.pem`` (a CA), and ``server.pem``/``server-key.pem`` signed by it for ``address``, in ``directory``
    (where ``TLSRedis`` finds them)."""
    make_certificates(directory, (f"IP:{address}",), ca="ca", server="server", client="client")


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
        make_tls_certificates(certificates, gateway)
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

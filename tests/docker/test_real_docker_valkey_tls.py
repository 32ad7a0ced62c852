"""The real-Docker tier, `valkey.tls`: the managed Valkey on TLS only, applied to a real daemon.

The certificates are what pulumi-tls would make for the rendered resources (``tests/harness/tls_provider.py``, kept from
one render to the next as the stack's state keeps them); the Valkey stand-in is Debian's valkey 8.1, built with
TLS as the official image is. Docker runs both rendered healthchecks (``wait``): Valkey's PINGs itself over TLS
with the uploaded CA, Open WebUI's PINGs Valkey over TLS with the URL's ``ssl_ca_certs``; then
``components.verify`` runs valkey-cli with TLS inside the Valkey container.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.testing import Deployment, StackMocks, render
from tests.harness.docker_applier import CONTAINER, Applier, EngineClient
from tests.harness.docker_stack import DOCKER_MARKS, DockerReport, cleanup, stack_config, verify_outputs
from tests.harness.loopback import free_port
from tests.harness.tls_provider import ProviderState
from tests.harness.waiting import wait_until

pytestmark = DOCKER_MARKS
CA = "/run/secrets/valkey-ca.pem"


@dataclass
class TLSStack:
    applier: Applier
    deployment: Deployment
    config: dict[str, Any]
    run: str
    state: ProviderState

    def render(self, config: dict[str, Any] | None = None) -> Deployment:
        return render(config or self.config, mocks=StackMocks(tls=self.state))

    def valkey(self) -> str:
        return f"{self.run}-valkey"

    def open_webui(self) -> str:
        return f"{self.run}-open-webui"

    def exec(self, container: str, argv: list[str], env: list[str] | None = None) -> tuple[int, str]:
        return self.applier.client.exec(container, argv, env=env)

    def password(self) -> str:
        (entry,) = self.deployment.container(self.valkey()).env.items()
        assert entry[0] == "REDISCLI_AUTH"
        return entry[1]


@pytest.fixture(scope="module")
def stack(engine: EngineClient, images: dict[str, str], report: DockerReport) -> Iterator[TLSStack]:
    run = f"owrt{os.getpid()}t"
    try:
        config = stack_config(run, images, free_port(), valkey={"tls": True})
        state = ProviderState()
        deployment = render(config, mocks=StackMocks(tls=state))
        applier = Applier(engine, log=lambda line: print(f"[{run}] {line}", file=sys.stderr))
        applier.apply(deployment)  # waits until Docker calls every container healthy
        for applied in applier.state.values():
            if applied.healthy_after is not None:
                report.add(f"{run} {applied.inputs['name']} (valkey.tls): healthy {applied.healthy_after:.1f} s")
        yield TLSStack(applier, deployment, config, run, state)
    finally:
        cleanup(engine, run)


def test_stack_when_valkey_is_on_tls_is_healthy_by_docker(stack: TLSStack, engine: EngineClient) -> None:
    """Both rendered healthchecks pass as Docker runs them: Valkey's own TLS PING, Open WebUI's through its URL."""
    for name in (stack.valkey(), stack.open_webui()):
        assert engine.call("GET", f"/containers/{name}/json")["State"]["Health"]["Status"] == "healthy", name
    containers = {a.inputs["name"] for a in stack.applier.state.values() if a.resource.type == CONTAINER}
    assert containers == {stack.valkey(), stack.open_webui()}


def test_valkey_when_on_tls_refuses_plain_text_and_answers_tls_verified_by_the_ca(stack: TLSStack) -> None:
    """Inside the Valkey container: a plain-text PING gets no PONG; a TLS PING verified against the uploaded CA
    gets PONG (valkey-cli verifies the chain, not the name: Tier 2's redis-py checks names); one that trusts
    another deployment's CA is refused by the handshake."""
    auth = [f"REDISCLI_AUTH={stack.password()}"]
    code, output = stack.exec(stack.valkey(), ["valkey-cli", "-p", "6379", "ping"], env=auth)
    assert "PONG" not in output, output
    for host in ("localhost", "127.0.0.1"):
        code, output = stack.exec(
            stack.valkey(), ["valkey-cli", "--tls", "--cacert", CA, "-h", host, "-p", "6379", "ping"], env=auth
        )
        assert (code, output.strip()) == (0, "PONG"), (host, output)
    other_ca = str(render(stack.config, mocks=StackMocks(tls=ProviderState())).outputs["valkeyCaCert"])
    assert other_ca != stack.deployment.outputs["valkeyCaCert"]
    code, output = stack.exec(stack.valkey(), ["sh", "-c", 'printf %s "$1" > /tmp/other-ca.pem', "sh", other_ca])
    assert code == 0, output
    code, output = stack.exec(
        stack.valkey(), ["valkey-cli", "--tls", "--cacert", "/tmp/other-ca.pem", "-p", "6379", "ping"], env=auth
    )
    assert "PONG" not in output, output
    assert "certificate verify failed" in output.lower(), output


def test_key_when_uploaded_is_readable_by_valkey_which_runs_as_uid_999(stack: TLSStack) -> None:
    """The server runs as uid 999 and has read its key (it serves TLS); the files are where the command says."""
    fields = stack.applier.client.process_status(stack.valkey())
    assert fields["Uid"].split()[:2] == ["999", "999"]
    code, output = stack.exec(
        stack.valkey(),
        ["stat", "-c", "%n %a %u", CA, "/run/secrets/valkey-server.pem", "/run/secrets/valkey-server-key.pem"],
    )
    assert code == 0, output
    assert output.split("\n")[:3] == [
        f"{CA} 644 0",
        "/run/secrets/valkey-server.pem 644 0",
        "/run/secrets/valkey-server-key.pem 644 0",
    ]


def test_open_webui_when_on_tls_subscribes_socketio_over_the_alias_with_the_generated_ca(stack: TLSStack) -> None:
    """Open WebUI's websocket manager reached Valkey at `rediss://redis:6379` (the certificate's name checked)
    and subscribed `socketio`; its CA file is the stack's CA."""
    auth = [f"REDISCLI_AUTH={stack.password()}"]

    def subscribers() -> int:
        code, output = stack.exec(
            stack.valkey(), ["valkey-cli", "--tls", "--cacert", CA, "PUBSUB", "NUMSUB", "socketio"], env=auth
        )
        return int(output.split()[-1]) if code == 0 else -1

    assert wait_until(lambda: subscribers() >= 1, timeout=60), subscribers()
    code, output = stack.exec(stack.open_webui(), ["cat", "/run/secrets/redis-ca.pem"])
    assert code == 0
    assert output.strip() == str(stack.deployment.outputs["valkeyCaCert"]).strip()


def test_verify_when_valkey_is_on_tls_passes_through_valkey_cli_with_tls(stack: TLSStack, tmp_path: Path) -> None:
    """`python -m components.verify` on the outputs: `rediss://`, so valkey-cli runs with `--tls --cacert`."""

    def verified() -> bool:
        return verify_outputs(stack.deployment.outputs, tmp_path).returncode == 0

    assert wait_until(verified, timeout=60), verify_outputs(stack.deployment.outputs, tmp_path).stdout
    result = verify_outputs(stack.deployment.outputs, tmp_path)
    assert stack.password() not in result.stdout + result.stderr


def test_stack_when_applied_again_on_tls_changes_nothing(stack: TLSStack) -> None:
    """A second `pulumi up` (the certificates kept in state): every resource the same, nothing read back differs."""
    steps = stack.applier.plan(stack.render())
    assert [(s.op, s.name, s.changes) for s in steps if s.op != "same"] == []
    assert all(changes == [] for changes in stack.applier.read_back().values())

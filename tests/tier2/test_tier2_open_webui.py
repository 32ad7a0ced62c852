"""Tier 2: a real Open WebUI backend runs with the environment the program renders, on the rendered Valkey.

Valkey runs as Tier 1 runs it (``tests/conftest.py``); Open WebUI gets the rendered container environment
with Redis URL hosts mapped to 127.0.0.1, plus ``DATA_DIR`` (the data volume) and the offline settings
(``tests/harness/open_webui_process.py``). One Open WebUI process serves every test of the working deployment; the
wrong-password case starts its own Valkey and Open WebUI.

Skipped unless ``OPEN_WEBUI_VENV`` names the virtualenv ``scripts/install-open-webui`` makes
(``scripts/test --all`` sets it).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
import redis
import socketio

from components.testing import render
from components.verify import Report, Target, check_deployment
from tests.harness.loopback import free_port, local_healthcheck, localize_valkey
from tests.harness.open_webui_process import (
    SOCKET_PATH,
    TIER2_MARKS,
    OpenWebUIProcess,
    Tier2Report,
    local_open_webui_env,
    open_webui_venv,
    with_password,
)
from tests.harness.valkey import RenderedValkey
from tests.harness.waiting import wait_until

pytestmark = TIER2_MARKS

KEY_PREFIX = "open-webui"
"""Open WebUI's ``REDIS_KEY_PREFIX`` default, which the stack leaves alone."""
SESSION_POOL = f"{KEY_PREFIX}:session_pool"
"""The hash of connected sockets by socket.io sid (``open_webui/socket/main.py``, ``SESSION_POOL``)."""
SOCKETIO_CHANNEL = "socketio"
"""The channel python-socketio's Redis manager subscribes to (``AsyncRedisManager(channel='socketio')``)."""
ADMIN = {"name": "Tier Two", "email": "admin@example.com", "password": "tier-2-correct-horse-battery"}
WRONG_PASSWORD = "not-the-rendered-password"
STARTUP_TIMEOUT = 120.0
"""Seconds to wait for ``/health``: 18-33 s measured on 2 busy cores (imports, then migrating an empty database)."""
REDIS_FAILURE = ("Cannot receive from redis", "AuthenticationError")
"""What socket.io's Redis listener logs when Valkey refuses the password (python-socketio, Open WebUI 0.12.4)."""
REDIS_TIMEOUT = 20.0
"""Seconds to wait for what Open WebUI does in Redis after ``/health`` (1-2 s measured)."""


@dataclass
class Deployed:
    """The rendered Valkey and an Open WebUI process started with the rendered environment."""

    valkey: RenderedValkey
    open_webui: OpenWebUIProcess
    rendered_env: dict[str, str] = field(repr=False)  # secrets: kept out of failure reports
    """Open WebUI's container environment as rendered (container host names)."""
    env: dict[str, str] = field(repr=False)
    """What the process was given: ``rendered_env`` mapped to loopback, plus ``DATA_DIR`` and offline settings."""
    healthcheck: str = ""
    """The rendered ``CMD-SHELL`` healthcheck of the Open WebUI container."""

    def run_healthcheck(self) -> subprocess.CompletedProcess[str]:
        """Run the healthcheck as Docker does: ``sh -c`` with the container's environment.

        The container's port 8080 maps to this process's port through ``PORT`` (which the command reads, as the
        image's start script does), and the image's ``python3`` is the Open WebUI virtualenv's.
        """
        venv = open_webui_venv()
        assert venv is not None
        env = {
            **self.env,
            "PORT": str(self.open_webui.port),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
        }
        command = local_healthcheck(self.healthcheck, self.open_webui.workdir / self.open_webui.label)
        return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=15)

    def named_database(self) -> int:
        """The database that ``WEBSOCKET_REDIS_URL`` names, as redis-py (Open WebUI's client) reads it."""
        client = redis.Redis.from_url(self.env["WEBSOCKET_REDIS_URL"])
        return int(client.connection_pool.connection_kwargs.get("db", 0))

    def keys(self, database: int) -> list[str]:
        """Open WebUI's keys (``open-webui:*``) in one database of the Valkey server."""
        with self.valkey.client(database, decode_responses=True) as client:
            return sorted(client.scan_iter(match=f"{KEY_PREFIX}:*"))

    def socketio_subscribers(self) -> int:
        """``PUBSUB NUMSUB socketio``: how many connections listen to socket.io's Redis channel."""
        with self.valkey.client() as client:
            [(_, count)] = client.pubsub_numsub(SOCKETIO_CHANNEL)
        return int(count)

    def verify(self) -> Report:
        """``components.verify``'s checks, from the stack outputs, against this Valkey (not ``docker exec``)."""
        target = Target.from_outputs(self.valkey.deployment.outputs)
        return check_deployment(target, self.valkey.local.cli())

    def redis_failure_logged(self) -> bool:
        """Whether socket.io's Redis listener has logged a refused password (it then retries, never subscribed)."""
        log = self.open_webui.log()
        return all(text in log for text in REDIS_FAILURE)

    def session_pool(self) -> dict[str, Any]:
        """``open-webui:session_pool`` in the named database: socket sid -> the session Open WebUI keeps."""
        with self.valkey.client(self.named_database(), decode_responses=True) as client:
            entries = client.hgetall(SESSION_POOL)
        return {str(sid): json.loads(value) for sid, value in entries.items()}


@contextmanager
def deployed(
    request: pytest.FixtureRequest, factory: pytest.TempPathFactory, label: str, url_password: str | None = None
) -> Iterator[Deployed]:
    """Render the program, start its Valkey (as ``conftest.valkey`` does) and Open WebUI; kill both after.

    ``url_password`` replaces the password in Open WebUI's Redis URLs, and nothing else.
    """
    venv = open_webui_venv()
    assert venv is not None
    report = Tier2Report.of(request.config)
    port = free_port()
    deployment = render({"valkey": {"port": port}})  # the port through configuration: the command runs as rendered
    valkey_container = deployment.container(deployment.outputs["valkeyContainerName"])
    server = RenderedValkey(localize_valkey(valkey_container, factory.mktemp(f"{label}-valkey"), port=port), deployment)
    rendered_env = dict(deployment.container(deployment.outputs["openWebuiContainerName"]).env)
    given_env = dict(rendered_env)
    if url_password is not None:
        for name in ("REDIS_URL", "WEBSOCKET_REDIS_URL"):
            given_env[name] = with_password(given_env[name], url_password)
    workdir = factory.mktemp(label)
    data_dir = workdir / "data"  # the volume at /app/backend/data
    data_dir.mkdir()
    env = local_open_webui_env(given_env, data_dir)
    with server, OpenWebUIProcess(venv, env, workdir, label=label) as open_webui:
        open_webui.wait_healthy(STARTUP_TIMEOUT)
        report.healthy(open_webui)
        try:
            healthcheck = deployment.container(deployment.outputs["openWebuiContainerName"]).healthcheck_command
            yield Deployed(server, open_webui, rendered_env, env, healthcheck)
        finally:
            report.stopped(open_webui)


@contextmanager
def socket_client(stack: Deployed, token: str, origin: str | None = None) -> Iterator[socketio.Client]:
    """A socket.io client connected as the browser connects: websocket transport, the token as auth, and the
    ``Origin`` of the page it was loaded from (default: the published address, the rendered CORS origin)."""
    origin = origin or stack.rendered_env["CORS_ALLOW_ORIGIN"].split(";")[0]
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin})
    client.connect(
        stack.open_webui.url,
        socketio_path=SOCKET_PATH,
        transports=["websocket"],
        auth={"token": token},
        wait_timeout=10,
    )
    try:
        yield client
    finally:
        client.disconnect()


# ---------------------------------------------------------------------------------------------------------
# Fixtures: one working deployment for the module, one with a wrong password in Open WebUI's URLs
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The rendered deployment running: Valkey and Open WebUI, healthy."""
    with deployed(request, tmp_path_factory, "open-webui") as running:
        yield running


@pytest.fixture(scope="module")
def admin(stack: Deployed) -> Mapping[str, Any]:
    """The first account, signed up through the API (it becomes the admin); its answer holds the token."""
    answer: Mapping[str, Any] = stack.open_webui.post_json("/api/v1/auths/signup", ADMIN)
    assert answer["role"] == "admin", answer
    return answer


@pytest.fixture(scope="module")
def stack_with_wrong_password(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """The rendered deployment, but Open WebUI's Redis URLs carry a password Valkey does not know.

    Only the password in the URLs is changed: Valkey runs exactly as rendered (its command and auth file),
    so this is a stale or mistyped password on the Open WebUI side and nothing else. (Rendering with
    ``valkey.password`` and starting Valkey with another would rewrite the Valkey side, which Tier 1 keeps
    as rendered.) Its own Valkey, so the working deployment's subscriber cannot hide the failure.
    """
    with deployed(request, tmp_path_factory, "open-webui-wrong-password", url_password=WRONG_PASSWORD) as running:
        yield running


# ---------------------------------------------------------------------------------------------------------
# The rendered deployment
# ---------------------------------------------------------------------------------------------------------


def test_open_webui_when_started_with_rendered_env_answers_health(stack: Deployed) -> None:
    """Open WebUI started with the rendered environment answers GET /health with 200."""
    assert stack.open_webui.health() == 200


def test_socketio_channel_when_open_webui_runs_has_a_redis_subscriber(stack: Deployed) -> None:
    """Redis manages the websockets: socket.io's manager subscribes to the `socketio` channel."""
    assert wait_until(lambda: stack.socketio_subscribers() >= 1, timeout=REDIS_TIMEOUT), (
        f"PUBSUB NUMSUB {SOCKETIO_CHANNEL} stayed {stack.socketio_subscribers()} for {REDIS_TIMEOUT:g} s"
    )


def test_open_webui_keys_when_open_webui_runs_are_only_in_the_url_database(stack: Deployed) -> None:
    """Open WebUI's keys land in the database WEBSOCKET_REDIS_URL names and in no other of 0-15."""
    named = stack.named_database()
    assert wait_until(lambda: bool(stack.keys(named)), timeout=REDIS_TIMEOUT), (
        f"no {KEY_PREFIX}:* key in database {named} after {REDIS_TIMEOUT:g} s"
    )
    elsewhere = {database: stack.keys(database) for database in range(16) if database != named}
    assert {database: keys for database, keys in elsewhere.items() if keys} == {}


def test_session_pool_when_socket_client_connects_holds_its_session(stack: Deployed, admin: Mapping[str, Any]) -> None:
    """A socket.io client with the signed-up token gets an entry, keyed by its sid, in the session pool."""
    with socket_client(stack, admin["token"]) as client:
        sid = client.get_sid("/")
        assert client.transport() == "websocket"
        assert wait_until(lambda: sid in stack.session_pool(), timeout=REDIS_TIMEOUT), (
            f"{SESSION_POOL} has no entry for sid {sid} after {REDIS_TIMEOUT:g} s: {sorted(stack.session_pool())}"
        )
        assert stack.session_pool()[sid]["id"] == admin["id"]


def test_session_pool_when_socket_client_disconnects_drops_its_session(
    stack: Deployed, admin: Mapping[str, Any]
) -> None:
    """After the socket.io client disconnects, its entry leaves the session pool."""
    with socket_client(stack, admin["token"]) as client:
        sid = client.get_sid("/")
        assert wait_until(lambda: sid in stack.session_pool(), timeout=REDIS_TIMEOUT)
    assert wait_until(lambda: sid not in stack.session_pool(), timeout=REDIS_TIMEOUT), (
        f"{SESSION_POOL} still holds sid {sid} {REDIS_TIMEOUT:g} s after disconnect"
    )


def test_websocket_when_opened_from_another_origin_is_refused_with_403(
    stack: Deployed, admin: Mapping[str, Any]
) -> None:
    """CORS_ALLOW_ORIGIN is the published address: a page from another origin cannot open Open WebUI's websocket
    (Open WebUI answers 403), which is why a proxy's public name must be given as `openWebui.publicUrl`."""
    assert stack.rendered_env["CORS_ALLOW_ORIGIN"].split(";") == ["http://127.0.0.1:3000", "http://localhost:3000"]
    with (
        pytest.raises(socketio.exceptions.ConnectionError),
        socket_client(stack, admin["token"], origin="https://chat.example.com"),
    ):
        pass
    with socket_client(stack, admin["token"]) as client:
        assert client.connected


def test_token_when_verified_with_rendered_secret_key_is_valid(stack: Deployed, admin: Mapping[str, Any]) -> None:
    """A token Open WebUI issued verifies (HS256) with the rendered WEBUI_SECRET_KEY."""
    claims = jwt.decode(admin["token"], stack.rendered_env["WEBUI_SECRET_KEY"], algorithms=["HS256"])
    assert claims["id"] == admin["id"]


def test_token_when_verified_with_another_key_is_rejected(stack: Deployed, admin: Mapping[str, Any]) -> None:
    """The same token does not verify with any other key: the rendered key is the one in use."""
    other_key = stack.rendered_env["WEBUI_SECRET_KEY"] + "-other"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(admin["token"], other_key, algorithms=["HS256"])


def test_verify_when_open_webui_runs_on_rendered_valkey_passes_every_check(stack: Deployed) -> None:
    """`python -m components.verify`'s checks all pass against the real Open WebUI on the rendered Valkey."""
    assert wait_until(lambda: stack.verify().passed, timeout=REDIS_TIMEOUT), stack.verify().render()


# ---------------------------------------------------------------------------------------------------------
# A wrong Valkey password: healthy, yet Redis does not manage the websockets
# ---------------------------------------------------------------------------------------------------------


def test_healthcheck_when_open_webui_runs_on_rendered_valkey_passes(stack: Deployed) -> None:
    """The rendered Docker healthcheck passes: /health answers and Valkey accepts the URL's password."""
    result = stack.run_healthcheck()
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthcheck_when_valkey_password_is_wrong_fails(stack_with_wrong_password: Deployed) -> None:
    """Where /health alone says 200, the rendered healthcheck fails, so `pulumi up` (wait) does not succeed."""
    assert stack_with_wrong_password.open_webui.health() == 200
    assert stack_with_wrong_password.run_healthcheck().returncode == 1


def test_health_when_valkey_password_is_wrong_still_answers_200(stack_with_wrong_password: Deployed) -> None:
    """With a wrong password in the Redis URLs, GET /health still answers 200: health alone proves nothing."""
    assert stack_with_wrong_password.open_webui.health() == 200


def test_websockets_when_valkey_password_is_wrong_have_no_subscriber_and_log_authentication_error(
    stack_with_wrong_password: Deployed,
) -> None:
    """With a wrong password, socket.io's Redis listener fails with AuthenticationError and never subscribes."""
    running = stack_with_wrong_password
    # socket.io's own listener reporting its failure is the positive signal that it tried and gave up.
    assert wait_until(running.redis_failure_logged, timeout=REDIS_TIMEOUT), (
        f"the log does not show {REDIS_FAILURE} after {REDIS_TIMEOUT:g} s"
    )
    assert running.socketio_subscribers() == 0
    assert {database: keys for database in range(16) if (keys := running.keys(database))} == {}


def test_verify_when_valkey_password_is_wrong_fails_the_subscriber_and_key_checks(
    stack_with_wrong_password: Deployed,
) -> None:
    """`python -m components.verify`'s checks catch the wrong password that /health does not."""
    running = stack_with_wrong_password
    assert wait_until(running.redis_failure_logged, timeout=REDIS_TIMEOUT)
    report = running.verify()
    assert {check.name: check.status for check in report.checks} == {
        "Valkey answers PING with the URL's password": "PASS",
        "a websocket manager subscribes to 'socketio'": "FAIL",
        f"Open WebUI's keys ({KEY_PREFIX}:*) are in database {running.named_database()}": "FAIL",
        "no Open WebUI keys in databases no URL names": "PASS",
    }, report.render()

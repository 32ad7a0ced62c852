"""Shared fixtures: the rendered Valkey, started for real on loopback.

``valkey(config)`` renders ``__main__.py`` with ``config`` (and a free loopback port as ``valkey.port``),
maps the Valkey container onto a temporary directory and starts it. Every server it started is killed at
teardown. Tier 2 tests reuse it to give a real Open WebUI the Valkey the program declares.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from components.testing import Deployment, StackMocks, render
from tests.docker_applier import EngineClient
from tests.loopback import LocalValkey, ValkeyProcess, free_port, local_redis_url, localize_valkey

# Before any test module imports it: the order checks there then show their timestamps when they fail.
pytest.register_assert_rewrite("tests.lifecycle")

NO_RETRY = Retry(NoBackoff(), retries=0)
"""redis-py retries failed connections by default, and AuthenticationError is a ConnectionError."""


class RenderedValkey(ValkeyProcess):
    """A started Valkey with the deployment it was rendered from and Open WebUI's URLs, host mapped."""

    def __init__(self, local: LocalValkey, deployment: Deployment) -> None:
        super().__init__(local)
        self.deployment = deployment
        open_webui = deployment.container(deployment.outputs["openWebuiContainerName"])
        self.redis_url = local_redis_url(open_webui.env["REDIS_URL"])
        """``REDIS_URL`` from Open WebUI's environment, its host mapped to 127.0.0.1."""
        self.websocket_redis_url = local_redis_url(open_webui.env["WEBSOCKET_REDIS_URL"])
        """``WEBSOCKET_REDIS_URL`` from Open WebUI's environment, its host mapped to 127.0.0.1."""

    def client(self, db: int = 0, **kwargs: Any) -> redis.Redis:
        """A redis-py client with the rendered password, no retries (a refusal surfaces at once)."""
        kwargs.setdefault("retry", NO_RETRY)
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, db=db, **kwargs)

    def url_client(self, url: str) -> redis.Redis:
        """A redis-py client from one of the rendered URLs, as Open WebUI makes one."""
        return redis.Redis.from_url(url, retry=NO_RETRY)


class StartValkey(Protocol):
    def __call__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        mocks: StackMocks | None = None,
        secret_keys: Iterable[str] = (),
    ) -> RenderedValkey: ...


@pytest.fixture
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartValkey]:
    """Start the Valkey that ``render(config)`` declares: ``valkey({"valkey": {"appendOnly": True}})``."""
    started: list[RenderedValkey] = []

    def start(
        config: Mapping[str, Any] | None = None,
        *,
        mocks: StackMocks | None = None,
        secret_keys: Iterable[str] = (),
    ) -> RenderedValkey:
        port = free_port()
        config = dict(config or {})
        # The port is set through the configuration, so the command runs as rendered.
        config["valkey"] = {**config.get("valkey", {}), "port": port}
        deployment = render(config, mocks=mocks, secret_keys=secret_keys)
        container = deployment.container(deployment.outputs["valkeyContainerName"])
        server = RenderedValkey(localize_valkey(container, tmp_path_factory.mktemp("valkey"), port=port), deployment)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.kill()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; whether it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


# ---------------------------------------------------------------------------------------------------------
# The real-Docker and real-Swarm tiers: the daemon, and the stand-in images built once per run
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> EngineClient:
    try:
        return EngineClient()
    except OSError as error:
        pytest.fail(f"REAL_DOCKER=1 but no Docker daemon answers ({error}); start one with scripts/start-docker")


@pytest.fixture(scope="session")
def images() -> dict[str, str]:
    from tests.docker_standins import ensure_images

    return ensure_images()

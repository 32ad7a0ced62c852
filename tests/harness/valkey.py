"""The rendered Valkey as the loopback tiers start it (the ``valkey`` fixture of ``tests/conftest.py`` makes them).

``RenderedValkey`` is a started Valkey with the deployment it was rendered from and Open WebUI's URLs mapped to
loopback; ``StartValkey`` is the fixture's signature, for type hints in the test modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from components.testing import Deployment, StackMocks
from tests.harness.loopback import LocalValkey, ValkeyProcess, local_redis_url

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
    """The ``valkey`` fixture: render ``config``, start the Valkey it declares, return it (killed at teardown)."""

    def __call__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        mocks: StackMocks | None = None,
        secret_keys: Iterable[str] = (),
    ) -> RenderedValkey: ...

"""The fixtures the tiers share; each tier's ``conftest.py`` imports the ones its tests use.

``valkey(config)`` renders ``__main__.py`` with ``config`` (and a free loopback port as ``valkey.port``), maps the
Valkey container onto a temporary directory and starts it; every server it started is killed at teardown (Tier 1,
and Tier 2 gives a real Open WebUI the Valkey the program declares). ``engine`` and ``images``: the Docker daemon
and the stand-in images built once per run (the real-Docker, real-Swarm, faults and browser tiers). ``report``,
``swarm_report``, ``figures``: the figures each tier prints in the terminal summary. ``manager``: this daemon as a
swarm manager.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from components.testing import StackMocks, render
from tests.harness.docker_applier import EngineClient
from tests.harness.loopback import free_port, localize_valkey
from tests.harness.valkey import RenderedValkey, StartValkey

if TYPE_CHECKING:
    from tests.harness.docker_stack import DockerReport
    from tests.harness.external_redis import ExternalRedisReport
    from tests.harness.swarm_stack import SwarmReport


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
    """The stand-in images, built (or found) once per run however many tier folders import this fixture."""
    return _stand_in_images()


@functools.cache
def _stand_in_images() -> dict[str, str]:
    from tests.harness.docker_standins import ensure_images

    return ensure_images()


@pytest.fixture(scope="session")
def report(request: pytest.FixtureRequest) -> DockerReport:
    """The real-Docker tier's figures, printed in the terminal summary."""
    from tests.harness.docker_stack import DockerReport

    return DockerReport.of(request.config)


@pytest.fixture(scope="session")
def swarm_report(request: pytest.FixtureRequest) -> SwarmReport:
    """The real-Swarm tier's figures, printed in the terminal summary."""
    from tests.harness.swarm_stack import SwarmReport

    return SwarmReport.of(request.config)


@pytest.fixture(scope="module")
def manager(engine: EngineClient) -> Iterator[str]:
    """This daemon as a swarm manager (it leaves the swarm at the end if it was in none); its node ID."""
    from tests.harness.swarm_nodes import swarm_manager

    with swarm_manager():
        yield str(engine.call("GET", "/info")["Swarm"]["NodeID"])


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> ExternalRedisReport:
    """The figures of the Tier 2 external-Redis and Valkey-TLS modules, printed in the terminal summary."""
    from tests.harness.external_redis import ExternalRedisReport

    return ExternalRedisReport.of(request.config)

"""Open WebUI with Valkey-managed websockets on Docker, as Pulumi components.

Installed, the package is ``open_webui_redis``; in this repository the same folder is ``components`` (the program,
``__main__.py``, imports it so). Both names give the same modules."""

from .core.config import ArgumentError, ConfigurationError, load_settings, settings_from_mapping
from .core.open_webui import websocket_env
from .core.postgres import database_url
from .core.valkey import redis_url
from .host import LoadBalancer, Network, OpenWebUI, OpenWebUIStack, Postgres, Valkey
from .settings import (
    MANAGED_ENV,
    DatabaseSettings,
    DockerSettings,
    LoadBalancerSettings,
    LogsSettings,
    NetworkSettings,
    OpenWebUISettings,
    RedisSettings,
    RedisTLSSettings,
    S3Settings,
    SentinelSettings,
    SharedVolumeSettings,
    StackSettings,
    SwarmSettings,
    ValkeySettings,
)
from .swarm import OverlayNetwork, SwarmLoadBalancer, SwarmOpenWebUI, SwarmPostgres, SwarmStack, SwarmValkey

__version__ = "0.1.0"
"""The package's version (pyproject.toml reads it; a release tag ``v<version>`` must match it)."""


def build_stack(name: str, settings: StackSettings) -> OpenWebUIStack | SwarmStack:
    """The stack for ``settings.engine``: containers on one Docker host, or services on a Swarm."""
    return SwarmStack(name, settings) if settings.engine == "swarm" else OpenWebUIStack(name, settings)


__all__ = [
    "MANAGED_ENV",
    "ArgumentError",
    "ConfigurationError",
    "DatabaseSettings",
    "DockerSettings",
    "LoadBalancer",
    "LoadBalancerSettings",
    "LogsSettings",
    "Network",
    "NetworkSettings",
    "OpenWebUI",
    "OpenWebUISettings",
    "OpenWebUIStack",
    "OverlayNetwork",
    "Postgres",
    "RedisSettings",
    "RedisTLSSettings",
    "S3Settings",
    "SentinelSettings",
    "SharedVolumeSettings",
    "StackSettings",
    "SwarmLoadBalancer",
    "SwarmOpenWebUI",
    "SwarmPostgres",
    "SwarmSettings",
    "SwarmStack",
    "SwarmValkey",
    "Valkey",
    "ValkeySettings",
    "__version__",
    "build_stack",
    "database_url",
    "load_settings",
    "redis_url",
    "settings_from_mapping",
    "websocket_env",
]

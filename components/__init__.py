"""Open WebUI with Valkey-managed websockets on Docker, as Pulumi components."""

from .core.config import ConfigurationError, load_settings, settings_from_mapping
from .core.open_webui import websocket_env
from .core.postgres import database_url
from .core.settings import (
    MANAGED_ENV,
    DatabaseSettings,
    DockerSettings,
    LoadBalancerSettings,
    NetworkSettings,
    OpenWebUISettings,
    StackSettings,
    ValkeySettings,
)
from .core.valkey import redis_url
from .host import LoadBalancer, Network, OpenWebUI, OpenWebUIStack, Postgres, Valkey

__all__ = [
    "MANAGED_ENV",
    "ConfigurationError",
    "DatabaseSettings",
    "DockerSettings",
    "LoadBalancer",
    "LoadBalancerSettings",
    "Network",
    "NetworkSettings",
    "OpenWebUI",
    "OpenWebUISettings",
    "OpenWebUIStack",
    "Postgres",
    "StackSettings",
    "Valkey",
    "ValkeySettings",
    "database_url",
    "load_settings",
    "redis_url",
    "settings_from_mapping",
    "websocket_env",
]

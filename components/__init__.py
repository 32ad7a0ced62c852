"""Open WebUI with Valkey-managed websockets on Docker, as Pulumi components."""

from ._config import ConfigurationError, load_settings, settings_from_mapping
from ._load_balancer import LoadBalancer
from ._network import Network
from ._open_webui import OpenWebUI, websocket_env
from ._postgres import Postgres, database_url
from ._redis import redis_url
from ._settings import (
    MANAGED_ENV,
    DatabaseSettings,
    DockerSettings,
    LoadBalancerSettings,
    NetworkSettings,
    OpenWebUISettings,
    StackSettings,
    ValkeySettings,
)
from ._stack import OpenWebUIStack
from ._valkey import Valkey

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

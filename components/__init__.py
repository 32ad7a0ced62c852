"""Open WebUI with Valkey-managed websockets on Docker, as Pulumi components."""

from ._config import ConfigurationError, load_settings, settings_from_mapping
from ._network import Network
from ._open_webui import OpenWebUI, websocket_env
from ._redis import redis_url
from ._settings import (
    MANAGED_ENV,
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
    "Network",
    "NetworkSettings",
    "OpenWebUI",
    "OpenWebUISettings",
    "OpenWebUIStack",
    "StackSettings",
    "Valkey",
    "ValkeySettings",
    "load_settings",
    "redis_url",
    "settings_from_mapping",
    "websocket_env",
]

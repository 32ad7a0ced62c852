"""The stack's settings: validated, plain configuration (no Pulumi Outputs), a floor below ``components.core``
that imports nothing of the library but ``components/rules.py``.

``types``: the annotated field types; ``formats``: other software's rules (origins, redis-py URLs, keys, PEM, TCP
timers); ``images``: the default images; one module per configuration block (``network``, ``valkey``,
``open_webui`` with ``self_heal``, ``database``, ``logs``, ``load_balancer``, ``redis``, ``docker``, ``swarm``);
``stack``: ``StackSettings`` and the rules across blocks; ``secrets``: the secret keys, read from the annotations.
Field names are snake_case in Python and camelCase in stack configuration. Defaults follow the tutorial, corrected
where it was wrong (docs/configuration.md, "Where the tutorial was wrong")."""

from __future__ import annotations

from ..rules import HEALTH_CHECK_INTERVAL, default_health_check_interval, health_check_interval_fits
from ._model import (
    HIDDEN_INPUT,
)
from .database import (
    DatabaseSettings,
)
from .docker import (
    DockerSettings,
)
from .formats import (
    MIN_TCP_RETRIES2,
    REDIS_SCHEMES,
    SWARM_NAME_LIMIT,
    TCP_RTO_MIN,
    TLS_QUERY_PARAMETERS,
    URL_QUERY_PARAMETERS,
    cors_problems,
    database_url_problem,
    oauth_key_problem,
    pem_problem,
    redis_url_problem,
    redis_url_problems,
    retransmission_budget,
    tcp_retries,
    url_origin,
    websocket_redis_options,
)
from .images import (
    BRANCH_TAGS,
    DEFAULT_IMAGES,
    HAPROXY_IMAGE,
    OPEN_WEBUI_IMAGE,
    OPEN_WEBUI_VERSION,
    POSTGRES_IMAGE,
    VALKEY_IMAGE,
    moving_image_problems,
    moving_tag,
    rolls_side_by_side,
)
from .load_balancer import (
    LoadBalancerSettings,
)
from .logs import (
    LogsSettings,
)
from .network import (
    NetworkSettings,
)
from .open_webui import (
    OpenWebUISettings,
)
from .redis import (
    DEFAULT_KEY_PREFIX,
    SENTINEL_CONNECT_TIMEOUT,
    RedisSettings,
    RedisTLSSettings,
    SentinelSettings,
)
from .secrets import (
    secret_paths,
)
from .self_heal import (
    SelfHealSettings,
)
from .stack import (
    StackSettings,
)
from .swarm import (
    S3Settings,
    SharedVolumeSettings,
    SwarmSettings,
)
from .types import (
    MANAGED_ENV,
    DockerName,
    Engine,
    EnvName,
    EnvValue,
    ImageReference,
    IPAddress,
    JsonFileOption,
    LogSize,
    MemorySize,
    NodeLabel,
    Port,
    PostgresURL,
    PublicURL,
    RedisDatabase,
    RestartPolicy,
    S3Bucket,
    SaveSchedule,
    Seconds,
    SentinelHost,
    UpgradeStrategy,
)
from .valkey import (
    ValkeySettings,
)

__all__ = [
    "BRANCH_TAGS",
    "DEFAULT_IMAGES",
    "DEFAULT_KEY_PREFIX",
    "HAPROXY_IMAGE",
    "HEALTH_CHECK_INTERVAL",
    "HIDDEN_INPUT",
    "MANAGED_ENV",
    "MIN_TCP_RETRIES2",
    "OPEN_WEBUI_IMAGE",
    "OPEN_WEBUI_VERSION",
    "POSTGRES_IMAGE",
    "REDIS_SCHEMES",
    "SENTINEL_CONNECT_TIMEOUT",
    "SWARM_NAME_LIMIT",
    "TCP_RTO_MIN",
    "TLS_QUERY_PARAMETERS",
    "URL_QUERY_PARAMETERS",
    "VALKEY_IMAGE",
    "DatabaseSettings",
    "DockerName",
    "DockerSettings",
    "Engine",
    "EnvName",
    "EnvValue",
    "IPAddress",
    "ImageReference",
    "JsonFileOption",
    "LoadBalancerSettings",
    "LogSize",
    "LogsSettings",
    "MemorySize",
    "NetworkSettings",
    "NodeLabel",
    "OpenWebUISettings",
    "Port",
    "PostgresURL",
    "PublicURL",
    "RedisDatabase",
    "RedisSettings",
    "RedisTLSSettings",
    "RestartPolicy",
    "S3Bucket",
    "S3Settings",
    "SaveSchedule",
    "Seconds",
    "SelfHealSettings",
    "SentinelHost",
    "SentinelSettings",
    "SharedVolumeSettings",
    "StackSettings",
    "SwarmSettings",
    "UpgradeStrategy",
    "ValkeySettings",
    "cors_problems",
    "database_url_problem",
    "default_health_check_interval",
    "health_check_interval_fits",
    "moving_image_problems",
    "moving_tag",
    "oauth_key_problem",
    "pem_problem",
    "redis_url_problem",
    "redis_url_problems",
    "retransmission_budget",
    "rolls_side_by_side",
    "secret_paths",
    "tcp_retries",
    "url_origin",
    "websocket_redis_options",
]

"""The annotated types of the settings fields (Docker names, image references, ports, sizes, environment
variables, URLs ...) and the small validators behind them. Each raises ``ValueError`` with what is allowed, and
never quotes the value (it may be a secret)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr

from .formats import _HOST_LABEL, database_url_problem, url_origin

_DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# Docker's reference grammar (distribution/reference), without the rarely used upper-case-free checks on
# registry hosts: [registry[:port]/]path[:tag][@digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    r"(?:(?P<registry>(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+:[0-9]+|"
    r"[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+:[0-9]+))/)?"
    rf"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SAVE_SCHEDULE = re.compile(r"(?:[0-9]+ [0-9]+(?: [0-9]+ [0-9]+)*)?")
_MEMORY = re.compile(r"[0-9]+(?:[kKmMgG][bB]?)?")
_LOG_SIZE = re.compile(r"[1-9][0-9]{0,5}[kmg]")


def _docker_name(value: str) -> str:
    if not _DOCKER_NAME.fullmatch(value):
        raise ValueError("must be a Docker object name: a letter or digit first, then letters, digits, '_', '.' or '-'")
    return value


def _image_reference(value: str) -> str:
    match = _IMAGE_REFERENCE.fullmatch(value)
    if not match or not (match["tag"] or match["digest"]):
        raise ValueError(
            "must be an image reference with a tag or digest, such as "
            "'docker.io/valkey/valkey:8.0.13-alpine' or 'ghcr.io/open-webui/open-webui@sha256:<64 hex>'"
        )
    return value


def _log_size(value: str) -> str:
    if not _LOG_SIZE.fullmatch(value):
        raise ValueError("must be a size with its unit k, m or g, such as '10m' or '500k'")
    return value


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address, such as '127.0.0.1' or '0.0.0.0'") from None


def _save_schedule(value: str) -> str:
    if not _SAVE_SCHEDULE.fullmatch(value):
        raise ValueError(
            "must be pairs of '<seconds> <changes>' separated by spaces, such as '30 1' or '3600 1 300 100', "
            "or '' to turn snapshots off"
        )
    return value


def _memory(value: str) -> str:
    if not _MEMORY.fullmatch(value):
        raise ValueError("must be a size in bytes with an optional unit, such as '256mb' or '1gb'")
    return value


def _postgres_url(value: SecretStr) -> SecretStr:
    problem = database_url_problem(value.get_secret_value())
    if problem:
        raise ValueError(problem)
    return value


def _env_value(value: object) -> object:
    # YAML turns `true` and `3` into bool and int; environment variables are strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be an environment variable name: letters, digits and '_', not starting with a digit")
    return value


MANAGED_ENV: tuple[str, ...] = (
    "ENABLE_WEBSOCKET_SUPPORT",
    "WEBSOCKET_MANAGER",
    "WEBSOCKET_REDIS_URL",
    "REDIS_URL",
    "WEBUI_SECRET_KEY",
    # The same on every replica (Open WebUI's scaling guide): a generated secret, and one process per container.
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY",
    "UVICORN_WORKERS",
    # These would point Open WebUI away from the Valkey this stack manages, or off its data volume and port.
    "WEBSOCKET_REDIS_CLUSTER",
    "REDIS_CLUSTER",
    "WEBSOCKET_SENTINEL_HOSTS",
    "REDIS_SENTINEL_HOSTS",
    "WEBSOCKET_SENTINEL_PORT",
    "REDIS_SENTINEL_PORT",
    # Set from the `redis` block (an external server, Sentinel, the key prefix).
    "REDIS_KEY_PREFIX",
    "REDIS_SOCKET_CONNECT_TIMEOUT",
    "REDIS_SENTINEL_MAX_RETRY_COUNT",
    "REDIS_RECONNECT_DELAY",
    "DATA_DIR",
    "PORT",
    # Set from `database` and `openWebui.replicas`: several replicas must share one database.
    "DATABASE_URL",
    "VECTOR_DB",
    "PGVECTOR_DB_URL",
    "ENABLE_DB_MIGRATIONS",
    # Together these build a DATABASE_URL that wins over the stack's.
    "DATABASE_TYPE",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_NAME",
)
"""Open WebUI environment variables that the stack sets itself and ``openWebui.env`` may not override."""


_MANAGED_ENV_HINTS = {
    "OAUTH_SESSION_TOKEN_ENCRYPTION_KEY": "; set it as the secret openWebui.oauthSessionTokenEncryptionKey",
    "WEBUI_SECRET_KEY": "; set it as the secret openWebui.secretKey",
    "UVICORN_WORKERS": "; scale with openWebui.replicas (one process per container)",
    "REDIS_URL": "; an external server is redis.url (a secret)",
    "WEBSOCKET_REDIS_URL": "; an external server is redis.url, or redis.websocketUrl for a second one (secrets)",
    "REDIS_SENTINEL_HOSTS": "; set redis.sentinel.hosts",
    "WEBSOCKET_SENTINEL_HOSTS": "; set redis.sentinel.hosts",
    "REDIS_SENTINEL_PORT": "; set redis.sentinel.port",
    "WEBSOCKET_SENTINEL_PORT": "; set redis.sentinel.port",
    "REDIS_KEY_PREFIX": "; set redis.keyPrefix",
    "REDIS_SOCKET_CONNECT_TIMEOUT": "; set redis.socketConnectTimeout",
    "REDIS_SENTINEL_MAX_RETRY_COUNT": "; set redis.sentinel.maxRetryCount",
    "REDIS_RECONNECT_DELAY": "; set redis.sentinel.reconnectDelay",
}


def _unmanaged_env_name(value: str) -> str:
    if value.upper() in MANAGED_ENV:
        raise ValueError(
            "is set by the stack and cannot be overridden; any variable but the managed ones may be set "
            f"(docs/configuration.md: Default settings, 'Managed env'){_MANAGED_ENV_HINTS.get(value.upper(), '')}"
        )
    return value


def _public_url(value: str) -> str:
    if url_origin(value) is None or any(char.isspace() for char in value):
        raise ValueError(
            "must be an http:// or https:// URL with a host as a browser sends it (letters, digits, '-' and '.', "
            "an IDN host in its xn-- form, or an IP address) and no user or password, such as "
            "'https://chat.example.com'"
        )
    return value


def _sentinel_host(value: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else value
    if ":" in text and not text.startswith("["):
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError(
                "must be a host name or IP address without a port: Open WebUI gives every sentinel the one port "
                "redis.sentinel.port"
            ) from None
        return text
    labels = text.removesuffix(".").split(".")
    if not text or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(
            "must be a host name (letters, digits, '-' and '.') or an IP address, such as 'sentinel-1' or '10.0.0.5'"
        )
    return text


SentinelHost = Annotated[str, AfterValidator(_sentinel_host)]


_NODE_LABEL = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _node_label(value: str) -> str:
    if not _NODE_LABEL.fullmatch(value):
        raise ValueError("must be a node label key: letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _s3_bucket(value: str) -> str:
    if not _S3_BUCKET.fullmatch(value):
        raise ValueError("must be an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-'")
    return value


NodeLabel = Annotated[str, AfterValidator(_node_label)]
S3Bucket = Annotated[str, AfterValidator(_s3_bucket)]


DockerName = Annotated[str, AfterValidator(_docker_name)]
"""The name of a Docker container, volume, network or network alias."""
ImageReference = Annotated[str, AfterValidator(_image_reference)]
"""An image reference with a tag or a digest."""
IPAddress = Annotated[str, AfterValidator(_ip_address)]
Port = Annotated[int, Field(ge=1, le=65535)]
RedisDatabase = Annotated[int, Field(ge=0, le=15)]
"""A database index of a Valkey server with the default ``databases 16``."""
Seconds = Annotated[int, Field(ge=1, le=3600)]
RestartPolicy = Literal["no", "on-failure", "always", "unless-stopped"]
SaveSchedule = Annotated[str, AfterValidator(_save_schedule)]
MemorySize = Annotated[str, AfterValidator(_memory)]
LogSize = Annotated[str, AfterValidator(_log_size)]
"""A json-file log's ``max-size``, in the form Docker keeps and reads back (``10m``)."""
JsonFileOption = Literal["compress", "labels", "labels-regex", "env", "env-regex", "tag"]
"""json-file's options besides the two bounds (Docker's ``daemon/logger/jsonfilelog``)."""
EnvName = Annotated[str, AfterValidator(_env_name), AfterValidator(_unmanaged_env_name)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]
PostgresURL = Annotated[SecretStr, AfterValidator(_postgres_url)]
PublicURL = Annotated[str, AfterValidator(_public_url)]
UpgradeStrategy = Literal["recreate", "rolling"]
Engine = Literal["docker", "swarm"]


_RETAIN = "Keep the data volume when the stack is destroyed or the volume replaced. `false` for throwaway stacks."
